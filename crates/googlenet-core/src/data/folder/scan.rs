//! The header pass: a folder's image files listed, each one's header read
//! (in parallel), the splits decided, and the output's channels, size and
//! bytes resolved.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::header::read_header;
use super::layout::find_classes;
use super::split::held_out;
use super::walk::Walker;
use super::{FolderOptions, FolderScan, ImageFile, Layout, Split};
use crate::options::{check_value, Command, Value};
use crate::{Error, Result};

/// Refuses options out of the ranges the options table declares for them.
fn check_options(options: &FolderOptions) -> Result<()> {
    let check = |name: &str, value: Value| check_value(Command::Folder, name, value).map_err(Error::InvalidOption);
    if let Some(channels) = options.channels {
        check("channels", channels.into())?;
    }
    if let Some((height, width)) = options.size {
        check("height", height.into())?;
        check("width", width.into())?;
    }
    check("testSplit", options.test_split.into())
}

/// The index of a split in [`FolderScan::counts`].
fn part(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Test => 1,
    }
}

/// One file to read the header of.
struct Candidate {
    path: PathBuf,
    class: usize,
    /// Decided by the layout (train/, test/), or later by the hold-out.
    split: Option<Split>,
}

/// The error for a class folder in which no image was found.
fn no_images(walker: &Walker, dir: &Path) -> Error {
    let skipped: Vec<_> = walker.skipped.iter().filter(|s| s.path.starts_with(dir)).collect();
    let why = match skipped.first() {
        None => String::new(),
        Some(first) => format!(" ({} entries under it skipped; the first: {}: {})", skipped.len(), first.path.display(), first.reason),
    };
    Error::data(dir, format!("holds no readable images (PNG, JPEG, BMP, GIF or WebP){why}: a class without images cannot be learned"))
}

/// Lists the folder, reads every image's header and decides the splits;
/// the output's channels and size are those of `options`, or detected (see
/// the [module](super) doc for the rules). Refusals (a missing root, no
/// class folders, a single class, a class without images, more than 256
/// classes) are errors naming the folder; files left out are listed in
/// [`FolderScan::skipped`]. Reads only what headers need; writes nothing.
pub fn scan_folder(root: &Path, options: &FolderOptions) -> Result<FolderScan> {
    check_options(options)?;
    let mut walker = Walker::new(options.strict);
    let (layout, classes) = find_classes(&mut walker, root, options)?;
    let class_dirs: Vec<PathBuf> = classes.iter().flat_map(|c| c.dirs.iter().map(|(dir, _)| dir.clone())).collect();
    let mut found = walker.images_of(&class_dirs)?.into_iter();
    let mut candidates = Vec::new();
    for (class, folders) in classes.iter().enumerate() {
        for ((_, split), images) in folders.dirs.iter().zip(&mut found) {
            candidates.extend(images.into_iter().map(|path| Candidate { path, class, split: *split }));
        }
    }
    let headers: Vec<_> = candidates.par_iter().map(|c| read_header(&c.path)).collect();
    let mut files = Vec::with_capacity(candidates.len());
    for (candidate, header) in candidates.into_iter().zip(headers) {
        match header {
            Ok(h) => files.push(ImageFile {
                path: candidate.path,
                class: candidate.class,
                split: candidate.split.unwrap_or(Split::Train),
                size: h.size,
                is_colour: h.is_colour,
            }),
            Err(reason) => walker.skip_unreadable(candidate.path, reason)?,
        }
    }
    let mut counts = vec![[0usize; 2]; classes.len()];
    for file in &files {
        counts[file.class][part(file.split)] += 1;
    }
    for (class, folders) in classes.iter().enumerate() {
        for (dir, split) in &folders.dirs {
            if counts[class][split.map_or(0, part)] == 0 {
                return Err(no_images(&walker, dir));
            }
        }
    }
    if let Layout::HeldOut { test_split } = layout {
        hold_out(&mut files, &mut counts, test_split, options.seed);
    }
    let sizes = size_histogram(&files);
    let channels = options.channels.unwrap_or(if files.iter().any(|f| f.is_colour) { 3 } else { 1 });
    let size = options.size.unwrap_or(sizes[0].0);
    let bytes = [channels, size.0, size.1].iter().try_fold(files.len() as u64, |n, &k| n.checked_mul(k as u64)).unwrap_or(u64::MAX);
    Ok(FolderScan {
        root: root.to_path_buf(),
        class_names: classes.into_iter().map(|c| c.name).collect(),
        layout,
        files,
        counts,
        sizes,
        channels,
        size,
        bytes,
        skipped: walker.skipped,
    })
}

/// Moves each class's held-out images to the test split; `files` are by
/// class, each class's in order.
fn hold_out(files: &mut [ImageFile], counts: &mut [[usize; 2]], test_split: f64, seed: u64) {
    for chunk in files.chunk_by_mut(|a, b| a.class == b.class) {
        let class = chunk[0].class;
        let mask = held_out(chunk.len(), test_split, seed, class);
        for (file, test) in chunk.iter_mut().zip(mask) {
            if test {
                file.split = Split::Test;
            }
        }
        let test = chunk.iter().filter(|f| f.split == Split::Test).count();
        counts[class] = [chunk.len() - test, test];
    }
}

/// Image sizes with their counts: most common first, then the larger area,
/// then the smaller (height, width).
fn size_histogram(files: &[ImageFile]) -> Vec<((usize, usize), usize)> {
    let mut counts: HashMap<(usize, usize), usize> = HashMap::new();
    for file in files {
        *counts.entry(file.size).or_default() += 1;
    }
    let mut sizes: Vec<_> = counts.into_iter().collect();
    sizes.sort_by_key(|&((h, w), n)| (std::cmp::Reverse(n), std::cmp::Reverse(h * w), (h, w)));
    sizes
}
