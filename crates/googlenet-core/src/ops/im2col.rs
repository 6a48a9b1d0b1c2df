//! im2col and its adjoint col2im, for square kernels with stride 1.
//!
//! Inputs are channel-major, C×N×H×W (see `conv2d_gemm`). The column matrix
//! is (C·k·k) × (N·Ho·Wo): one row per weight of a filter (channel, kernel
//! row, kernel column, as PyTorch orders conv weights) and one column per
//! output pixel of the whole batch, so a convolution is one GEMM,
//! `W(Cout × C·k·k) · cols`, and so is its weight gradient. candle's
//! own conv2d computes the input gradient with a plain-loop
//! conv_transpose2d; here it is a GEMM followed by col2im.

use std::ops::Range;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::f32_slice;
use super::strided::{add_rect, copy_rect};

/// Kernel `k`, zero padding `pad`, `n` input planes per channel of `h`×`w`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub k: usize,
    pub pad: usize,
    pub n: usize,
    pub h: usize,
    pub w: usize,
}

impl Geometry {
    /// Length of one row of the column matrix: every output pixel of the batch.
    pub fn row_len(&self) -> usize {
        self.n * self.out_len()
    }

    fn out_h(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }

    fn out_w(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }

    /// Output pixels per image.
    fn out_len(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// Output positions along an axis (input length `len`, output length
    /// `out_len`) whose kernel offset `ki` lands inside the input.
    fn valid(&self, ki: usize, len: usize, out_len: usize) -> Range<usize> {
        let start = self.pad.saturating_sub(ki);
        let end = (len + self.pad).saturating_sub(ki).min(out_len);
        start..end.max(start)
    }

    /// The channels of a (rows × row_len) column matrix, if it fits.
    fn channels_of_columns(&self, (rows, row_len): (usize, usize)) -> candle_core::Result<usize> {
        let kk = self.k * self.k;
        if rows % kk != 0 || row_len != self.row_len() {
            candle_core::bail!(
                "col2im: a {rows}x{row_len} column matrix does not fit kernel {} on {} images of {}x{}",
                self.k,
                self.n,
                self.h,
                self.w
            );
        }
        Ok(rows / kk)
    }

    /// Runs im2col_f32 or col2im_f32 of ops.cu (same arguments) on `c`
    /// channels into a new buffer of `len` floats.
    #[cfg(feature = "cuda")]
    fn launch_cuda(
        &self,
        kernel: &str,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
        c: usize,
        len: usize,
    ) -> candle_core::Result<candle_core::CudaStorage> {
        use super::cuda;
        use candle_core::backend::BackendStorage;
        use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
        let src = cuda::input(kernel, storage, layout)?;
        let dst = cuda::output(storage.device(), len)?;
        let sizes = [c, self.n, self.h, self.w, self.k, self.pad].map(cuda::int);
        let sizes = sizes.into_iter().collect::<candle_core::Result<Vec<i32>>>()?;
        let (stream, function) = cuda::kernel(storage.device(), kernel)?;
        let mut args = stream.launch_builder(&function);
        args.arg(&src).arg(&dst);
        for size in &sizes {
            args.arg(size);
        }
        // SAFETY: both kernels take (src, dst, c, n, h, w, k, pad); src holds
        // the layout's elements and dst the `len` the caller sized for them.
        unsafe { cuda::launch(args, len)? };
        Ok(cuda::storage(dst, storage))
    }

    /// The part of kernel offset (ki, kj)'s column-matrix row, per image,
    /// that reads inside the input (everything else reads padding).
    fn window(&self, ki: usize, kj: usize) -> Window {
        let rows = self.valid(ki, self.h, self.out_h());
        let cols = self.valid(kj, self.w, self.out_w());
        if rows.is_empty() || cols.is_empty() {
            // Only padding: no input pixel, and no offset that could point past the plane.
            return Window { rows: 0, run: 0, src_start: 0, dst_start: 0 };
        }
        Window {
            rows: rows.len(),
            run: cols.len(),
            src_start: (rows.start + ki - self.pad) * self.w + cols.start + kj - self.pad,
            dst_start: rows.start * self.out_w() + cols.start,
        }
    }
}

/// A rectangle of `rows` runs of `run` pixels, at `src_start` in an input
/// plane (rows `w` apart) and at `dst_start` in an output plane (rows
/// `out_w` apart).
struct Window {
    rows: usize,
    run: usize,
    src_start: usize,
    dst_start: usize,
}

/// Fills row `row` (channel, kernel row, kernel column) of the column
/// matrix from channel-major `src`; `d` must be zero where padding is read.
#[inline(always)]
fn unfold_row(src: &[f32], d: &mut [f32], row: usize, g: &Geometry) {
    let kk = g.k * g.k;
    let (ch, ki, kj) = (row / kk, row % kk / g.k, row % g.k);
    let (ow, plane, out_len) = (g.out_w(), g.h * g.w, g.out_len());
    let win = g.window(ki, kj);
    for img in 0..g.n {
        let s = &src[(ch * g.n + img) * plane + win.src_start..];
        let d = &mut d[img * out_len + win.dst_start..];
        copy_rect(d, ow, s, g.w, win.rows, win.run);
    }
}

/// Adds into plane number `plane` (channel · n + image) of the image every
/// column entry read from it; `d` starts zeroed.
#[inline(always)]
fn fold_plane(src: &[f32], d: &mut [f32], plane: usize, g: &Geometry) {
    let (ch, img) = (plane / g.n, plane % g.n);
    let (kk, ow, row_len) = (g.k * g.k, g.out_w(), g.row_len());
    for ki in 0..g.k {
        for kj in 0..g.k {
            let win = g.window(ki, kj);
            let s = &src[(ch * kk + ki * g.k + kj) * row_len + img * g.out_len() + win.dst_start..];
            add_rect(&mut d[win.src_start..], g.w, s, ow, win.rows, win.run);
        }
    }
}

struct Im2Col(Geometry);
struct Col2Im(Geometry);

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = self.0;
        let c = layout.shape().dims4()?.0;
        let src = f32_slice(self.name(), storage, layout)?;
        let mut dst = vec![0f32; c * g.k * g.k * g.row_len()];
        dst.par_chunks_mut(g.row_len()).enumerate().for_each(|(row, d)| unfold_row(src, d, row, &g));
        Ok((CpuStorage::F32(dst), Shape::from((c * g.k * g.k, g.row_len()))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, storage: &candle_core::CudaStorage, layout: &Layout) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let g = self.0;
        let c = layout.shape().dims4()?.0;
        let shape = Shape::from((c * g.k * g.k, g.row_len()));
        Ok((g.launch_cuda("im2col_f32", storage, layout, c, shape.elem_count())?, shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad_res.contiguous()?.apply_op1(Col2Im(self.0))?))
    }
}

impl CustomOp1 for Col2Im {
    fn name(&self) -> &'static str {
        "col2im"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = self.0;
        let c = g.channels_of_columns(layout.shape().dims2()?)?;
        let src = f32_slice(self.name(), storage, layout)?;
        let mut dst = vec![0f32; g.n * c * g.h * g.w];
        // One task per (channel, image) plane: each writes only its own plane.
        dst.par_chunks_mut(g.h * g.w).enumerate().for_each(|(plane, d)| fold_plane(src, d, plane, &g));
        Ok((CpuStorage::F32(dst), Shape::from((c, g.n, g.h, g.w))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, storage: &candle_core::CudaStorage, layout: &Layout) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let g = self.0;
        let c = g.channels_of_columns(layout.shape().dims2()?)?;
        let shape = Shape::from((c, g.n, g.h, g.w));
        Ok((g.launch_cuda("col2im_f32", storage, layout, c, shape.elem_count())?, shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad_res.contiguous()?.apply_op1(Im2Col(self.0))?))
    }
}

/// Unfolds every `k`×`k` patch (stride 1, `pad` zeros around) of a
/// channel-major C×N×H×W tensor into a (C·k·k) × (N·Ho·Wo) column matrix.
pub fn im2col(x: &Tensor, k: usize, pad: usize) -> candle_core::Result<Tensor> {
    let (_, n, h, w) = x.dims4()?;
    if h + 2 * pad < k || w + 2 * pad < k {
        candle_core::bail!("im2col: kernel {k} with padding {pad} does not fit a {h}x{w} input");
    }
    x.contiguous()?.apply_op1(Im2Col(Geometry { k, pad, n, h, w }))
}

/// The adjoint of [`im2col`]: sums every column entry back into the pixel it
/// was read from, giving C×`n`×`h`×`w` (channel-major).
pub fn col2im(cols: &Tensor, k: usize, pad: usize, n: usize, h: usize, w: usize) -> candle_core::Result<Tensor> {
    cols.contiguous()?.apply_op1(Col2Im(Geometry { k, pad, n, h, w }))
}
