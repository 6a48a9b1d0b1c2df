use std::sync::Arc;

use candle_core::{Device, Tensor};

use super::{normalize_bytes, EpochAugmentation, Normalization};
use crate::{Error, Result};

/// The most classes a dataset may have: labels are bytes, as in IDX files.
pub const MAX_CLASSES: usize = 256;

/// Channels, height and width of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    /// Bytes one image takes: channels × height × width.
    pub fn bytes(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn dims(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.channels == 1 { "grey".to_string() } else { format!("{}-channel", self.channels) };
        write!(f, "{}x{} {kind}", self.height, self.width)
    }
}

/// The names "0", "1", … of `count` classes known only by their labels.
pub fn numbered_classes(count: usize) -> Vec<String> {
    (0..count).map(|c| c.to_string()).collect()
}

/// Labelled images kept as raw bytes in Rust memory, with the names of
/// their classes and the statistics of their pixels.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// N×C×H×W bytes: each image's channels one plane after another.
    pixels: Vec<u8>,
    labels: Vec<u8>,
    shape: ImageShape,
    /// One name per class; a label is an index into it.
    classes: Arc<[String]>,
    /// The pixels' per-channel statistics, measured when the set was made
    /// (a part taken from a set keeps its whole's).
    normalization: Normalization,
}

/// One batch ready for the model: `images` is N×C×H×W f32, `labels` is N u32.
pub struct Batch {
    pub images: Tensor,
    pub labels: Tensor,
}

impl Dataset {
    /// Greyscale images: `pixels` holds `labels.len()` images of
    /// `height`×`width` bytes each; the classes are numbered 0 to the
    /// largest label.
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>, height: usize, width: usize) -> Result<Self> {
        Self::with_classes(pixels, labels, ImageShape { channels: 1, height, width }, None)
    }

    /// Images of `shape` and their labels, with the classes' names
    /// (`None`: numbered 0 to the largest label). Checks the sizes, that
    /// every label names a class, and that there are at most
    /// [`MAX_CLASSES`] classes.
    pub fn with_classes(pixels: Vec<u8>, labels: Vec<u8>, shape: ImageShape, classes: Option<Vec<String>>) -> Result<Self> {
        let ImageShape { channels, height, width } = shape;
        if height == 0 || width == 0 {
            return Err(Error::InvalidArgument(format!("image size {height}x{width} is empty")));
        }
        if channels != 1 && channels != 3 {
            return Err(Error::InvalidArgument(format!("images have 1 channel (grey) or 3 (colour), not {channels}")));
        }
        let expected = labels.len().checked_mul(shape.bytes());
        if Some(pixels.len()) != expected {
            let expected = expected.map_or_else(|| "more than can be addressed".to_string(), |n| n.to_string());
            return Err(Error::InvalidArgument(format!(
                "images has {} bytes but {} labels of {shape} images need {expected}",
                pixels.len(),
                labels.len()
            )));
        }
        let classes = classes.unwrap_or_else(|| numbered_classes(labels.iter().max().map_or(1, |&l| l as usize + 1)));
        check_class_names(&classes)?;
        if let Some(i) = labels.iter().position(|&l| l as usize >= classes.len()) {
            return Err(Error::InvalidArgument(format!(
                "labels[{i}] is {}; with {} classes labels must be 0..{}",
                labels[i],
                classes.len(),
                classes.len() - 1
            )));
        }
        let normalization = Normalization::measure(&pixels, channels, height * width);
        Ok(Self { pixels, labels, shape, classes: classes.into(), normalization })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The largest label (0 for an empty set).
    pub fn max_label(&self) -> u8 {
        self.labels.iter().copied().max().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    pub fn channels(&self) -> usize {
        self.shape.channels
    }

    pub fn height(&self) -> usize {
        self.shape.height
    }

    pub fn width(&self) -> usize {
        self.shape.width
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The classes' names, one per label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The per-channel statistics of the pixels (of the whole set this one
    /// was taken from).
    pub fn normalization(&self) -> &Normalization {
        &self.normalization
    }

    /// How many images each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        self.labels.iter().for_each(|&l| counts[l as usize] += 1);
        counts
    }

    /// The raw bytes of image `i` (C×H×W).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.bytes();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The first `count` samples (fewer if the set is smaller), with the
    /// whole set's classes and statistics.
    pub fn take(&self, count: usize) -> Self {
        let count = count.min(self.len());
        Self { pixels: self.pixels[..count * self.shape.bytes()].to_vec(), labels: self.labels[..count].to_vec(), ..self.clone_meta() }
    }

    /// This set's classes as `classes` (which must keep every name this
    /// set has, at the same labels, and may add more): a test split whose
    /// largest label is below the training split's takes the training
    /// split's classes.
    pub fn with_class_names(mut self, classes: &[String]) -> Result<Self> {
        if classes.len() < self.classes.len() || classes[..self.classes.len()] != self.classes[..] {
            return Err(Error::InvalidArgument(format!(
                "the classes [{}] do not extend [{}]",
                classes.join(", "),
                self.classes.join(", ")
            )));
        }
        self.classes = classes.into();
        Ok(self)
    }

    fn clone_meta(&self) -> Self {
        Self {
            pixels: Vec::new(),
            labels: Vec::new(),
            shape: self.shape,
            classes: self.classes.clone(),
            normalization: self.normalization.clone(),
        }
    }

    /// The samples at `indices`, normalized by `normalization`: images one
    /// after another (N×C×H×W f32) and their labels.
    pub fn gather(&self, indices: &[usize], normalization: &Normalization) -> (Vec<f32>, Vec<u32>) {
        (self.normalized(indices.iter().map(|&i| self.image(i)), indices.len(), normalization), self.labels_at(indices))
    }

    /// [`Dataset::gather`] with each image augmented first, as
    /// `augmentation` draws it for its index and epoch.
    pub fn gather_augmented(
        &self,
        indices: &[usize],
        normalization: &Normalization,
        augmentation: &EpochAugmentation,
    ) -> (Vec<f32>, Vec<u32>) {
        let bytes = augmentation.images(self, indices);
        (self.normalized(bytes.chunks_exact(self.shape.bytes()), indices.len(), normalization), self.labels_at(indices))
    }

    /// `count` images of this set's shape, normalized one after another.
    fn normalized<'a>(&self, images: impl Iterator<Item = &'a [u8]>, count: usize, normalization: &Normalization) -> Vec<f32> {
        let tables = normalization.tables();
        let plane = self.shape.height * self.shape.width;
        let mut out = Vec::with_capacity(count * self.shape.bytes());
        images.for_each(|image| normalize_bytes(&tables, image, plane, &mut out));
        out
    }

    fn labels_at(&self, indices: &[usize]) -> Vec<u32> {
        indices.iter().map(|&i| self.labels[i] as u32).collect()
    }

    /// Gathers the samples at `indices` into normalized tensors on `device`.
    pub fn batch(&self, indices: &[usize], normalization: &Normalization, device: &Device) -> Result<Batch> {
        self.tensors(self.gather(indices, normalization), device)
    }

    /// [`Dataset::batch`] of images augmented as [`Dataset::gather_augmented`] does.
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        normalization: &Normalization,
        augmentation: &EpochAugmentation,
        device: &Device,
    ) -> Result<Batch> {
        self.tensors(self.gather_augmented(indices, normalization, augmentation), device)
    }

    fn tensors(&self, (images, labels): (Vec<f32>, Vec<u32>), device: &Device) -> Result<Batch> {
        let ImageShape { channels, height, width } = self.shape;
        let count = labels.len();
        Ok(Batch {
            images: Tensor::from_vec(images, (count, channels, height, width), device)?,
            labels: Tensor::from_vec(labels, count, device)?,
        })
    }
}

/// Refuses an empty list of classes, more than [`MAX_CLASSES`], and empty
/// or repeated names.
pub fn check_class_names(classes: &[String]) -> Result<()> {
    if classes.is_empty() || classes.len() > MAX_CLASSES {
        return Err(Error::InvalidArgument(format!("a dataset has 1 to {MAX_CLASSES} classes (got {})", classes.len())));
    }
    if let Some(i) = classes.iter().position(|c| c.is_empty()) {
        return Err(Error::InvalidArgument(format!("class {i} has an empty name")));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(name) = classes.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(Error::InvalidArgument(format!("the class name {name:?} appears twice")));
    }
    Ok(())
}
