//! 3×3 average pool, stride 1, zero padding 1, divisor always 9: the pool
//! branch of Inception-A (PyTorch's `avg_pool2d(x, 3, 1, 1)` with its default
//! `count_include_pad=True`). candle's own `avg_pool2d` has no padding and its
//! backward refuses kernel ≠ stride, hence this op.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::f32_slice;

struct AvgPool3x3Same;

/// Sums the 3×3 neighbourhood of every pixel of one H×W plane (zeros outside)
/// and divides by 9. The box is separable: column sums of three rows first
/// (whole rows at a time, which vectorizes), then three neighbours along
/// each row.
#[inline(always)]
pub(crate) fn pool_plane(src: &[f32], dst: &mut [f32], h: usize, w: usize) {
    for i in 0..h {
        let out = &mut dst[i * w..(i + 1) * w];
        out.copy_from_slice(&src[i * w..(i + 1) * w]);
        for r in [i.wrapping_sub(1), i + 1] {
            if r < h {
                out.iter_mut().zip(&src[r * w..(r + 1) * w]).for_each(|(o, v)| *o += v);
            }
        }
        let mut left = 0.0;
        for j in 0..w {
            let centre = out[j];
            let right = if j + 1 < w { out[j + 1] } else { 0.0 };
            out[j] = (left + centre + right) / 9.0;
            left = centre;
        }
    }
}

#[inline(always)]
fn pool_planes_generic(src: &[f32], dst: &mut [f32], h: usize, w: usize) {
    for (s, d) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h * w)) {
        pool_plane(s, d, h, w);
    }
}

with_simd! {
    /// [`pool_plane`] over every h×w plane of `src`, single-threaded.
    pub(crate) fn pool_planes(src: &[f32], dst: &mut [f32], h: usize, w: usize) => pool_planes_generic
}

impl CustomOp1 for AvgPool3x3Same {
    fn name(&self) -> &'static str {
        "avg-pool-3x3-same"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, _, h, w) = layout.shape().dims4()?;
        let src = f32_slice(self.name(), storage, layout)?;
        let mut dst = vec![0f32; src.len()];
        dst.par_chunks_mut(h * w).zip(src.par_chunks(h * w)).for_each(|(d, s)| pool_plane(s, d, h, w));
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, storage: &candle_core::CudaStorage, layout: &Layout) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        use candle_core::backend::BackendStorage;
        let src = cuda::input(self.name(), storage, layout)?;
        let len = layout.shape().elem_count();
        let dst = cuda::output(storage.device(), len)?;
        cuda::launch_planes("avg_pool3x3_f32", storage.device(), &[&src], &dst, layout.shape().dims(), len)?;
        Ok((cuda::storage(dst, storage), layout.shape().clone()))
    }

    /// The op is linear with a symmetric stencil and a constant divisor, so it
    /// is its own adjoint: the input gradient is the same pool of the output
    /// gradient.
    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(avg_pool3x3_same(grad_res)?))
    }
}

/// 3×3 average pool with stride 1 and zero padding 1 (divisor 9 everywhere)
/// over a 4-D f32 tensor whose last two axes are H×W (N×C×H×W or
/// channel-major C×N×H×W alike); the output has the input's shape.
pub fn avg_pool3x3_same(x: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(AvgPool3x3Same)
}
