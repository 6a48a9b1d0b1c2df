//! Inception-A on channel-major chunks, forward and backward.
//!
//! The four 1×1 convolutions that read the module's input run as one GEMM
//! (the "heads": 16 rows for branch1x1, 16 for branch5x5_1, 16 for
//! branch3x3_1, 24 for branch_pool, whose conv moves before its average
//! pool: both are linear, so they commute, and its bias is added after the
//! pool). Every branch writes its rows of the concatenated output directly.

use super::conv::ConvLayer;
use super::gemm::{accumulate_row_sums, add_rows};
use super::params::ParamLayout;
use crate::ops::kernels::avg_pool3x3_planes;

/// Output channels: 16 + 24 + 24 + 24.
pub(crate) const OUT_CHANNELS: usize = 88;
const HEADS: usize = 72;
/// Rows of the heads output: branch1x1, branch5x5_1, branch3x3_1, branch_pool.
const B1: std::ops::Range<usize> = 0..16;
const B5: std::ops::Range<usize> = 16..32;
const B3: std::ops::Range<usize> = 32..48;
const POOL: std::ops::Range<usize> = 48..72;
/// Rows of the concatenated output.
const OUT_5X5: std::ops::Range<usize> = 16..40;
const OUT_3X3: std::ops::Range<usize> = 40..64;
const OUT_POOL: std::ops::Range<usize> = 64..88;

pub(crate) struct Inception {
    heads: ConvLayer,
    branch5x5: ConvLayer,
    branch3x3_a: ConvLayer,
    branch3x3_b: ConvLayer,
    h: usize,
    w: usize,
}

/// The parameter order the heads GEMM needs: four weights side by side
/// (one 72 × in matrix), then their four biases (the pool's last).
pub(crate) fn layout_names(prefix: &str) -> Vec<String> {
    let heads = ["branch1x1", "branch5x5_1", "branch3x3_1", "branch_pool"];
    let rest = ["branch5x5_2", "branch3x3_2", "branch3x3_3"];
    let mut names: Vec<String> = heads.iter().map(|b| format!("{prefix}.{b}.weight")).collect();
    names.extend(heads.iter().map(|b| format!("{prefix}.{b}.bias")));
    for b in rest {
        names.push(format!("{prefix}.{b}.weight"));
        names.push(format!("{prefix}.{b}.bias"));
    }
    names
}

/// Per-thread buffers for `n` images.
pub(crate) struct InceptionBuffers {
    heads: Vec<f32>,
    col5: Vec<f32>,
    col3a: Vec<f32>,
    mid3: Vec<f32>,
    col3b: Vec<f32>,
    d_heads: Vec<f32>,
    d_mid3: Vec<f32>,
}

impl Inception {
    pub fn new(layout: &ParamLayout, prefix: &str, c_in: usize, h: usize, w: usize) -> Self {
        let slot = |name: &str| layout.slot(&format!("{prefix}.{name}.weight"), &format!("{prefix}.{name}.bias"));
        let heads_slot = layout.slot(&format!("{prefix}.branch1x1.weight"), &format!("{prefix}.branch_pool.bias"));
        let mut heads = ConvLayer::new(heads_slot, c_in, HEADS, 1, 0, h, w);
        heads.bias_rows = POOL.start;
        Self {
            heads,
            branch5x5: ConvLayer::new(slot("branch5x5_2"), 16, 24, 5, 2, h, w),
            branch3x3_a: ConvLayer::new(slot("branch3x3_2"), 16, 24, 3, 1, h, w),
            branch3x3_b: ConvLayer::new(slot("branch3x3_3"), 24, 24, 3, 1, h, w),
            h,
            w,
        }
    }

    pub fn buffers(&self, n: usize) -> InceptionBuffers {
        let len = n * self.h * self.w;
        InceptionBuffers {
            heads: vec![0.0; HEADS * len],
            col5: vec![0.0; self.branch5x5.col_len(n)],
            col3a: vec![0.0; self.branch3x3_a.col_len(n)],
            mid3: vec![0.0; 24 * len],
            col3b: vec![0.0; self.branch3x3_b.col_len(n)],
            d_heads: vec![0.0; HEADS * len],
            d_mid3: vec![0.0; 24 * len],
        }
    }

    /// Scratch the backward pass needs for `n` images (its largest column matrix).
    pub fn scratch_len(&self, n: usize) -> usize {
        [&self.branch5x5, &self.branch3x3_a, &self.branch3x3_b].iter().map(|c| c.col_len(n)).max().unwrap_or(0)
    }

    fn pool_bias<'a>(&self, buf: &'a [f32]) -> &'a [f32] {
        &self.heads.slot.weight_bias(buf, HEADS).1[POOL]
    }

    /// `out` (88 × n·h·w) = the module applied to `x` (in × n·h·w).
    pub fn forward(&self, params: &[f32], x: &[f32], out: &mut [f32], buf: &mut InceptionBuffers, n: usize) {
        let plane = self.h * self.w;
        let len = n * plane;
        let rows = |r: std::ops::Range<usize>| r.start * len..r.end * len;
        self.heads.forward(params, x, &mut [], &mut buf.heads, n);
        out[rows(B1)].copy_from_slice(&buf.heads[rows(B1)]);
        self.branch5x5.forward(params, &buf.heads[rows(B5)], &mut buf.col5, &mut out[rows(OUT_5X5)], n);
        self.branch3x3_a.forward(params, &buf.heads[rows(B3)], &mut buf.col3a, &mut buf.mid3, n);
        self.branch3x3_b.forward(params, &buf.mid3, &mut buf.col3b, &mut out[rows(OUT_3X3)], n);
        let pooled = &mut out[rows(OUT_POOL)];
        avg_pool3x3_planes(&buf.heads[rows(POOL)], pooled, self.h, self.w);
        add_rows(pooled, self.pool_bias(params), len);
    }

    /// Accumulates the module's parameter gradients for output gradient
    /// `d_out` into `grads`, and overwrites `dx` with the input gradient when
    /// given. Needs the buffers of the forward pass over the same `x`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        d_out: &[f32],
        dx: Option<&mut [f32]>,
        scratch: &mut [f32],
        buf: &mut InceptionBuffers,
        n: usize,
    ) {
        let plane = self.h * self.w;
        let len = n * plane;
        let rows = |r: std::ops::Range<usize>| r.start * len..r.end * len;
        let InceptionBuffers { heads, col5, col3a, mid3, col3b, d_heads, d_mid3 } = buf;
        d_heads[rows(B1)].copy_from_slice(&d_out[rows(B1)]);
        self.branch5x5.backward(
            params,
            grads,
            &heads[rows(B5)],
            col5,
            &d_out[rows(OUT_5X5)],
            Some((&mut d_heads[rows(B5)], &mut *scratch)),
            n,
        );
        self.branch3x3_b.backward(params, grads, mid3, col3b, &d_out[rows(OUT_3X3)], Some((&mut d_mid3[..], &mut *scratch)), n);
        self.branch3x3_a.backward(params, grads, &heads[rows(B3)], col3a, d_mid3, Some((&mut d_heads[rows(B3)], &mut *scratch)), n);
        let d_pooled = &d_out[rows(OUT_POOL)];
        accumulate_row_sums(&mut self.heads.slot.weight_bias_mut(grads, HEADS).1[POOL], d_pooled, len);
        // The pool is its own adjoint (linear, symmetric stencil, constant divisor).
        avg_pool3x3_planes(d_pooled, &mut d_heads[rows(POOL)], self.h, self.w);
        self.heads.backward(params, grads, x, &[], d_heads, dx.map(|dx| (dx, &mut *scratch)), n);
    }
}
