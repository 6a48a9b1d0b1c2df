//! Batch norm on one thread's channel-major share (C rows of `len` values).
//! In training the statistics and the backward pass's two sums are over the
//! whole batch, across threads: each thread adds its share's partial sums
//! (f64), the engine reduces them, and each thread finishes with the
//! batch's figures. The backward pass is one sweep for γ, β and the input.

use crate::model::{BN_EPS, BN_MOMENTUM};

/// Lanes of the sums below: independent accumulators, so the additions
/// need not wait for each other and vectorize. They run in f64: a conv
/// bias before a batch norm must get a gradient of zero (see
/// [`add_grad_sums`]), and f32 rounding would not cancel.
const LANES: usize = 8;

/// Σ f(a, b) and Σ g(a, b) over two equally long slices.
#[inline(always)]
fn sum_pairs(a: &[f32], b: &[f32], f: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut s, mut t) = ([0f64; LANES], [0f64; LANES]);
    let (a_lanes, b_lanes) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_rest, b_rest) = (a_lanes.remainder(), b_lanes.remainder());
    for (a, b) in a_lanes.zip(b_lanes) {
        for l in 0..LANES {
            let (x, y) = f(a[l] as f64, b[l] as f64);
            s[l] += x;
            t[l] += y;
        }
    }
    for (&a, &b) in a_rest.iter().zip(b_rest) {
        let (x, y) = f(a as f64, b as f64);
        s[0] += x;
        t[0] += y;
    }
    (s.iter().sum(), t.iter().sum())
}

/// Adds each channel's Σx and Σx² to `partial` (2 per channel).
#[inline(always)]
fn add_moments_generic(x: &[f32], len: usize, partial: &mut [f64]) {
    for (row, p) in x.chunks_exact(len).zip(partial.chunks_exact_mut(2)) {
        let (sum, squares) = sum_pairs(row, row, |v, _| (v, v * v));
        p[0] += sum;
        p[1] += squares;
    }
}

/// From the batch's Σx and Σx² over `count` values per channel: each
/// channel's mean and 1/√(var + eps) into `stats` (2 per channel), and
/// PyTorch's running statistics moved toward the batch's (unbiased variance).
pub(crate) fn finish_moments(sums: &[f64], count: usize, stats: &mut [f64], running_mean: &mut [f32], running_var: &mut [f32]) {
    for (ch, s) in sums.chunks_exact(2).enumerate() {
        let mean = s[0] / count as f64;
        let var = (s[1] / count as f64 - mean * mean).max(0.0);
        stats[2 * ch] = mean;
        stats[2 * ch + 1] = 1.0 / (var + BN_EPS).sqrt();
        let unbiased = var * count as f64 / (count as f64 - 1.0);
        running_mean[ch] = ((1.0 - BN_MOMENTUM) * running_mean[ch] as f64 + BN_MOMENTUM * mean) as f32;
        running_var[ch] = ((1.0 - BN_MOMENTUM) * running_var[ch] as f64 + BN_MOMENTUM * unbiased) as f32;
    }
}

/// Evaluation's statistics: the running mean and 1/√(running var + eps).
pub(crate) fn running_stats(running_mean: &[f32], running_var: &[f32], stats: &mut [f64]) {
    for ((s, &m), &v) in stats.chunks_exact_mut(2).zip(running_mean).zip(running_var) {
        s[0] = m as f64;
        s[1] = 1.0 / (v as f64 + BN_EPS).sqrt();
    }
}

/// y = γ·(x − mean)·inv_std + β per channel, then max(y, 0) when `relu`.
#[inline(always)]
fn normalize_generic(x: &[f32], y: &mut [f32], len: usize, stats: &[f64], gamma: &[f32], beta: &[f32], relu: bool) {
    for (ch, (x, y)) in x.chunks_exact(len).zip(y.chunks_exact_mut(len)).enumerate() {
        let scale = gamma[ch] as f64 * stats[2 * ch + 1];
        let (scale, shift) = (scale as f32, (beta[ch] as f64 - scale * stats[2 * ch]) as f32);
        if relu {
            y.iter_mut().zip(x).for_each(|(y, x)| *y = (x * scale + shift).max(0.0));
        } else {
            y.iter_mut().zip(x).for_each(|(y, x)| *y = x * scale + shift);
        }
    }
}

/// Adds each channel's Σdy and Σdy·x̂ to `partial` (2 per channel) and to
/// the β and γ gradients (`d_gamma_beta`: dγ then dβ). x̂ is computed in
/// f64: a conv's bias before a batch norm must get a gradient of zero, and
/// in f32 the rounding of the mean, amplified by 1/σ, would not cancel.
#[inline(always)]
fn add_grad_sums_generic(x: &[f32], dy: &[f32], len: usize, stats: &[f64], partial: &mut [f64], d_gamma_beta: &mut [f32]) {
    let c = stats.len() / 2;
    for (ch, (x, dy)) in x.chunks_exact(len).zip(dy.chunks_exact(len)).enumerate() {
        let (mean, inv_std) = (stats[2 * ch], stats[2 * ch + 1]);
        let (sum_dy, sum_dy_xhat) = sum_pairs(x, dy, |x, dy| (dy, dy * (x - mean) * inv_std));
        partial[2 * ch] += sum_dy;
        partial[2 * ch + 1] += sum_dy_xhat;
        d_gamma_beta[ch] += sum_dy_xhat as f32;
        d_gamma_beta[c + ch] += sum_dy as f32;
    }
}

/// The input gradient (in f64, see [`add_grad_sums`]), overwriting `dx` or adding to it: in training
/// γ·inv_std·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) with the batch's sums `sums` over
/// `count` values per channel; in evaluation (`sums` None) γ·inv_std·dy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn input_grad_generic(
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    accumulate: bool,
    len: usize,
    stats: &[f64],
    gamma: &[f32],
    sums: Option<(&[f64], usize)>,
) {
    for (ch, ((x, dy), dx)) in x.chunks_exact(len).zip(dy.chunks_exact(len)).zip(dx.chunks_exact_mut(len)).enumerate() {
        let (mean, inv_std) = (stats[2 * ch], stats[2 * ch + 1]);
        let k = gamma[ch] as f64 * inv_std;
        let (mean_dy, mean_dy_xhat) = match sums {
            Some((s, count)) => (s[2 * ch] / count as f64, s[2 * ch + 1] / count as f64),
            None => (0.0, 0.0),
        };
        for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
            let g = (k * (dy as f64 - mean_dy - (x as f64 - mean) * inv_std * mean_dy_xhat)) as f32;
            *dx = if accumulate { *dx + g } else { g };
        }
    }
}

with_simd! {
    /// [`add_moments_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn add_moments(x: &[f32], len: usize, partial: &mut [f64]) => add_moments_generic
}

with_simd! {
    /// [`normalize_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn normalize(x: &[f32], y: &mut [f32], len: usize, stats: &[f64], gamma: &[f32], beta: &[f32], relu: bool) => normalize_generic
}

with_simd! {
    /// [`add_grad_sums_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn add_grad_sums(x: &[f32], dy: &[f32], len: usize, stats: &[f64], partial: &mut [f64], d_gamma_beta: &mut [f32]) => add_grad_sums_generic
}

with_simd! {
    /// [`input_grad_generic`], compiled for AVX2 where the CPU has it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn input_grad(
        x: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        accumulate: bool,
        len: usize,
        stats: &[f64],
        gamma: &[f32],
        sums: Option<(&[f64], usize)>,
    ) => input_grad_generic
}
