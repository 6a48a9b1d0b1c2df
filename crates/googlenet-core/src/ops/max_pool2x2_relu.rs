//! 2×2 max-pool (stride 2) fused with the ReLU that follows it in the
//! reference model (relu∘maxpool = maxpool∘relu, so fusing changes nothing).
//!
//! candle 0.11.1's own max-pool backward multiplies the output gradient by
//! the fraction of maxima in each window instead of dividing by their count,
//! so every gradient below a pool came out 4× too small; this op routes the
//! whole gradient to the window's first maximum, as PyTorch does.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::f32_slice;
use crate::engine::elementwise::larger;

/// relu(max-pool) of one plane `s` of width `w` into `d` (⌊h/2⌋×⌊w/2⌋).
/// The value of the window's maximum needs no index, which lets this loop
/// vectorize.
#[inline(always)]
pub(crate) fn pool_plane(s: &[f32], d: &mut [f32], w: usize) {
    let ow = w / 2;
    for (oy, row) in d.chunks_exact_mut(ow).enumerate() {
        let top = &s[2 * oy * w..][..2 * ow];
        let bottom = &s[(2 * oy + 1) * w..][..2 * ow];
        for ((out, t), b) in row.iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
            *out = larger(larger(larger(t[0], t[1]), larger(b[0], b[1])), 0.0);
        }
    }
}

#[inline(always)]
fn pool_planes_generic(src: &[f32], dst: &mut [f32], h: usize, w: usize) {
    for (s, d) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h / 2 * (w / 2))) {
        pool_plane(s, d, w);
    }
}

#[inline(always)]
fn unpool_planes_generic(x: &[f32], dy: &[f32], dx: &mut [f32], h: usize, w: usize) {
    let dx = &mut dx[..x.len()];
    // Every window's entries are written; an odd size leaves a row or column in none.
    if h % 2 == 1 || w % 2 == 1 {
        dx.fill(0.0);
    }
    for ((x, g), d) in x.chunks_exact(h * w).zip(dy.chunks_exact(h / 2 * (w / 2))).zip(dx.chunks_exact_mut(h * w)) {
        unpool_plane(x, g, d, w);
    }
}

with_simd! {
    /// [`pool_plane`] over every h×w plane of `src`, single-threaded.
    pub(crate) fn pool_planes(src: &[f32], dst: &mut [f32], h: usize, w: usize) => pool_planes_generic
}

with_simd! {
    /// The gradient of [`pool_planes`] with input `x`: overwrites the first
    /// `x.len()` floats of `dx`.
    pub(crate) fn unpool_planes(x: &[f32], dy: &[f32], dx: &mut [f32], h: usize, w: usize) => unpool_planes_generic
}

/// Gradient of [`pool_plane`]: routes each output gradient of `g` to its
/// window's first maximum in the plane's input `x` (scanning row by row,
/// as PyTorch does), and writes zero to the window's other
/// three entries. Entries in no window (the last row or column of an odd
/// size) are not written: `d` starts zeroed there.
///
/// Without branches: which entry wins depends on the data, and branching
/// on it mispredicted about every other window (a sixth of a training
/// step of the tutorial's residual net).
#[inline(always)]
pub(crate) fn unpool_plane(x: &[f32], g: &[f32], d: &mut [f32], w: usize) {
    let ow = w / 2;
    for (oy, row) in g.chunks_exact(ow).enumerate() {
        let (top, bottom) = (2 * oy * w, (2 * oy + 1) * w);
        let (x_top, x_bottom) = (&x[top..][..2 * ow], &x[bottom..][..2 * ow]);
        let (above, below) = d.split_at_mut(bottom);
        let (d_top, d_bottom) = (&mut above[top..][..2 * ow], &mut below[..2 * ow]);
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::avx2() {
            // SAFETY: the CPU has AVX2, checked just above.
            done = unsafe { unpool_row_avx2(x_top, x_bottom, row, d_top, d_bottom) };
        }
        for (ox, &grad) in row.iter().enumerate().skip(done) {
            let (a, b, c, e) = (x_top[2 * ox], x_top[2 * ox + 1], x_bottom[2 * ox], x_bottom[2 * ox + 1]);
            // The first maximum, as selects: a later entry wins only if strictly greater.
            let b_wins = b > a;
            let best = if b_wins { b } else { a };
            let c_wins = c > best;
            let best = if c_wins { c } else { best };
            let e_wins = e > best;
            let best = if e_wins { e } else { best };
            // ReLU passes the gradient only where the max was positive.
            let grad = if best > 0.0 { grad } else { 0.0 };
            let pick = |wins: bool| if wins { grad } else { 0.0 };
            d_bottom[2 * ox + 1] = pick(e_wins);
            d_bottom[2 * ox] = pick(c_wins && !e_wins);
            d_top[2 * ox + 1] = pick(b_wins && !c_wins && !e_wins);
            d_top[2 * ox] = pick(!b_wins && !c_wins && !e_wins);
        }
    }
}

/// [`unpool_plane`] on one row of windows, eight at a time: each pair of
/// input rows split into its even and odd columns by shuffles, the same
/// selects on vectors, the gradients interleaved back. A row of 8 or more
/// windows ends with the last eight (overlapping the eight before: their
/// entries are written, not added, so writing some twice is harmless; a
/// 12-window row of conv1's pool had left 4 to the scalar loop). Returns
/// the windows done: all of them, or none in a row of fewer than 8; the
/// caller does the rest.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn unpool_row_avx2(x_top: &[f32], x_bottom: &[f32], g: &[f32], d_top: &mut [f32], d_bottom: &mut [f32]) -> usize {
    use crate::avx::deinterleave;
    use std::arch::x86_64::*;
    let windows = if g.len() < 8 { 0 } else { g.len() };
    assert!(x_top.len() >= 2 * windows && x_bottom.len() >= 2 * windows && d_top.len() >= 2 * windows && d_bottom.len() >= 2 * windows);
    // [p0 q0 p1 q1 …] as two vectors.
    let interleave = |p: __m256, q: __m256| {
        let (low, high) = (_mm256_unpacklo_ps(p, q), _mm256_unpackhi_ps(p, q));
        (_mm256_permute2f128_ps::<0x20>(low, high), _mm256_permute2f128_ps::<0x31>(low, high))
    };
    let starts = (0..windows / 8 * 8).step_by(8).chain((!windows.is_multiple_of(8)).then(|| windows - 8));
    for o in starts {
        // SAFETY: 2·o + 16 ≤ 2·windows floats of each row (asserted above).
        unsafe {
            let (a, b) = deinterleave(_mm256_loadu_ps(x_top.as_ptr().add(2 * o)), _mm256_loadu_ps(x_top.as_ptr().add(2 * o + 8)));
            let (c, e) = deinterleave(_mm256_loadu_ps(x_bottom.as_ptr().add(2 * o)), _mm256_loadu_ps(x_bottom.as_ptr().add(2 * o + 8)));
            let b_wins = _mm256_cmp_ps::<_CMP_GT_OQ>(b, a);
            let best = _mm256_blendv_ps(a, b, b_wins);
            let c_wins = _mm256_cmp_ps::<_CMP_GT_OQ>(c, best);
            let best = _mm256_blendv_ps(best, c, c_wins);
            let e_wins = _mm256_cmp_ps::<_CMP_GT_OQ>(e, best);
            let best = _mm256_blendv_ps(best, e, e_wins);
            let positive = _mm256_cmp_ps::<_CMP_GT_OQ>(best, _mm256_setzero_ps());
            let grad = _mm256_and_ps(_mm256_loadu_ps(g.as_ptr().add(o)), positive);
            let later = _mm256_or_ps(c_wins, e_wins);
            let d_e = _mm256_and_ps(grad, e_wins);
            let d_c = _mm256_andnot_ps(e_wins, _mm256_and_ps(grad, c_wins));
            let d_b = _mm256_andnot_ps(later, _mm256_and_ps(grad, b_wins));
            let d_a = _mm256_andnot_ps(_mm256_or_ps(later, b_wins), grad);
            let (top_low, top_high) = interleave(d_a, d_b);
            let (bottom_low, bottom_high) = interleave(d_c, d_e);
            _mm256_storeu_ps(d_top.as_mut_ptr().add(2 * o), top_low);
            _mm256_storeu_ps(d_top.as_mut_ptr().add(2 * o + 8), top_high);
            _mm256_storeu_ps(d_bottom.as_mut_ptr().add(2 * o), bottom_low);
            _mm256_storeu_ps(d_bottom.as_mut_ptr().add(2 * o + 8), bottom_high);
        }
    }
    windows
}

struct MaxPool2x2Relu;

/// Gradient of [`MaxPool2x2Relu`]: arguments are the op's input and the
/// gradient of its output.
struct MaxPool2x2ReluGrad;

impl CustomOp1 for MaxPool2x2Relu {
    fn name(&self) -> &'static str {
        "max-pool-2x2-relu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        let src = f32_slice(self.name(), storage, layout)?;
        let (oh, ow) = (h / 2, w / 2);
        if oh == 0 || ow == 0 {
            candle_core::bail!("{}: needs H, W >= 2, got {h}x{w}", self.name());
        }
        let mut dst = vec![0f32; n * c * oh * ow];
        dst.par_chunks_mut(oh * ow).zip(src.par_chunks(h * w)).for_each(|(d, s)| pool_plane(s, d, w));
        Ok((CpuStorage::F32(dst), Shape::from((n, c, oh, ow))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, storage: &candle_core::CudaStorage, layout: &Layout) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        use candle_core::backend::BackendStorage;
        let (n, c, h, w) = layout.shape().dims4()?;
        let shape = Shape::from((n, c, h / 2, w / 2));
        let src = cuda::input(self.name(), storage, layout)?;
        let dst = cuda::output(storage.device(), shape.elem_count())?;
        cuda::launch_planes("max_pool2x2_relu_f32", storage.device(), &[&src], &dst, layout.shape().dims(), shape.elem_count())?;
        Ok((cuda::storage(dst, storage), shape))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(arg.apply_op2_no_bwd(&grad_res.contiguous()?, &MaxPool2x2ReluGrad)?))
    }
}

impl CustomOp2 for MaxPool2x2ReluGrad {
    fn name(&self) -> &'static str {
        "max-pool-2x2-relu-grad"
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        use super::cuda;
        use candle_core::backend::BackendStorage;
        let (n, c, h, w) = l1.shape().dims4()?;
        if l2.shape().dims() != [n, c, h / 2, w / 2] {
            candle_core::bail!("max-pool gradient {:?} does not fit input {:?}", l2.shape(), l1.shape());
        }
        let (x, grad) = (cuda::input(self.name(), s1, l1)?, cuda::input(self.name(), s2, l2)?);
        // Zeroed: only each window's maximum receives a gradient.
        let dst = s1.device().alloc_zeros::<f32>(l1.shape().elem_count())?;
        cuda::launch_planes("max_pool2x2_relu_grad_f32", s1.device(), &[&x, &grad], &dst, l1.shape().dims(), l2.shape().elem_count())?;
        Ok((cuda::storage(dst, s1), l1.shape().clone()))
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        let (oh, ow) = (h / 2, w / 2);
        if l2.shape().dims() != [n, c, oh, ow] {
            candle_core::bail!("max-pool gradient {:?} does not fit input {:?}", l2.shape(), l1.shape());
        }
        let input = f32_slice(self.name(), s1, l1)?;
        let grad = f32_slice(self.name(), s2, l2)?;
        let mut dst = vec![0f32; n * c * h * w];
        dst.par_chunks_mut(h * w)
            .zip(input.par_chunks(h * w).zip(grad.par_chunks(oh * ow)))
            .for_each(|(d, (x, g))| unpool_plane(x, g, d, w));
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// relu(max_pool2d(x, 2)) over a 4-D f32 tensor whose last two axes are H×W
/// (N×C×H×W or channel-major C×N×H×W alike): A×B×⌊H/2⌋×⌊W/2⌋.
pub fn max_pool2x2_relu(x: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(MaxPool2x2Relu)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window of values drawn from four levels (ties everywhere, zero
    /// and negatives for the ReLU), on even and odd sizes, against the
    /// definition: the gradient goes to the first strictly-greatest entry
    /// in row order when it is positive.
    #[test]
    fn unpool_matches_the_first_maximum_rule() {
        for (h, w) in [(4, 4), (5, 7), (2, 2), (6, 3), (4, 24), (3, 37), (2, 16)] {
            let x: Vec<f32> = (0..h * w).map(|i| [-1.0, 0.0, 1.0, 2.0][(i * 7 + i / 3) % 4]).collect();
            let g: Vec<f32> = (0..(h / 2) * (w / 2)).map(|i| i as f32 + 1.0).collect();
            let mut want = vec![0f32; h * w];
            for oy in 0..h / 2 {
                for ox in 0..w / 2 {
                    let top = 2 * oy * w + 2 * ox;
                    let best = [top, top + 1, top + w, top + w + 1].into_iter().fold(top, |best, i| if x[i] > x[best] { i } else { best });
                    if x[best] > 0.0 {
                        want[best] = g[oy * (w / 2) + ox];
                    }
                }
            }
            // Stale values where the gradient goes: every entry must be written.
            let mut got = vec![f32::NAN; h * w];
            unpool_planes(&x, &g, &mut got, h, w);
            assert_eq!(got, want, "{h}×{w}");
        }
    }
}
