//! googlenet-core: GoogLeNet-style CNNs for MNIST-format data on candle.
//!
//! No napi in here: the Node binding (`googlenet-node`) is a thin layer over
//! this crate, so the core can be tested, benchmarked and later built for CUDA
//! on its own.
//!
//! - [`files`]: the one way every user-named file is read and written.
//! - [`data`]: IDX reading (raw or gzip) and in-memory datasets.
//! - [`model`]: the reference GoogLeNet and its layers, with PyTorch's init and names.
//! - [`image`]: PNG and JPEG files fitted into 28×28 MNIST-style digits.
//! - [`engine`]: the CPU engine, a hand-written forward and backward pass of
//!   the reference model that training and inference use on the CPU.
//! - [`ops`]: custom candle ops (im2col, pools), whose kernels the engine shares.
//! - [`train`]: SGD with momentum, the training loop, evaluation and prediction.

pub mod data;
pub mod engine;
pub mod error;
pub mod files;
pub mod image;
pub mod model;
pub mod ops;
pub mod runtime;
pub mod train;

pub use error::{Error, Result};
