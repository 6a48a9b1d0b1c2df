//! A stride-1 convolution with bias over channel-major chunks of images
//! (C×n×H×W), as im2col + GEMM, with its backward pass.

use super::gemm::{accumulate_row_sums, fill_rows, gemm, Op};
use super::params::Slot;
use crate::ops::kernels::{col2im_into, im2col_into, Geometry};

pub(crate) struct ConvLayer {
    /// Weight (c_out × c_in·k·k, PyTorch's order) followed by the bias.
    pub slot: Slot,
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub pad: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    /// Output rows that get their bias here (all but the Inception pool
    /// branch's rows, whose bias is added after the pool).
    pub bias_rows: usize,
}

impl ConvLayer {
    pub fn new(slot: Slot, c_in: usize, c_out: usize, k: usize, pad: usize, h: usize, w: usize) -> Self {
        Self { slot, c_in, c_out, k, pad, h, w, bias_rows: c_out }
    }

    pub fn geometry(&self, n: usize) -> Geometry {
        Geometry { k: self.k, pad: self.pad, n, h: self.h, w: self.w }
    }

    /// Output pixels of `n` images, per channel.
    pub fn out_len(&self, n: usize) -> usize {
        self.geometry(n).row_len()
    }

    /// Rows of the column matrix: one per weight of a filter.
    pub fn rows(&self) -> usize {
        self.c_in * self.k * self.k
    }

    /// Floats the column matrix of `n` images needs (none for a 1×1 conv,
    /// whose input already is its column matrix).
    pub fn col_len(&self, n: usize) -> usize {
        if self.pointwise() {
            0
        } else {
            self.rows() * self.out_len(n)
        }
    }

    fn pointwise(&self) -> bool {
        self.k == 1 && self.pad == 0
    }

    /// y = W · im2col(x) + b for `n` images; `col` keeps the column matrix
    /// for the backward pass.
    pub fn forward(&self, params: &[f32], x: &[f32], col: &mut [f32], y: &mut [f32], n: usize) {
        let (weight, bias) = self.slot.weight_bias(params, self.c_out);
        let len = self.out_len(n);
        let y = &mut y[..self.c_out * len];
        let (with_bias, without) = y.split_at_mut(self.bias_rows * len);
        fill_rows(with_bias, bias, len);
        without.fill(0.0);
        let cols: &[f32] = if self.pointwise() {
            x
        } else {
            im2col_into(x, col, self.c_in, &self.geometry(n));
            col
        };
        gemm(y, Op::N(weight), Op::N(cols), self.c_out, len, self.rows(), true);
    }

    /// Adds this layer's weight and bias gradients for output gradient `dy`
    /// to `grads`; when `dx` is given as (input gradient, scratch of at least
    /// `col_len(n)` floats), also overwrites the input gradient.
    pub fn backward(
        &self,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        col: &[f32],
        dy: &[f32],
        dx: Option<(&mut [f32], &mut [f32])>,
        n: usize,
    ) {
        let len = self.out_len(n);
        let cols = if self.pointwise() { x } else { col };
        let (dw, db) = self.slot.weight_bias_mut(grads, self.c_out);
        gemm(dw, Op::N(dy), Op::T(cols), self.c_out, self.rows(), len, true);
        accumulate_row_sums(&mut db[..self.bias_rows], &dy[..self.bias_rows * len], len);
        let Some((dx, scratch)) = dx else { return };
        let (weight, _) = self.slot.weight_bias(params, self.c_out);
        if self.pointwise() {
            gemm(dx, Op::T(weight), Op::N(dy), self.c_in, len, self.c_out, false);
        } else {
            gemm(scratch, Op::T(weight), Op::N(dy), self.rows(), len, self.c_out, false);
            col2im_into(scratch, dx, self.c_in, &self.geometry(n));
        }
    }
}
