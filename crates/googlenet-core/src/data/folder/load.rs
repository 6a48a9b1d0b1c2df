//! The decoding pass: every image of a scanned folder decoded in parallel
//! straight into its split's preallocated buffer.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::decode::decode_into;
use super::{scan_folder, FolderData, FolderOptions, FolderScan, Images, Skipped, Split};
use crate::{Error, Result};

/// Progress is reported about this many times over a load (and at its end).
const PROGRESS_STEPS: usize = 1000;

/// Counts decoded images and tells `progress` every so often.
struct Progress<'a> {
    done: AtomicUsize,
    total: usize,
    step: usize,
    report: &'a (dyn Fn(usize, usize) + Sync),
}

impl Progress<'_> {
    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if done.is_multiple_of(self.step) || done == self.total {
            (self.report)(done, self.total);
        }
    }
}

/// The refusal of a set whose decoded bytes exceed `max_bytes`.
fn too_many_bytes(scan: &FolderScan, max_bytes: u64) -> Error {
    let (c, (h, w)) = (scan.channels, scan.size);
    Error::data(
        &scan.root,
        format!(
            "the decoded images would take {} bytes: {} images of {c}×{h}×{w} = {} bytes each, more than the limit of {max_bytes} bytes; \
             a smaller image size, 1 channel or fewer images need less",
            scan.bytes,
            scan.files.len(),
            c * h * w
        ),
    )
}

/// Decodes the images of `split` into one buffer: per image its decode
/// error, if any (the image's bytes are then left zero).
fn decode_split(scan: &FolderScan, split: Split, progress: &Progress) -> Result<(Images, Vec<Option<String>>)> {
    let sources: Vec<usize> = (0..scan.files.len()).filter(|&i| scan.files[i].split == split).collect();
    let image_bytes = scan.channels * scan.size.0 * scan.size.1;
    let mut pixels = Vec::new();
    // scan.bytes, checked against max_bytes, bounds this product.
    let len = sources.len() * image_bytes;
    if pixels.try_reserve_exact(len).is_err() {
        return Err(Error::OutOfMemory(format!("{len} bytes for the decoded images of {}", scan.root.display())));
    }
    pixels.resize(len, 0u8);
    let errors = pixels
        .par_chunks_mut(image_bytes)
        .zip(sources.par_iter())
        .map(|(out, &i)| {
            let result = decode_into(&scan.files[i].path, scan.channels, scan.size, out);
            progress.tick();
            result.err()
        })
        .collect();
    let labels = sources.iter().map(|&i| scan.files[i].class as u8).collect();
    Ok((Images { pixels, labels, sources }, errors))
}

/// Drops the images that failed to decode from `images`, moving the rest
/// down in place; their files are added to `skipped`.
fn compact(images: &mut Images, errors: Vec<Option<String>>, image_bytes: usize, scan: &FolderScan, skipped: &mut Vec<Skipped>) {
    let mut kept = 0;
    for (i, error) in errors.into_iter().enumerate() {
        match error {
            Some(reason) => skipped.push(Skipped { path: scan.files[images.sources[i]].path.clone(), reason }),
            None => {
                if kept != i {
                    images.pixels.copy_within(i * image_bytes..(i + 1) * image_bytes, kept * image_bytes);
                    images.labels[kept] = images.labels[i];
                    images.sources[kept] = images.sources[i];
                }
                kept += 1;
            }
        }
    }
    images.pixels.truncate(kept * image_bytes);
    images.labels.truncate(kept);
    images.sources.truncate(kept);
}

/// Reads a folder of labelled images (see the [module](super) doc): scans it
/// ([`scan_folder`]), refuses a set whose decoded bytes exceed
/// [`FolderOptions::max_bytes`] before decoding anything, then decodes every
/// image in parallel into its place. `progress(done, total)` is called from
/// the decoding threads, about a thousand times in all and once with
/// `done == total` (calls from different threads may arrive out of order).
/// An image that fails to decode is left out and listed in
/// [`FolderData::skipped`], or with [`FolderOptions::strict`] refused.
pub fn load_folder(root: &Path, options: &FolderOptions, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<FolderData> {
    let mut scan = scan_folder(root, options)?;
    if scan.bytes > options.max_bytes || usize::try_from(scan.bytes).is_err() {
        return Err(too_many_bytes(&scan, options.max_bytes));
    }
    let total = scan.files.len();
    let progress = Progress { done: AtomicUsize::new(0), total, step: total.div_ceil(PROGRESS_STEPS).max(1), report: progress };
    let (mut train, train_errors) = decode_split(&scan, Split::Train, &progress)?;
    let (mut test, test_errors) = decode_split(&scan, Split::Test, &progress)?;
    if options.strict {
        let failed = |images: &Images, errors: &[Option<String>]| {
            errors.iter().zip(&images.sources).find_map(|(e, &i)| Some((scan.files[i].path.clone(), e.clone()?)))
        };
        if let Some((path, reason)) = failed(&train, &train_errors).or_else(|| failed(&test, &test_errors)) {
            return Err(Error::data(path, reason));
        }
    }
    let image_bytes = scan.channels * scan.size.0 * scan.size.1;
    let mut skipped = std::mem::take(&mut scan.skipped);
    compact(&mut train, train_errors, image_bytes, &scan, &mut skipped);
    compact(&mut test, test_errors, image_bytes, &scan, &mut skipped);
    let FolderScan { root, class_names, layout, files, channels, size, .. } = scan;
    Ok(FolderData { root, class_names, layout, files, channels, size, train, test, skipped })
}
