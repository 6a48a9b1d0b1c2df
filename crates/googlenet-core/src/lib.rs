//! googlenet-core: GoogLeNet-style CNNs for MNIST-format data on candle.
//!
//! No napi in here: the Node binding (`googlenet-node`) is a thin layer over
//! this crate, so the core can be tested, benchmarked and later built for CUDA
//! on its own.
//!
//! - [`data`]: IDX reading (raw or gzip) and in-memory datasets.
//! - [`model`]: the reference GoogLeNet and its layers, with PyTorch's init and names.
//! - [`ops`]: custom candle ops (the Inception pool branch's average pool).
//! - [`train`]: SGD with momentum, the training loop, evaluation and prediction.

pub mod data;
pub mod error;
pub mod model;
pub mod ops;
pub mod runtime;
pub mod train;

pub use error::{Error, Result};
