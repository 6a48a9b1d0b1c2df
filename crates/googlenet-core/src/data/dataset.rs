use std::sync::LazyLock;

use candle_core::{Device, Tensor};

use crate::{Error, Result};

/// Mean of MNIST's training pixels after scaling to [0, 1].
pub const MNIST_MEAN: f32 = 0.1307;
/// Standard deviation of MNIST's training pixels after scaling to [0, 1].
pub const MNIST_STD: f32 = 0.3081;
/// Digits 0–9: the labels a dataset may hold (a model may give more
/// class scores than that, never fewer than its data's labels need).
pub const NUM_CLASSES: usize = 10;
/// Images are greyscale: one channel.
pub const IMAGE_CHANNELS: usize = 1;

/// The model's input normalization of a pixel byte: (x/255 − mean) / std.
pub fn normalize_pixel(x: u8) -> f32 {
    normalize_unit(x as f32 / 255.0)
}

/// The same normalization for a pixel already scaled to [0, 1].
pub fn normalize_unit(x: f32) -> f32 {
    (x - MNIST_MEAN) / MNIST_STD
}

/// Labelled grayscale images kept as raw bytes in Rust memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    height: usize,
    width: usize,
}

/// One batch ready for the model: `images` is N×1×H×W f32, `labels` is N u32.
pub struct Batch {
    pub images: Tensor,
    pub labels: Tensor,
}

impl Dataset {
    /// Checks sizes and labels; `pixels` holds `labels.len()` images of
    /// `height`×`width` bytes each.
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>, height: usize, width: usize) -> Result<Self> {
        if height == 0 || width == 0 {
            return Err(Error::InvalidArgument(format!("image size {height}x{width} is empty")));
        }
        let expected = labels.len().checked_mul(height).and_then(|n| n.checked_mul(width));
        if Some(pixels.len()) != expected {
            let expected = expected.map_or_else(|| "more than can be addressed".to_string(), |n| n.to_string());
            return Err(Error::InvalidArgument(format!(
                "images has {} bytes but {} labels of {height}x{width} images need {expected}",
                pixels.len(),
                labels.len()
            )));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= NUM_CLASSES) {
            return Err(Error::InvalidArgument(format!("labels[{i}] is {}; labels must be 0..{}", labels[i], NUM_CLASSES - 1)));
        }
        Ok(Self { pixels, labels, height, width })
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

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The raw bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The first `count` samples (fewer if the set is smaller).
    pub fn take(&self, count: usize) -> Self {
        let count = count.min(self.len());
        let n = self.height * self.width;
        Self { pixels: self.pixels[..count * n].to_vec(), labels: self.labels[..count].to_vec(), height: self.height, width: self.width }
    }

    /// The samples at `indices`, normalized: images one after another
    /// (N×H×W f32) and their labels.
    pub fn gather(&self, indices: &[usize]) -> (Vec<f32>, Vec<u32>) {
        static LUT: LazyLock<[f32; 256]> = LazyLock::new(|| std::array::from_fn(|x| normalize_pixel(x as u8)));
        let mut images = Vec::with_capacity(indices.len() * self.height * self.width);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend(self.image(i).iter().map(|&p| LUT[p as usize]));
            labels.push(self.labels[i] as u32);
        }
        (images, labels)
    }

    /// Gathers the samples at `indices` into normalized tensors on `device`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Result<Batch> {
        let (images, labels) = self.gather(indices);
        Ok(Batch {
            images: Tensor::from_vec(images, (indices.len(), 1, self.height, self.width), device)?,
            labels: Tensor::from_vec(labels, indices.len(), device)?,
        })
    }
}
