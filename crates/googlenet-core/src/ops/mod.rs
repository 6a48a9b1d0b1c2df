//! Custom candle ops, each with a CPU kernel and a backward pass.

mod avg_pool3x3;
mod batch_norm;
mod conv2d;
#[cfg(feature = "cuda")]
mod cuda;
mod im2col;
mod max_pool2x2_relu;
mod strided;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout};

pub use avg_pool3x3::avg_pool3x3_same;
pub use batch_norm::{batch_norm, batch_stats};
pub use conv2d::conv2d_gemm;
pub use im2col::{col2im, im2col};
pub use max_pool2x2_relu::max_pool2x2_relu;

/// The same kernels on plain slices, single-threaded, for the CPU engine.
pub(crate) mod kernels {
    pub(crate) use super::avg_pool3x3::pool_planes as avg_pool3x3_planes;
    pub(crate) use super::max_pool2x2_relu::{pool_planes as max_pool2x2_relu_planes, unpool_planes as max_pool2x2_relu_grad_planes};
}

/// The f32 values an op reads: its storage seen through a contiguous layout.
/// The public wrappers make inputs contiguous, so anything else is a bug.
pub(crate) fn f32_slice<'a>(op: &str, storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op} needs a contiguous input");
    };
    match storage {
        CpuStorage::F32(data) => Ok(&data[start..end]),
        other => candle_core::bail!("{op} supports f32 only, got {:?}", other.dtype()),
    }
}
