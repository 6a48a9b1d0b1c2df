//! A convolution with bias over channel-major chunks of images (C×n×H×W),
//! with its backward pass, computed one of three ways ([`Method`]): a 3×3
//! convolution with stride 1 and padding 1 whose channel counts are
//! multiples of 8 by Winograd's minimal filtering ([`super::winograd`]);
//! any other one with stride 1 and a kernel wider than 1 directly from its
//! input planes ([`super::direct`]); the rest (1×1 and strided) as
//! im2col + GEMM. A 1×1 convolution's input already is its column matrix;
//! a strided one gathers only the pixels its outputs read (it is computed
//! at its stride, not subsampled).

use super::direct::Direct;
use super::elementwise::{accumulate_row_sums, add_into};
use super::gemm::{fill_rows, gemm, Op};
use super::params::Slot;
use super::winograd::{self, Variant, Winograd};
use crate::ops::kernels::{col2im_into, im2col_into, Geometry};

pub(crate) struct ConvLayer {
    /// Weight (c_out × c_in·k·k, PyTorch's order) followed by the bias.
    pub slot: Slot,
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    /// Output rows that get their bias here (the first ones; the rest are
    /// 1×1 convs moved before an average pool, whose bias comes after it).
    pub bias_rows: usize,
    /// How it is computed; set by the plan once layers are known.
    pub method: Method,
}

/// How a convolution is computed. The two with filters of their own (made
/// from the weights once per pass) give their offset in the engine's
/// buffer of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Gemm,
    Winograd { filters: usize },
    Direct { filters: usize },
}

/// The Winograd convs' transformed filters for a pass, and the variant they
/// were transformed for (F(4,3) for inference; F(2,3) for training, whose
/// gradients F(4,3)'s rounding would move by more than 1e-4).
#[derive(Clone, Copy)]
pub(crate) struct Filters<'a> {
    pub values: &'a [f32],
    pub variant: Variant,
}

impl ConvLayer {
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.k) / self.stride + 1
    }

    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.k) / self.stride + 1
    }

    /// The method that suits it, its filters (if any) at offset `filters`.
    pub fn choose_method(&self, filters: usize) -> Method {
        if self.k == 3 && self.stride == 1 && self.pad == 1 && Winograd::fits(self.c_in, self.c_out) {
            Method::Winograd { filters }
        } else if self.stride == 1 && self.k > 1 {
            Method::Direct { filters }
        } else {
            Method::Gemm
        }
    }

    /// This layer as a Winograd convolution of `variant`, with its filters' offset.
    fn as_winograd(&self, variant: Variant) -> Option<(Winograd, usize)> {
        match self.method {
            Method::Winograd { filters } => Some((Winograd { c_in: self.c_in, c_out: self.c_out, h: self.h, w: self.w, variant }, filters)),
            _ => None,
        }
    }

    /// This layer as a direct convolution, with its filters' offset.
    fn as_direct(&self) -> Option<(Direct, usize)> {
        match self.method {
            Method::Direct { filters } => {
                let (c_in, c_out, k, pad, h, w) = (self.c_in, self.c_out, self.k, self.pad, self.h, self.w);
                Some((Direct { c_in, c_out, k, pad, h, w, isa: crate::cpu::isa() }, filters))
            }
            _ => None,
        }
    }

    /// Floats of its own filters, for either Winograd variant (none for im2col).
    pub fn filters_len(&self) -> usize {
        let winograd = Variant::ALL.iter().filter_map(|&v| self.as_winograd(v)).map(|(wg, _)| wg.filters_len()).max();
        winograd.or(self.as_direct().map(|(d, _)| d.filters_len())).unwrap_or(0)
    }

    /// Writes its filters for `variant` (Winograd's; the direct ones are
    /// the same for both) from `params` into `filters`.
    pub fn transform_filters(&self, params: &[f32], filters: &mut [f32], variant: Variant) {
        let (weight, _) = self.slot.weight_bias(params, self.c_out);
        if let Some((wg, at)) = self.as_winograd(variant) {
            winograd::transform_filters(variant, weight, self.c_out, self.c_in, &mut filters[at..at + wg.filters_len()]);
        } else if let Some((direct, at)) = self.as_direct() {
            direct.pack_filters(weight, &mut filters[at..]);
        }
    }

    fn geometry(&self, n: usize) -> Geometry {
        Geometry { k: self.k, pad: self.pad, n, h: self.h, w: self.w }
    }

    /// Output pixels of `n` images, per channel.
    pub fn out_len(&self, n: usize) -> usize {
        n * self.out_h() * self.out_w()
    }

    /// Rows of the column matrix: one per weight of a filter.
    pub fn rows(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Floats the column matrix of `n` images needs (none for a 1×1 conv
    /// with stride 1, whose input already is its column matrix, nor for
    /// the methods that read their input in place).
    pub fn col_len(&self, n: usize) -> usize {
        if self.pointwise() || self.method != Method::Gemm {
            0
        } else {
            self.rows() * self.out_len(n)
        }
    }

    /// Floats of scratch its passes need for `n` images (`training`: the
    /// backward pass too).
    pub fn scratch_len(&self, n: usize, training: bool) -> usize {
        match self.method {
            Method::Winograd { .. } => Variant::ALL.iter().filter_map(|&v| self.as_winograd(v)).map(|(wg, _)| wg.scratch_len(n)).max().unwrap_or(0),
            Method::Direct { .. } => self.as_direct().map_or(0, |(d, _)| d.scratch_len(n, training)),
            Method::Gemm if training => self.col_len(n),
            Method::Gemm => 0,
        }
    }

    fn pointwise(&self) -> bool {
        self.k == 1 && self.pad == 0 && self.stride == 1
    }

    /// Output columns along an axis of input length `len` whose kernel
    /// offset `ki` reads inside the input (the others read padding).
    fn valid(&self, ki: usize, len: usize, out_len: usize) -> std::ops::Range<usize> {
        let s = self.stride;
        let start = self.pad.saturating_sub(ki).div_ceil(s);
        let end = if len + self.pad > ki { ((len + self.pad - ki - 1) / s + 1).min(out_len) } else { 0 };
        start..end.max(start)
    }

    /// For strided convolutions: calls `visit(row, out, columns, first)`
    /// for every output row of every image that reads inside the input: the
    /// column matrix's row (channel, ki, kj), the output row's offset in a
    /// column-matrix row, the output columns that read inside the input,
    /// and the input index the first of them reads (the next ones read every
    /// `stride`-th). The column matrix is zero everywhere else.
    #[inline(always)]
    fn for_each_run(&self, n: usize, mut visit: impl FnMut(usize, usize, std::ops::Range<usize>, usize)) {
        let (oh, ow, s, plane) = (self.out_h(), self.out_w(), self.stride, self.h * self.w);
        for c in 0..self.c_in {
            for ki in 0..self.k {
                let rows = self.valid(ki, self.h, oh);
                for kj in 0..self.k {
                    let cols = self.valid(kj, self.w, ow);
                    let row = (c * self.k + ki) * self.k + kj;
                    for img in 0..n {
                        for oy in rows.clone() {
                            let first = (c * n + img) * plane + (oy * s + ki - self.pad) * self.w + cols.start * s + kj - self.pad;
                            visit(row, (img * oh + oy) * ow, cols.clone(), first);
                        }
                    }
                }
            }
        }
    }

    /// Writes the column matrix of `x` into `col`; `padding_zeroed`: `col`
    /// last held this layer's columns for `n` images, so the entries that
    /// read padding (never written) are zero already.
    pub fn unfold_into(&self, x: &[f32], col: &mut [f32], n: usize, padding_zeroed: bool) {
        if self.stride == 1 {
            im2col_into(x, col, self.c_in, &self.geometry(n), padding_zeroed);
        } else {
            let (row_len, s) = (self.out_len(n), self.stride);
            let col = &mut col[..self.col_len(n)];
            if !padding_zeroed {
                col.fill(0.0);
            }
            #[cfg(target_arch = "x86_64")]
            if s == 2 && crate::cpu::avx2() {
                // SAFETY: the CPU has AVX2, checked just above.
                unsafe { self.gather_by_two_avx2(x, col, n) };
                return;
            }
            self.for_each_run(n, |row, out, cols, first| {
                gather(&mut col[row * row_len + out..][cols], &x[first..], s);
            });
        }
    }

    /// The column matrix of a stride-2 convolution, each run of up to 16
    /// pixels taken by vector shuffles (the others as [`gather`] does).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn gather_by_two_avx2(&self, x: &[f32], col: &mut [f32], n: usize) {
        let row_len = self.out_len(n);
        self.for_each_run(n, |row, out, cols, first| {
            let (dst, src) = (&mut col[row * row_len + out..][cols], &x[first..]);
            if dst.len() <= 16 && src.len() >= 32 {
                // SAFETY: AVX2 (this function's); 32 floats of `src`, at most 16 of `dst`.
                unsafe { by_two_avx2(dst, src) };
            } else {
                gather(dst, src, 2);
            }
        });
    }

    /// Overwrites `dx` with the adjoint of `unfold` applied to `col`.
    fn fold(&self, col: &[f32], dx: &mut [f32], n: usize) {
        if self.stride == 1 {
            col2im_into(col, dx, self.c_in, &self.geometry(n));
        } else {
            let (row_len, s) = (self.out_len(n), self.stride);
            dx[..self.c_in * n * self.h * self.w].fill(0.0);
            self.for_each_run(n, |row, out, cols, first| {
                let src = &col[row * row_len + out..][cols];
                src.iter().zip(dx[first..].iter_mut().step_by(s)).for_each(|(v, d)| *d += *v);
            });
        }
    }

    /// y = W · im2col(x) + b for `n` images; `col` keeps the column matrix
    /// for the backward pass (`padding_zeroed`: see [`ConvLayer::unfold_into`]).
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        params: &[f32],
        filters: Filters,
        x: &[f32],
        col: &mut [f32],
        padding_zeroed: bool,
        y: &mut [f32],
        scratch: &mut [f32],
        n: usize,
    ) {
        let (weight, bias) = self.slot.weight_bias(params, self.c_out);
        if let Some((wg, at)) = self.as_winograd(filters.variant) {
            wg.forward(&filters.values[at..], x, y, &bias[..self.bias_rows], scratch, n);
            return;
        }
        if let Some((direct, at)) = self.as_direct() {
            direct.forward(&filters.values[at..], x, y, &bias[..self.bias_rows], scratch, n);
            return;
        }
        let len = self.out_len(n);
        let y = &mut y[..self.c_out * len];
        let (with_bias, without) = y.split_at_mut(self.bias_rows * len);
        fill_rows(with_bias, bias, len);
        without.fill(0.0);
        let cols: &[f32] = if self.pointwise() {
            x
        } else {
            self.unfold_into(x, col, n, padding_zeroed);
            col
        };
        gemm(y, Op::N(weight), Op::N(cols), self.c_out, len, self.rows(), true);
    }

    /// Adds this layer's weight and bias gradients for output gradient `dy`
    /// to `grads`.
    /// A Winograd or direct conv adds its weight gradient to `filter_grads`
    /// (at its filters' offset, in its filters' layout) instead: see
    /// [`ConvLayer::finish_filter_grads`].
    #[allow(clippy::too_many_arguments)]
    pub fn backward_params(
        &self,
        grads: &mut [f32],
        filter_grads: &mut [f32],
        filters: Filters,
        x: &[f32],
        col: &[f32],
        dy: &[f32],
        scratch: &mut [f32],
        n: usize,
    ) {
        let len = self.out_len(n);
        let (dw, db) = self.slot.weight_bias_mut(grads, self.c_out);
        if let Some((wg, at)) = self.as_winograd(filters.variant) {
            wg.backward_filters(x, dy, &mut filter_grads[at..at + wg.filter_grads_len()], scratch, n);
        } else if let Some((direct, at)) = self.as_direct() {
            direct.backward_filters(x, dy, &mut filter_grads[at..], scratch, n);
        } else {
            let cols = if self.pointwise() { x } else { col };
            gemm(dw, Op::N(dy), Op::T(cols), self.c_out, self.rows(), len, true);
        }
        accumulate_row_sums(&mut db[..self.bias_rows], &dy[..self.bias_rows * len], len);
    }

    /// Adds the weight gradient a Winograd or direct conv summed in
    /// `filter_grads` over a pass's chunks to `grads`.
    pub fn finish_filter_grads(&self, grads: &mut [f32], filter_grads: &[f32], variant: Variant) {
        let (dw, _) = self.slot.weight_bias_mut(grads, self.c_out);
        if let Some((wg, at)) = self.as_winograd(variant) {
            wg.finish_filter_grads(&filter_grads[at..at + wg.filter_grads_len()], dw);
        } else if let Some((direct, at)) = self.as_direct() {
            direct.finish_filter_grads(&filter_grads[at..], dw);
        }
    }

    /// The input gradient for output gradient `dy`: overwrites `dx`, or adds
    /// to it when `accumulate`. `scratch` holds at least `scratch_len(n, true)`
    /// floats, and `spare` an input's worth when accumulating a non-pointwise
    /// conv by im2col.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_input(
        &self,
        params: &[f32],
        filters: Filters,
        dy: &[f32],
        dx: &mut [f32],
        accumulate: bool,
        scratch: &mut [f32],
        spare: &mut [f32],
        n: usize,
    ) {
        if let Some((wg, at)) = self.as_winograd(filters.variant) {
            wg.backward_input(&filters.values[at..], dy, dx, accumulate, scratch, n);
            return;
        }
        if let Some((direct, at)) = self.as_direct() {
            direct.backward_input(&filters.values[at..], dy, dx, accumulate, scratch, n);
            return;
        }
        let len = self.out_len(n);
        let (weight, _) = self.slot.weight_bias(params, self.c_out);
        if self.pointwise() {
            gemm(dx, Op::T(weight), Op::N(dy), self.c_in, len, self.c_out, accumulate);
            return;
        }
        gemm(scratch, Op::T(weight), Op::N(dy), self.rows(), len, self.c_out, false);
        if accumulate {
            let size = self.c_in * n * self.h * self.w;
            self.fold(scratch, spare, n);
            add_into(&mut dx[..size], &spare[..size]);
        } else {
            self.fold(scratch, dx, n);
        }
    }
}

/// `dst[j] = src[j·stride]` for every j of `dst`. Stride 2 at the run
/// lengths of 28×28 and 14×14 planes is written out for the compiler (the
/// lengths known, the loads unrolled without bounds checks).
#[inline(always)]
fn gather(dst: &mut [f32], src: &[f32], stride: usize) {
    /// Stride 2, `N` values.
    #[inline(always)]
    fn by_two<const N: usize>(dst: &mut [f32], src: &[f32]) {
        let dst: &mut [f32; N] = dst.try_into().expect("N values");
        let src = &src[..2 * N - 1];
        for (j, d) in dst.iter_mut().enumerate() {
            *d = src[2 * j];
        }
    }
    match (stride, dst.len()) {
        (2, 14) => by_two::<14>(dst, src),
        (2, 13) => by_two::<13>(dst, src),
        (2, 7) => by_two::<7>(dst, src),
        (2, 6) => by_two::<6>(dst, src),
        _ => dst.iter_mut().zip(src.iter().step_by(stride)).for_each(|(d, v)| *d = *v),
    }
}

/// `dst[j] = src[2j]` for the (at most 16) floats of `dst`, from the first
/// 32 of `src`: the even floats of each 16 by shuffles, then stored.
///
/// # Safety
/// AVX2 is present, `src` holds at least 32 floats and `dst` at most 16.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn by_two_avx2(dst: &mut [f32], src: &[f32]) {
    use crate::avx;
    use std::arch::x86_64::_mm256_loadu_ps;
    debug_assert!(src.len() >= 32 && dst.len() <= 16);
    // SAFETY: the caller guarantees AVX2 and the 32 floats read; the
    // stores write the first `dst.len()` floats of `dst` only.
    unsafe {
        let (p, q, len) = (src.as_ptr(), dst.as_mut_ptr(), dst.len());
        let (low, _) = avx::deinterleave(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
        avx::store(q, low, len.min(8));
        if len > 8 {
            let (high, _) = avx::deinterleave(_mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24)));
            avx::store(q.add(8), high, len - 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector stride-2 copy against the scalar one, every run length it takes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_stride_two_copies_match() {
        if !crate::cpu::avx2() {
            return;
        }
        let src: Vec<f32> = (0..40).map(|i| i as f32 * 0.5 - 3.0).collect();
        for len in 0..=16 {
            let (mut want, mut got) = (vec![f32::NAN; len + 3], vec![f32::NAN; len + 3]);
            gather(&mut want[..len], &src, 2);
            // SAFETY: AVX2 checked above; 40 floats read, at most 16 written.
            unsafe { by_two_avx2(&mut got[..len], &src) };
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "run of {len}");
        }
    }
}
