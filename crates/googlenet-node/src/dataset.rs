use std::path::{Path, PathBuf};
use std::sync::Arc;

use googlenet_core::data::{self, Dataset, ImageShape, Split};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{caught, guarded, range_checked};

/// A labelled image set held in Rust memory; JS only ever holds this handle.
#[napi]
pub struct NativeDataset {
    pub(crate) inner: Arc<Dataset>,
    /// The images file it (or the dataset it was taken from) was read
    /// from, and how many images that file held.
    origin: Option<(String, usize)>,
}

impl NativeDataset {
    fn new(inner: Dataset, file: Option<String>) -> Self {
        Self::shared(Arc::new(inner), file)
    }

    /// A handle on a dataset others hold too; `source` names where it came from.
    pub(crate) fn shared(inner: Arc<Dataset>, source: Option<String>) -> Self {
        let origin = source.map(|f| (f, inner.len()));
        Self { inner, origin }
    }
}

#[napi]
impl NativeDataset {
    /// Copies the arrays into Rust memory. `images`: count×channels×height×width
    /// bytes (0..255, each image's channels one plane after another);
    /// `labels`: count bytes; `classNames`: one per class (default: numbered
    /// 0 to the largest label). Mismatched sizes, a label without a class
    /// or bad class names throw a `RangeError` with the core's message.
    #[napi(factory, catch_unwind)]
    pub fn from_arrays(
        env: Env,
        images: Uint8Array,
        labels: Uint8Array,
        channels: u32,
        height: u32,
        width: u32,
        class_names: Option<Vec<String>>,
    ) -> Result<Self> {
        let shape = ImageShape { channels: channels as usize, height: height as usize, width: width as usize };
        let dataset = range_checked(&env, guarded(|| Dataset::with_classes(images.to_vec(), labels.to_vec(), shape, class_names)))?;
        Ok(Self::new(dataset, None))
    }

    /// A dataset from the bytes of an IDX images file and an IDX labels
    /// file (each raw or gzipped), for hosts with no file system (a browser
    /// tab); `imagesName` and `labelsName` stand for the files in errors.
    #[napi(factory, catch_unwind)]
    pub fn from_idx(images: Uint8Array, labels: Uint8Array, images_name: String, labels_name: String) -> Result<Self> {
        let dataset =
            guarded(|| data::dataset_from_idx_bytes(images.to_vec(), labels.to_vec(), Path::new(&images_name), Path::new(&labels_name)))?;
        Ok(Self::new(dataset, Some(images_name)))
    }

    /// Where the images came from, for messages about them: the IDX file,
    /// or "the first N images of FILE" after `take`; null for arrays.
    #[napi(getter, catch_unwind)]
    pub fn source(&self) -> Option<String> {
        let (file, read) = self.origin.as_ref()?;
        Some(if self.inner.len() == *read { file.clone() } else { format!("the first {} images of {file}", self.inner.len()) })
    }

    #[napi(getter, catch_unwind)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    #[napi(getter, catch_unwind)]
    pub fn channels(&self) -> u32 {
        self.inner.channels() as u32
    }

    /// One name per class; a label indexes it.
    #[napi(getter, catch_unwind)]
    pub fn class_names(&self) -> Vec<String> {
        self.inner.classes().to_vec()
    }

    /// How many images each class has.
    #[napi(catch_unwind)]
    pub fn class_counts(&self) -> Vec<u32> {
        self.inner.class_counts().into_iter().map(|c| c as u32).collect()
    }

    #[napi(getter, catch_unwind)]
    pub fn height(&self) -> u32 {
        self.inner.height() as u32
    }

    #[napi(getter, catch_unwind)]
    pub fn width(&self) -> u32 {
        self.inner.width() as u32
    }

    /// Every label, in order (a copy).
    #[napi(catch_unwind)]
    pub fn labels(&self) -> Buffer {
        self.inner.labels().to_vec().into()
    }

    /// The pixels of image `index` (channels×height×width bytes, a copy).
    #[napi(catch_unwind)]
    pub fn image(&self, index: u32) -> Result<Buffer> {
        let i = index as usize;
        if i >= self.inner.len() {
            return Err(Error::new(Status::InvalidArg, format!("image index {i} is out of range (dataset of {})", self.inner.len())));
        }
        Ok(self.inner.image(i).to_vec().into())
    }

    /// The same images under `names`, which must keep this set's class
    /// names at the same labels and may add more (a test split lacking the
    /// last classes takes its training split's): a `RangeError` otherwise.
    #[napi(catch_unwind)]
    pub fn with_class_names(&self, env: Env, names: Vec<String>) -> Result<NativeDataset> {
        let inner = range_checked(&env, guarded(|| (*self.inner).clone().with_class_names(&names)))?;
        Ok(NativeDataset { inner: Arc::new(inner), origin: self.origin.clone() })
    }

    /// The first `count` samples (fewer if the set is smaller), as a new dataset.
    #[napi(catch_unwind)]
    pub fn take(&self, count: u32) -> NativeDataset {
        NativeDataset { inner: Arc::new(self.inner.take(count as usize)), origin: self.origin.clone() }
    }
}

pub enum LoadSplitTask {
    Mnist { dir: PathBuf, split: Split },
    Files { images: PathBuf, labels: PathBuf },
}

impl Task for LoadSplitTask {
    type Output = (Dataset, PathBuf);
    type JsValue = NativeDataset;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| match self {
            Self::Mnist { dir, split } => data::load_mnist_split_from(dir, *split),
            Self::Files { images, labels } => Ok((data::load_idx_files(images, labels)?, images.clone())),
        })
    }

    fn resolve(&mut self, _env: Env, (data, source): Self::Output) -> Result<NativeDataset> {
        caught(|| Ok(NativeDataset::new(data, Some(source.display().to_string()))))
    }
}

/// Reads one split of an MNIST-format folder (the four standard names, raw
/// or `.gz`) off the event loop.
#[napi(catch_unwind, ts_return_type = "Promise<NativeDataset>")]
pub fn load_mnist_split(dir: String, #[napi(ts_arg_type = "'train' | 'test'")] split: String) -> Result<AsyncTask<LoadSplitTask>> {
    let split = match split.as_str() {
        "train" => Split::Train,
        "test" => Split::Test,
        other => return Err(Error::new(Status::InvalidArg, format!("unknown split '{other}' (expected 'train' or 'test')"))),
    };
    Ok(AsyncTask::new(LoadSplitTask::Mnist { dir: PathBuf::from(dir), split }))
}

/// Reads an IDX images file and its labels file, under any names (each raw
/// or `.gz`; grey IDX3 or colour IDX4 images), off the event loop.
#[napi(catch_unwind, ts_return_type = "Promise<NativeDataset>")]
pub fn load_idx_files(images: String, labels: String) -> AsyncTask<LoadSplitTask> {
    AsyncTask::new(LoadSplitTask::Files { images: PathBuf::from(images), labels: PathBuf::from(labels) })
}
