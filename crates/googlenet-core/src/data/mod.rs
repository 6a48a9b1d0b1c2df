//! Data: IDX files in, an in-memory [`Dataset`] of raw pixels out.
//!
//! Pixels stay `u8` in memory (47 MB for MNIST's training set) and are
//! normalized per batch, so nothing big is ever copied or converted wholesale.

mod dataset;
pub mod folder;
pub mod idx;
mod mnist;

pub use dataset::{normalize_pixel, normalize_unit, Batch, Dataset, IMAGE_CHANNELS, MNIST_MEAN, MNIST_STD, NUM_CLASSES};
pub use mnist::{dataset_from_idx_bytes, load_mnist, load_mnist_split, load_mnist_split_from, Split};
