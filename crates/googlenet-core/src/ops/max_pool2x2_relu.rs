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

/// Index within the plane of the first maximum of the 2×2 window at output
/// position (oy, ox), scanning row by row like PyTorch.
#[inline(always)]
fn argmax(plane: &[f32], w: usize, oy: usize, ox: usize) -> usize {
    let top = 2 * oy * w + 2 * ox;
    [top, top + 1, top + w, top + w + 1].into_iter().fold(top, |best, i| if plane[i] > plane[best] { i } else { best })
}

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
            *out = t[0].max(t[1]).max(b[0].max(b[1])).max(0.0);
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
    dx.fill(0.0);
    for ((x, g), d) in x.chunks_exact(h * w).zip(dy.chunks_exact(h / 2 * (w / 2))).zip(dx.chunks_exact_mut(h * w)) {
        unpool_plane(x, g, d, w);
    }
}

with_avx2! {
    /// [`pool_plane`] over every h×w plane of `src`, single-threaded.
    pub(crate) fn pool_planes(src: &[f32], dst: &mut [f32], h: usize, w: usize) => pool_planes_generic
}

with_avx2! {
    /// The gradient of [`pool_planes`] with input `x`: overwrites the first
    /// `x.len()` floats of `dx`.
    pub(crate) fn unpool_planes(x: &[f32], dy: &[f32], dx: &mut [f32], h: usize, w: usize) => unpool_planes_generic
}

/// Gradient of [`pool_plane`]: routes each output gradient of `g` to its
/// window's first maximum in the plane's input `x`, into zeroed `d`.
#[inline(always)]
pub(crate) fn unpool_plane(x: &[f32], g: &[f32], d: &mut [f32], w: usize) {
    let ow = w / 2;
    for (oy, row) in g.chunks_exact(ow).enumerate() {
        for (ox, &grad) in row.iter().enumerate() {
            let i = argmax(x, w, oy, ox);
            // ReLU passes the gradient only where the max was positive.
            if x[i] > 0.0 {
                d[i] = grad;
            }
        }
    }
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
