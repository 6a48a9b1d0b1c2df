//! A convolution with bias over channel-major chunks of images (C×n×H×W),
//! with its backward pass, computed one of three ways ([`Method`]): a 3×3
//! convolution with stride 1 and padding 1 whose channel counts are
//! multiples of 8 by Winograd's minimal filtering ([`super::winograd`]); a
//! 1×1 convolution with stride 1 as one GEMM (its input is its own column
//! matrix); every other one directly from its input planes
//! ([`super::direct`]), no column matrix built. A strided convolution's
//! input gradient is no correlation: it is Wᵀ · dy by GEMM, scattered back
//! to the pixels each column read.

use super::direct::Direct;
use super::elementwise::accumulate_row_sums;
use super::gemm::{fill_rows, gemm, Op};
use super::params::Slot;
use super::winograd::{self, Variant, Winograd};
use std::ops::Range;

#[derive(Clone)]
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
        } else if self.pointwise() {
            Method::Gemm
        } else {
            Method::Direct { filters }
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
                let (c_in, c_out, k, stride, pad, h, w) = (self.c_in, self.c_out, self.k, self.stride, self.pad, self.h, self.w);
                Some((Direct { c_in, c_out, k, stride, pad, h, w, isa: crate::cpu::isa() }, filters))
            }
            _ => None,
        }
    }

    /// Floats of its own filters, for either Winograd variant (none for a 1×1 GEMM).
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

    /// Output pixels of `n` images, per channel.
    pub fn out_len(&self, n: usize) -> usize {
        n * self.out_h() * self.out_w()
    }

    /// Weights per filter: the rows of Wᵀ · dy for a strided input gradient.
    pub fn rows(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Floats of scratch its passes need for `n` images (`training`: the
    /// backward pass too).
    pub fn scratch_len(&self, n: usize, training: bool) -> usize {
        match self.method {
            Method::Winograd { .. } => {
                Variant::ALL.iter().filter_map(|&v| self.as_winograd(v)).map(|(wg, _)| wg.scratch_len(n)).max().unwrap_or(0)
            }
            Method::Direct { .. } => {
                let direct = self.as_direct().map_or(0, |(d, _)| d.scratch_len(n, training));
                let strided_input_grad = if training && self.stride > 1 { self.rows() * self.out_len(n) } else { 0 };
                direct.max(strided_input_grad)
            }
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

    /// Adds to `dx` (overwrites it, unless `accumulate`) the sum, for every
    /// weight (channel, ki, kj) and every output pixel, of that weight's
    /// row of `wt_dy` (Wᵀ · dy, c_in·k·k × pixels) at the input pixel the
    /// weight read for it (padding reads nothing back).
    fn scatter_back(&self, wt_dy: &[f32], dx: &mut [f32], n: usize, accumulate: bool) {
        let (oh, ow, s, plane) = (self.out_h(), self.out_w(), self.stride, self.h * self.w);
        let row_len = self.out_len(n);
        if !accumulate {
            dx[..self.c_in * n * plane].fill(0.0);
        }
        for c in 0..self.c_in {
            for ki in 0..self.k {
                let rows = self.valid(ki, self.h, oh);
                for kj in 0..self.k {
                    let cols = self.valid(kj, self.w, ow);
                    let row = &wt_dy[((c * self.k + ki) * self.k + kj) * row_len..][..row_len];
                    for img in 0..n {
                        for oy in rows.clone() {
                            let first = (c * n + img) * plane + (oy * s + ki - self.pad) * self.w + cols.start * s + kj - self.pad;
                            let src = &row[(img * oh + oy) * ow..][cols.clone()];
                            src.iter().zip(dx[first..].iter_mut().step_by(s)).for_each(|(v, d)| *d += *v);
                        }
                    }
                }
            }
        }
    }

    /// The output channels a window of [`ConvLayer::forward`] starts and
    /// ends at multiples of (or at c_out): a Winograd conv's transforms
    /// work on 8 channels at once, a direct conv's kernel on whole vectors.
    pub fn window_align(&self) -> usize {
        match self.method {
            Method::Winograd { .. } => super::staging::LANES,
            Method::Direct { .. } => self.as_direct().map_or(1, |(d, _)| d.channels_per_vector()),
            Method::Gemm => 1,
        }
    }

    /// y = conv(x) + b for `n` images, output channels `window` only (`y`
    /// holds those; the window as [`ConvLayer::window_align`] says): all of
    /// them, or a thread's part of one image's.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(&self, params: &[f32], filters: Filters, x: &[f32], y: &mut [f32], scratch: &mut [f32], n: usize, window: Range<usize>) {
        let (weight, bias) = self.slot.weight_bias(params, self.c_out);
        // The window's channels that get their bias here.
        let bias = &bias[window.start.min(self.bias_rows)..window.end.min(self.bias_rows)];
        if let Some((wg, at)) = self.as_winograd(filters.variant) {
            wg.forward(&filters.values[at..], x, y, bias, scratch, n, window);
        } else if let Some((direct, at)) = self.as_direct() {
            direct.forward(&filters.values[at..], x, y, bias, scratch, n, window);
        } else {
            let len = self.out_len(n);
            let y = &mut y[..window.len() * len];
            let (with_bias, without) = y.split_at_mut(bias.len() * len);
            fill_rows(with_bias, bias, len);
            without.fill(0.0);
            let weight = &weight[window.start * self.c_in..window.end * self.c_in];
            gemm(y, Op::N(weight), Op::N(x), window.len(), len, self.c_in, true);
        }
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
            gemm(dw, Op::N(dy), Op::T(x), self.c_out, self.c_in, len, true);
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
    /// floats.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_input(
        &self,
        params: &[f32],
        filters: Filters,
        dy: &[f32],
        dx: &mut [f32],
        accumulate: bool,
        scratch: &mut [f32],
        n: usize,
    ) {
        let len = self.out_len(n);
        let (weight, _) = self.slot.weight_bias(params, self.c_out);
        if let Some((wg, at)) = self.as_winograd(filters.variant) {
            wg.backward_input(&filters.values[at..], dy, dx, accumulate, scratch, n);
        } else if self.pointwise() {
            gemm(dx, Op::T(weight), Op::N(dy), self.c_in, len, self.c_out, accumulate);
        } else if let Some((direct, at)) = self.as_direct().filter(|_| self.stride == 1) {
            direct.backward_input(&filters.values[at..], dy, dx, accumulate, scratch, n);
        } else {
            gemm(scratch, Op::T(weight), Op::N(dy), self.rows(), len, self.c_out, false);
            self.scatter_back(scratch, dx, n, accumulate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strides 2 and 3, kernels 1 to 5, odd and even widths, padding that
    /// leaves some input pixels unread: against one strided add per weight
    /// and output pixel.
    #[test]
    fn scatter_back_adds_each_column_where_it_was_read() {
        for (c_in, k, stride, pad, h, w, n) in
            [(2, 3, 2, 1, 7, 9, 2), (3, 1, 2, 0, 6, 5, 1), (1, 3, 3, 1, 8, 10, 3), (2, 5, 2, 2, 9, 11, 2), (1, 3, 2, 0, 8, 8, 1)]
        {
            let slot = Slot { offset: 0, len: 0 };
            let conv = ConvLayer { slot, c_in, c_out: 1, k, stride, pad, h, w, bias_rows: 1, method: Method::Gemm };
            let (oh, ow, row_len) = (conv.out_h(), conv.out_w(), conv.out_len(n));
            let wt_dy: Vec<f32> = (0..conv.rows() * row_len).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
            let mut want = vec![0f64; c_in * n * h * w];
            for c in 0..c_in {
                for (ki, kj) in (0..k).flat_map(|ki| (0..k).map(move |kj| (ki, kj))) {
                    for (img, oy, ox) in (0..n).flat_map(|img| (0..oh).flat_map(move |oy| (0..ow).map(move |ox| (img, oy, ox)))) {
                        let (iy, ix) = ((oy * stride + ki) as isize - pad as isize, (ox * stride + kj) as isize - pad as isize);
                        if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                            let v = wt_dy[((c * k + ki) * k + kj) * row_len + (img * oh + oy) * ow + ox];
                            want[((c * n + img) * h + iy as usize) * w + ix as usize] += v as f64;
                        }
                    }
                }
            }
            let mut got = vec![f32::NAN; want.len()];
            conv.scatter_back(&wt_dy, &mut got, n, false);
            for (got, want) in got.iter().zip(&want) {
                assert!((*got as f64 - want).abs() < 1e-5, "k{k} stride {stride} pad {pad} {h}×{w}: {got} against {want}");
            }
            // Added to what is there.
            let before: Vec<f32> = (0..want.len()).map(|i| (i % 7) as f32 - 3.0).collect();
            let mut got = before.clone();
            conv.scatter_back(&wt_dy, &mut got, n, true);
            for ((got, want), b) in got.iter().zip(&want).zip(&before) {
                assert!((*got as f64 - want - *b as f64).abs() < 1e-5, "k{k} stride {stride} pad {pad} {h}×{w} added: {got}");
            }
        }
    }
}
