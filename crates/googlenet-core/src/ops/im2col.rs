//! im2col and its adjoint col2im, for square kernels with stride 1.
//!
//! A convolution becomes `W(Cout × C·k·k) · im2col(x)` per image, so its
//! forward and both gradients run in candle's GEMM-backed matmul. candle's
//! own conv2d computes the input gradient with a plain-loop
//! conv_transpose2d, which made the backward pass the bottleneck.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::f32_slice;

/// Geometry shared by both directions: kernel `k`, zero padding `pad`,
/// input planes of `h`×`w`.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    k: usize,
    pad: usize,
    h: usize,
    w: usize,
}

impl Geometry {
    fn out_h(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }

    fn out_w(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }

    /// For kernel offset `ki` along an axis of input length `len` and output
    /// length `out_len`: the output positions that read inside the input
    /// (the rest read padding), as a range.
    fn valid(&self, ki: usize, len: usize, out_len: usize) -> std::ops::Range<usize> {
        let start = self.pad.saturating_sub(ki);
        let end = (len + self.pad).saturating_sub(ki).min(out_len);
        start..end.max(start)
    }

    /// Calls `f(col_row, out_y, in_y, out_x_range, in_x_start)` for every
    /// run of valid positions, in the column matrix's row order.
    fn for_each_run(&self, c: usize, mut f: impl FnMut(usize, usize, usize, std::ops::Range<usize>, usize)) {
        let (oh, ow) = (self.out_h(), self.out_w());
        for ch in 0..c {
            for ki in 0..self.k {
                let ys = self.valid(ki, self.h, oh);
                for kj in 0..self.k {
                    let xs = self.valid(kj, self.w, ow);
                    let row = (ch * self.k + ki) * self.k + kj;
                    for oy in ys.clone() {
                        let iy = oy + ki - self.pad;
                        f(row, oy, ch * self.h + iy, xs.clone(), xs.start + kj - self.pad);
                    }
                }
            }
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
        let (n, c, _, _) = layout.shape().dims4()?;
        let src = f32_slice(self.name(), storage, layout)?;
        let (rows, cols) = (c * g.k * g.k, g.out_h() * g.out_w());
        let ow = g.out_w();
        let mut dst = vec![0f32; n * rows * cols];
        dst.par_chunks_mut(rows * cols).zip(src.par_chunks(c * g.h * g.w)).for_each(|(d, s)| {
            g.for_each_run(c, |row, oy, in_row, xs, ix| {
                let out = row * cols + oy * ow;
                let len = xs.len();
                d[out + xs.start..out + xs.end].copy_from_slice(&s[in_row * g.w + ix..in_row * g.w + ix + len]);
            });
        });
        Ok((CpuStorage::F32(dst), Shape::from((n, rows, cols))))
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
        let (n, rows, cols) = layout.shape().dims3()?;
        if rows % (g.k * g.k) != 0 || cols != g.out_h() * g.out_w() {
            candle_core::bail!("col2im: a {rows}x{cols} column matrix does not fit kernel {} on {}x{}", g.k, g.h, g.w);
        }
        let c = rows / (g.k * g.k);
        let src = f32_slice(self.name(), storage, layout)?;
        let ow = g.out_w();
        let mut dst = vec![0f32; n * c * g.h * g.w];
        dst.par_chunks_mut(c * g.h * g.w).zip(src.par_chunks(rows * cols)).for_each(|(d, s)| {
            g.for_each_run(c, |row, oy, in_row, xs, ix| {
                let from = &s[row * cols + oy * ow + xs.start..row * cols + oy * ow + xs.end];
                for (acc, v) in d[in_row * g.w + ix..].iter_mut().zip(from) {
                    *acc += v;
                }
            });
        });
        Ok((CpuStorage::F32(dst), Shape::from((n, c, g.h, g.w))))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad_res.contiguous()?.apply_op1(Im2Col(self.0))?))
    }
}

/// Unfolds every `k`×`k` patch (stride 1, `pad` zeros around) of an
/// N×C×H×W tensor into columns: N × (C·k·k) × (Ho·Wo), rows ordered as
/// PyTorch's conv weight (channel, kernel row, kernel column).
pub fn im2col(x: &Tensor, k: usize, pad: usize) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if h + 2 * pad < k || w + 2 * pad < k {
        candle_core::bail!("im2col: kernel {k} with padding {pad} does not fit a {h}x{w} input");
    }
    x.contiguous()?.apply_op1(Im2Col(Geometry { k, pad, h, w }))
}

/// The adjoint of [`im2col`]: sums every column entry back into the pixel it
/// was read from, giving N×C×`h`×`w`.
pub fn col2im(cols: &Tensor, k: usize, pad: usize, h: usize, w: usize) -> candle_core::Result<Tensor> {
    cols.contiguous()?.apply_op1(Col2Im(Geometry { k, pad, h, w }))
}
