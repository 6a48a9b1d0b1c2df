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
//! - [`onnx`]: ONNX export of any model, from its description.
//! - [`image`]: PNG and JPEG files fitted into 28×28 MNIST-style digits.
//! - [`engine`]: the CPU engine, forward and backward passes of any model
//!   description without autograd, which training and inference use on the CPU.
//! - [`ops`]: custom candle ops (im2col, pools); the engine shares their pool kernels.
//! - [`options`]: every option of every command, declared once.
//! - [`optimizer`]: SGD, Adam and AdamW as `torch.optim` computes them, over flat buffers.
//! - [`train`]: SGD with momentum, the training loop, evaluation and prediction.

/// Defines `$name`, which runs `$generic` compiled for the widest vector
/// instructions the CPU has and [`cpu::isa`] allows (AVX-512, AVX2; checked
/// at run time), and as compiled for the baseline x86-64 otherwise. The
/// binary stays portable; `$generic` and what it calls must be
/// `#[inline(always)]` to be compiled into each copy.
macro_rules! with_simd {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $generic:ident) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    $generic($($arg),*)
                }
                match crate::cpu::isa() {
                    // SAFETY: the CPU has AVX-512F and VL, as cpu::isa says.
                    crate::cpu::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the CPU has AVX2 and FMA, as cpu::isa says.
                    crate::cpu::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    crate::cpu::Isa::Baseline => {}
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
pub mod memory;
pub mod model;
pub mod onnx;
pub mod ops;
pub mod optimizer;
pub mod options;
pub mod runtime;
pub mod train;

pub use error::{Error, Result};
