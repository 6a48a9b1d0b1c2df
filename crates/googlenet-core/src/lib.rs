//! googlenet-core: GoogLeNet-style CNNs for MNIST-format data on candle.
//!
//! No napi in here: the Node binding (`googlenet-node`) is a thin layer over
//! this crate, so the core can be tested, benchmarked and later built for CUDA
//! on its own.
//!
//! - [`cpu`]: which vector instructions the kernels use (`GOOGLENET_NATIVE_CPU`).
//! - [`files`]: the one way every user-named file is read and written.
//! - [`data`]: IDX reading (raw or gzip) and in-memory datasets.
//! - [`model`]: models as descriptions (layers with PyTorch's names and init,
//!   and a graph), the zoo's catalog, and their lowering to candle.
//! - [`image`]: PNG and JPEG files fitted into 28×28 MNIST-style digits.
//! - [`engine`]: the CPU engine, forward and backward passes of any model
//!   description without autograd, which training and inference use on the CPU.
//! - [`ops`]: custom candle ops (im2col, pools); the engine shares their pool kernels.
//! - [`train`]: SGD with momentum, the training loop, evaluation and prediction.

/// Defines `$name`, which runs `$generic` compiled for AVX2 where the CPU has
/// it and [`cpu::isa`] allows it (checked at run time), and as compiled for
/// the baseline x86-64 otherwise. The binary stays portable; `$generic` and
/// what it calls must be `#[inline(always)]` to be compiled into the AVX2
/// copy.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $generic:ident) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                if crate::cpu::avx2() {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx;
pub mod cpu;
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
