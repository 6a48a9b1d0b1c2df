//! 3×3 average pool, stride 1, zero padding 1, divisor always 9: the pool
//! branch of Inception-A (PyTorch's `avg_pool2d(x, 3, 1, 1)` with its default
//! `count_include_pad=True`). candle's own `avg_pool2d` has no padding and its
//! backward refuses kernel ≠ stride, hence this op.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::f32_slice;

struct AvgPool3x3Same;

/// Sums the 3×3 neighbourhood of every pixel of each h×w plane of `src`
/// (zeros outside) and divides by 9. The box is separable: column sums of
/// three rows first, then three neighbours along each row. Both passes run
/// over a whole plane at once, so they vectorize even when planes are a few
/// pixels wide; masks zero the neighbours across a row's ends. The sums keep
/// the order (centre + above) + below, then (left + centre) + right.
#[inline(always)]
fn pool_planes_generic(src: &[f32], dst: &mut [f32], h: usize, w: usize) {
    let hw = h * w;
    if hw == 0 {
        return;
    }
    // One plane's column sums with a zero either side, so the row pass reads
    // its neighbours without index checks.
    let mut sums = vec![0f32; hw + 2];
    let edge_mask = |keep: bool| if keep { u32::MAX } else { 0 };
    let has_left: Vec<u32> = (0..hw).map(|k| edge_mask(k % w != 0)).collect();
    let has_right: Vec<u32> = (0..hw).map(|k| edge_mask(k % w != w - 1)).collect();
    let masked = |v: f32, mask: u32| f32::from_bits(v.to_bits() & mask);
    for (s, d) in src.chunks_exact(hw).zip(dst.chunks_exact_mut(hw)) {
        let column = &mut sums[1..=hw];
        column.copy_from_slice(s);
        column[w..].iter_mut().zip(&s[..hw - w]).for_each(|(o, above)| *o += above);
        column[..hw - w].iter_mut().zip(&s[w..]).for_each(|(o, below)| *o += below);
        let neighbours = sums[..hw].iter().zip(&sums[1..=hw]).zip(&sums[2..]);
        for ((o, ((&left, &centre), &right)), (&l, &r)) in d.iter_mut().zip(neighbours).zip(has_left.iter().zip(&has_right)) {
            *o = (masked(left, l) + centre + masked(right, r)) / 9.0;
        }
    }
}

with_simd! {
    /// The 3×3 average pool (stride 1, padding 1) of every h×w plane of
    /// `src`, single-threaded.
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
        // Several planes a task: the masks and sums are set up once a call.
        let span = (16 * h * w).max(1);
        dst.par_chunks_mut(span).zip(src.par_chunks(span)).for_each(|(d, s)| pool_planes(s, d, h, w));
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
