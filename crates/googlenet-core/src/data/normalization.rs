//! How pixels become a model's inputs: per channel, (x/255 − mean) / std,
//! with the mean and standard deviation measured on the training split.

use crate::{Error, Result};

/// Mean of MNIST's training pixels after scaling to [0, 1], to 4 decimals.
pub const MNIST_MEAN: f32 = 0.1307;
/// Standard deviation of MNIST's training pixels after scaling to [0, 1], to 4 decimals.
pub const MNIST_STD: f32 = 0.3081;

/// The per-channel mean and standard deviation a model's inputs are
/// normalized with. Measured statistics are rounded to 4 decimals, as they
/// are quoted (MNIST's 0.1307 and 0.3081): a model trained on MNIST keeps
/// exactly the constants every MNIST tutorial uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// Decimals the measured statistics keep.
const DECIMALS: i32 = 4;
/// The smallest standard deviation kept: a channel that never changes
/// (blank images) would otherwise divide by zero.
const MIN_STD: f64 = 1e-4;

impl Normalization {
    /// Checks one mean and one positive, finite std per channel.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(Error::InvalidArgument(format!(
                "normalization needs one mean and one std per channel (got {} means and {} stds)",
                mean.len(),
                std.len()
            )));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::InvalidArgument(format!("normalization mean {m} is not a finite number")));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidArgument(format!("normalization std {s} is not a positive finite number")));
        }
        Ok(Self { mean, std })
    }

    /// MNIST's constants on each of `channels` channels: what a model made
    /// without data (and every file written before models kept their own)
    /// normalizes with.
    pub fn mnist(channels: usize) -> Self {
        Self { mean: vec![MNIST_MEAN; channels], std: vec![MNIST_STD; channels] }
    }

    /// The statistics of `pixels`, images of `channels` planes of
    /// `plane` bytes each laid one after another (N×C×H×W), rounded to 4
    /// decimals. The standard deviation is the population one (over every
    /// pixel of the channel), as torchvision's quoted figures are.
    pub fn measure(pixels: &[u8], channels: usize, plane: usize) -> Self {
        let mut histograms = vec![[0u64; 256]; channels];
        for (i, chunk) in pixels.chunks_exact(plane).enumerate() {
            let histogram = &mut histograms[i % channels];
            chunk.iter().for_each(|&p| histogram[p as usize] += 1);
        }
        let round = |x: f64| ((x * 10f64.powi(DECIMALS)).round() / 10f64.powi(DECIMALS)) as f32;
        let (mean, std) = histograms
            .iter()
            .map(|h| {
                let n = h.iter().sum::<u64>().max(1) as f64;
                let mean = h.iter().enumerate().map(|(v, &c)| v as f64 / 255.0 * c as f64).sum::<f64>() / n;
                let var = h.iter().enumerate().map(|(v, &c)| (v as f64 / 255.0 - mean).powi(2) * c as f64).sum::<f64>() / n;
                (round(mean), round(var.sqrt().max(MIN_STD)))
            })
            .unzip();
        Self { mean, std }
    }

    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Channel `c`'s input for a pixel scaled to [0, 1].
    pub fn unit(&self, c: usize, x: f32) -> f32 {
        (x - self.mean[c]) / self.std[c]
    }

    /// Channel `c`'s input for a pixel byte: (x/255 − mean) / std.
    pub fn byte(&self, c: usize, x: u8) -> f32 {
        self.unit(c, x as f32 / 255.0)
    }

    /// Per channel, the input of every byte value (what a batch is made with).
    pub fn tables(&self) -> Vec<[f32; 256]> {
        (0..self.channels()).map(|c| std::array::from_fn(|x| self.byte(c, x as u8))).collect()
    }
}

/// Appends the inputs of `images` to `out`: bytes of whole images, each
/// its channels' planes of `plane` pixels one after another, looked up in
/// `tables` ([`Normalization::tables`], one per channel).
pub fn normalize_bytes(tables: &[[f32; 256]], images: &[u8], plane: usize, out: &mut Vec<f32>) {
    for (i, channel) in images.chunks_exact(plane).enumerate() {
        let table = &tables[i % tables.len()];
        out.extend(channel.iter().map(|&p| table[p as usize]));
    }
}
