//! Folders of labelled images (`root/<class>/<images>`): their header pass
//! (`scanImageFolder`, what `info --data DIR` prints) and their loading
//! (`loadImageFolder`), both off the event loop, the loading with progress.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use googlenet_core::data::folder::{self, FolderOptions, FolderScan, Layout, Skipped};
use googlenet_core::data::{folder_datasets, Dataset};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::dataset::NativeDataset;
use crate::errors::{caught, guarded};

/// How a folder is read; absent fields take the core's defaults (the
/// `folder` options of the schema, checked there before they get here).
#[napi(object)]
pub struct NativeFolderOptions {
    pub test_split: Option<f64>,
    pub split_seed: Option<u32>,
    pub channels: Option<u32>,
    pub height: Option<u32>,
    pub width: Option<u32>,
    pub strict: Option<bool>,
}

impl NativeFolderOptions {
    fn to_core(&self) -> Result<FolderOptions> {
        let defaults = FolderOptions::default();
        let size = match (self.height, self.width) {
            (Some(h), Some(w)) => Some((h as usize, w as usize)),
            (None, None) => None,
            _ => return Err(Error::new(Status::InvalidArg, "height and width go together: give both or neither")),
        };
        Ok(FolderOptions {
            channels: self.channels.map(|c| c as usize),
            size,
            test_split: self.test_split.unwrap_or(defaults.test_split),
            seed: self.split_seed.map_or(defaults.seed, u64::from),
            strict: self.strict.unwrap_or(defaults.strict),
            ..defaults
        })
    }
}

/// A file left out of a folder, and why.
#[napi(object)]
pub struct NativeSkipped {
    pub path: String,
    pub reason: String,
}

fn skipped_to_js(skipped: &[Skipped]) -> Vec<NativeSkipped> {
    skipped.iter().map(|s| NativeSkipped { path: s.path.display().to_string(), reason: s.reason.clone() }).collect()
}

/// One image size of a folder and how many images have it.
#[napi(object)]
pub struct NativeImageSize {
    pub height: u32,
    pub width: u32,
    pub count: u32,
}

/// What the header pass found: no pixel decoded.
#[napi(object)]
pub struct NativeFolderScan {
    pub root: String,
    pub class_names: Vec<String>,
    /// `'splits'` (the folder's train/ and test/) or `'held-out'`.
    pub layout: String,
    /// The share held out per class (for `'held-out'`).
    pub test_split: Option<f64>,
    /// Per class, its training and test image counts.
    pub train_counts: Vec<u32>,
    pub test_counts: Vec<u32>,
    /// Image sizes, most common first.
    pub sizes: Vec<NativeImageSize>,
    pub colour_images: u32,
    pub channels: u32,
    pub height: u32,
    pub width: u32,
    /// Bytes one decoded image takes (channels × height × width).
    pub bytes_per_image: f64,
    /// Bytes the decoded set takes.
    pub bytes: f64,
    /// The most a folder may decode to.
    pub max_bytes: f64,
    pub skipped: Vec<NativeSkipped>,
}

fn scan_to_js(scan: &FolderScan, max_bytes: u64) -> NativeFolderScan {
    let (test_split, layout) = match scan.layout {
        Layout::Splits => (None, "splits"),
        Layout::HeldOut { test_split } => (Some(test_split), "held-out"),
    };
    NativeFolderScan {
        root: scan.root.display().to_string(),
        class_names: scan.class_names.clone(),
        layout: layout.to_string(),
        test_split,
        train_counts: scan.counts.iter().map(|c| c[0] as u32).collect(),
        test_counts: scan.counts.iter().map(|c| c[1] as u32).collect(),
        sizes: scan.sizes.iter().map(|&((h, w), n)| NativeImageSize { height: h as u32, width: w as u32, count: n as u32 }).collect(),
        colour_images: scan.files.iter().filter(|f| f.is_colour).count() as u32,
        channels: scan.channels as u32,
        height: scan.size.0 as u32,
        width: scan.size.1 as u32,
        bytes_per_image: (scan.channels * scan.size.0 * scan.size.1) as f64,
        bytes: scan.bytes as f64,
        max_bytes: max_bytes as f64,
        skipped: skipped_to_js(&scan.skipped),
    }
}

pub struct ScanFolderTask {
    root: PathBuf,
    options: FolderOptions,
}

impl Task for ScanFolderTask {
    type Output = FolderScan;
    type JsValue = NativeFolderScan;

    fn compute(&mut self) -> Result<FolderScan> {
        guarded(|| folder::scan_folder(&self.root, &self.options))
    }

    fn resolve(&mut self, _env: Env, scan: FolderScan) -> Result<NativeFolderScan> {
        caught(|| Ok(scan_to_js(&scan, self.options.max_bytes)))
    }
}

/// Reads the headers of a folder of images: its classes, counts, sizes and
/// what would be skipped, without decoding a pixel. Errors name the path.
#[napi(catch_unwind, ts_return_type = "Promise<NativeFolderScan>")]
pub fn scan_image_folder(root: String, options: NativeFolderOptions) -> Result<AsyncTask<ScanFolderTask>> {
    Ok(AsyncTask::new(ScanFolderTask { root: PathBuf::from(root), options: options.to_core()? }))
}

/// Images decoded so far, and in all.
#[napi(object)]
#[derive(Clone, Copy)]
pub struct NativeLoadProgress {
    pub done: u32,
    pub total: u32,
}

type LoadCallback = ThreadsafeFunction<NativeLoadProgress, (), NativeLoadProgress, Status, false>;

/// The least time between two progress events.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A folder read whole: its two splits and what was skipped.
#[napi]
pub struct NativeFolder {
    train: Arc<Dataset>,
    test: Arc<Dataset>,
    root: String,
    layout: String,
    skipped: Vec<Skipped>,
}

#[napi]
impl NativeFolder {
    #[napi(getter, catch_unwind)]
    pub fn train(&self) -> NativeDataset {
        NativeDataset::shared(self.train.clone(), Some(format!("the training images of {}", self.root)))
    }

    #[napi(getter, catch_unwind)]
    pub fn test(&self) -> NativeDataset {
        NativeDataset::shared(self.test.clone(), Some(format!("the test images of {}", self.root)))
    }

    /// `'splits'` or `'held-out'`.
    #[napi(getter, catch_unwind)]
    pub fn layout(&self) -> String {
        self.layout.clone()
    }

    /// Files left out (damaged, unreadable, not images), with why.
    #[napi(getter, catch_unwind)]
    pub fn skipped(&self) -> Vec<NativeSkipped> {
        skipped_to_js(&self.skipped)
    }
}

pub struct LoadFolderTask {
    root: PathBuf,
    options: FolderOptions,
    on_progress: Option<LoadCallback>,
}

/// What a folder load hands to JS.
pub struct LoadedFolder {
    root: PathBuf,
    layout: Layout,
    skipped: Vec<Skipped>,
    train: Dataset,
    test: Dataset,
}

impl LoadFolderTask {
    /// Loads the folder, telling `on_progress` at most every [`PROGRESS_EVERY`] (and at the end).
    fn load(&self) -> googlenet_core::Result<LoadedFolder> {
        let started = Instant::now();
        let last = AtomicU64::new(0);
        let progress = |done: usize, total: usize| {
            let Some(callback) = &self.on_progress else { return };
            let now = started.elapsed().as_millis() as u64;
            let previous = last.load(Ordering::Relaxed);
            let due = now >= previous + PROGRESS_EVERY.as_millis() as u64 || done == total;
            if due && last.compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
                let _ =
                    callback.call(NativeLoadProgress { done: done as u32, total: total as u32 }, ThreadsafeFunctionCallMode::NonBlocking);
            }
        };
        let data = folder::load_folder(&self.root, &self.options, &progress)?;
        let (root, layout, skipped) = (data.root.clone(), data.layout, data.skipped.clone());
        let (train, test) = folder_datasets(data)?;
        Ok(LoadedFolder { root, layout, skipped, train, test })
    }
}

impl Task for LoadFolderTask {
    type Output = LoadedFolder;
    type JsValue = NativeFolder;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| self.load())
    }

    fn resolve(&mut self, _env: Env, loaded: LoadedFolder) -> Result<NativeFolder> {
        caught(|| {
            let layout = if loaded.layout == Layout::Splits { "splits" } else { "held-out" };
            Ok(NativeFolder {
                train: Arc::new(loaded.train),
                test: Arc::new(loaded.test),
                root: loaded.root.display().to_string(),
                layout: layout.to_string(),
                skipped: loaded.skipped,
            })
        })
    }
}

/// Reads a folder of labelled images into a training and a test split,
/// decoding on every core; `onProgress` hears how far decoding got (at
/// most every 100 ms, and at the end).
#[napi(catch_unwind, ts_return_type = "Promise<NativeFolder>")]
pub fn load_image_folder(
    root: String,
    options: NativeFolderOptions,
    #[napi(ts_arg_type = "((progress: NativeLoadProgress) => void) | undefined | null")] on_progress: Option<LoadCallback>,
) -> Result<AsyncTask<LoadFolderTask>> {
    Ok(AsyncTask::new(LoadFolderTask { root: PathBuf::from(root), options: options.to_core()?, on_progress }))
}
