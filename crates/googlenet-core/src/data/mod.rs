//! Data: IDX files or folders of images in, an in-memory [`Dataset`] of
//! raw pixels out.
//!
//! Pixels stay `u8` in memory (47 MB for MNIST's training set) and are
//! normalized per batch, so nothing big is ever copied or converted wholesale.

mod augment;
mod dataset;
pub mod folder;
mod from_folder;
pub mod idx;
mod mnist;
mod normalization;

pub use augment::{augment, sample_rng, Augmentation, EpochAugmentation, Transform};
pub use dataset::{check_class_names, numbered_classes, Batch, Dataset, ImageShape, MAX_CLASSES};
pub use from_folder::folder_datasets;
pub use mnist::{dataset_from_idx_bytes, load_idx_files, load_mnist, load_mnist_split, load_mnist_split_from, same_classes, Split};
pub use normalization::{normalize_bytes, Normalization, MNIST_MEAN, MNIST_STD};
