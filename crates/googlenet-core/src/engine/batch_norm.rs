//! Batch norm on one thread's channel-major share (C rows of `len` values).
//! In training the statistics and the backward pass's two sums are over the
//! whole batch, across threads: each thread adds its share's partial sums
//! (in f64), the engine reduces them, and each thread finishes with the
//! batch's figures. The backward pass is one sweep for γ, β and the input.

use super::elementwise::larger;
use crate::model::{BN_EPS, BN_MOMENTUM};

/// Lanes of the sums below: independent accumulators, so the additions
/// need not wait for each other (two AVX-512 or four AVX2 vectors per sum).
const LANES: usize = 32;

/// Values per lane summed in f32 before the lanes are added into f64: the
/// f32 sums then carry at most 32 roundings each, and the totals over a
/// batch (hundreds of thousands of values) are f64's.
const BLOCK: usize = 32 * LANES;

/// Σ f(a, b) and Σ g(a, b) over two equally long slices, in f32 lanes
/// added into f64 every [`BLOCK`] values.
#[inline(always)]
fn sum_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    let (mut total_s, mut total_t) = (0f64, 0f64);
    for (a, b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        let (mut s, mut t) = ([0f32; LANES], [0f32; LANES]);
        let (a_lanes, b_lanes) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (a_rest, b_rest) = (a_lanes.remainder(), b_lanes.remainder());
        for (a, b) in a_lanes.zip(b_lanes) {
            for l in 0..LANES {
                let (x, y) = f(a[l], b[l]);
                s[l] += x;
                t[l] += y;
            }
        }
        for (l, (&a, &b)) in a_rest.iter().zip(b_rest).enumerate() {
            let (x, y) = f(a, b);
            s[l] += x;
            t[l] += y;
        }
        total_s += s.iter().map(|&v| v as f64).sum::<f64>();
        total_t += t.iter().map(|&v| v as f64).sum::<f64>();
    }
    (total_s, total_t)
}

/// Adds each channel's Σx and Σx² to `partial` (2 per channel). The f32
/// sums are of x − s, s the row's first value: near the mean, so that
/// Σx² − (Σx)²/N (the variance) does not cancel in them; the shift comes
/// back exactly in f64.
#[inline(always)]
fn add_moments_generic(x: &[f32], len: usize, partial: &mut [f64]) {
    for (row, p) in x.chunks_exact(len).zip(partial.chunks_exact_mut(2)) {
        let shift = row[0];
        let (sum, squares) = sum_pairs(row, row, |v, _| {
            let d = v - shift;
            (d, d * d)
        });
        let (s, n) = (shift as f64, len as f64);
        p[0] += sum + n * s;
        p[1] += squares + 2.0 * s * sum + n * s * s;
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
            y.iter_mut().zip(x).for_each(|(y, x)| *y = larger(x * scale + shift, 0.0));
        } else {
            y.iter_mut().zip(x).for_each(|(y, x)| *y = x * scale + shift);
        }
    }
}

/// Adds each channel's Σdy and Σdy·x̂ to `partial` (2 per channel) and to
/// the β and γ gradients (`d_gamma_beta`: dγ then dβ). The f32 sums are
/// of dy·(x − m), m the mean rounded to f32; the rounding, which 1/σ
/// amplifies, is taken back in f64 (m − mean)·Σdy: else the gradient of a
/// conv's bias before a batch norm, zero but for rounding, would not be.
#[inline(always)]
fn add_grad_sums_generic(x: &[f32], dy: &[f32], len: usize, stats: &[f64], partial: &mut [f64], d_gamma_beta: &mut [f32]) {
    let c = stats.len() / 2;
    for (ch, (x, dy)) in x.chunks_exact(len).zip(dy.chunks_exact(len)).enumerate() {
        let (mean, inv_std) = (stats[2 * ch], stats[2 * ch + 1]);
        let m = mean as f32;
        let (sum_dy, sum_dy_centred) = sum_pairs(x, dy, |x, dy| (dy, dy * (x - m)));
        let sum_dy_xhat = (sum_dy_centred + (m as f64 - mean) * sum_dy) * inv_std;
        partial[2 * ch] += sum_dy;
        partial[2 * ch + 1] += sum_dy_xhat;
        d_gamma_beta[ch] += sum_dy_xhat as f32;
        d_gamma_beta[c + ch] += sum_dy as f32;
    }
}

/// The input gradient, overwriting `dx` or adding to it: in training
/// γ·inv_std·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) with the batch's sums `sums` over
/// `count` values per channel; in evaluation (`sums` None) γ·inv_std·dy.
/// Per value in f32 as a·dy + b·(x − m) + c, m the mean rounded to f32 (as
/// in [`add_grad_sums`]), the coefficients made in f64.
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
        let m = mean as f32;
        let b = -k * inv_std * mean_dy_xhat;
        let (a, b, c) = (k as f32, b as f32, (-k * mean_dy + b * (m as f64 - mean)) as f32);
        for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
            let g = a * dy + (b * (x - m) + c);
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Channels far from zero relative to their spread (where Σx² − (Σx)²/N
    /// cancels), and centred ones; rows shorter and longer than a block,
    /// split in two chunks: the statistics, the two backward sums and the
    /// input gradient against f64 definitions, and the input gradient's
    /// sum per channel (a conv bias's gradient before a batch norm) zero to
    /// within f32 rounding of its terms.
    #[test]
    fn match_f64_definitions() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (len, offset, spread) in [(37, 0.0, 1.0), (392, 100.0, 0.01), (6272, -3.0, 0.5), (2500, 1e3, 2.0)] {
            let channels = 3;
            let x: Vec<f32> = (0..channels * len).map(|_| offset + spread * rng.random_range(-1.0f32..1.0)).collect();
            let dy: Vec<f32> = (0..channels * len).map(|_| rng.random_range(-1.0f32..1.0) + 0.3).collect();
            let gamma = [0.5f32, 1.0, 2.0];
            let (half, rows) = (len / 2, |v: &[f32], ch: usize| v[ch * len..(ch + 1) * len].to_vec());
            // Two chunks of the batch: each row's first and second halves.
            let chunks: Vec<(Vec<f32>, Vec<f32>)> = [0..half, half..len]
                .iter()
                .map(|r| {
                    let part = |v: &[f32]| (0..channels).flat_map(|ch| rows(v, ch)[r.clone()].to_vec()).collect::<Vec<_>>();
                    (part(&x), part(&dy))
                })
                .collect();
            let mut partial = vec![0f64; 2 * channels];
            for (cx, _) in &chunks {
                add_moments(cx, cx.len() / channels, &mut partial);
            }
            let (mut stats, mut running_mean, mut running_var) = (vec![0f64; 2 * channels], vec![0f32; channels], vec![1f32; channels]);
            finish_moments(&partial, len, &mut stats, &mut running_mean, &mut running_var);
            let mut sums = vec![0f64; 2 * channels];
            let mut d_gamma_beta = vec![0f32; 2 * channels];
            for (cx, cdy) in &chunks {
                add_grad_sums(cx, cdy, cx.len() / channels, &stats, &mut sums, &mut d_gamma_beta);
            }
            let mut dx = vec![f32::NAN; x.len()];
            input_grad(&x, &dy, &mut dx, false, len, &stats, &gamma, Some((&sums, len)));
            for ch in 0..channels {
                let (x, dy, dx) = (rows(&x, ch), rows(&dy, ch), &dx[ch * len..(ch + 1) * len]);
                let mean = x.iter().map(|&v| v as f64).sum::<f64>() / len as f64;
                let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / len as f64;
                let inv_std = 1.0 / (var + BN_EPS).sqrt();
                assert!((stats[2 * ch] - mean).abs() < 1e-6 * spread as f64, "{len}, {offset}: mean {} against {mean}", stats[2 * ch]);
                assert!((stats[2 * ch + 1] / inv_std - 1.0).abs() < 1e-5, "{len}, {offset}: 1/σ {} against {inv_std}", stats[2 * ch + 1]);
                let xhat: Vec<f64> = x.iter().map(|&v| (v as f64 - mean) * inv_std).collect();
                let sum_dy: f64 = dy.iter().map(|&g| g as f64).sum();
                let sum_dy_xhat: f64 = dy.iter().zip(&xhat).map(|(&g, h)| g as f64 * h).sum();
                let scale = dy.iter().map(|&g| (g as f64).abs()).sum::<f64>();
                assert!((sums[2 * ch] - sum_dy).abs() < 1e-6 * scale, "{len}, {offset}: Σdy");
                assert!((sums[2 * ch + 1] - sum_dy_xhat).abs() < 1e-5 * scale, "{len}, {offset}: Σdy·x̂");
                let k = gamma[ch] as f64 * inv_std;
                let mut total = 0f64;
                for ((&got, &g), h) in dx.iter().zip(&dy).zip(&xhat) {
                    let want = k * (g as f64 - sum_dy / len as f64 - h * sum_dy_xhat / len as f64);
                    assert!((got as f64 - want).abs() < 1e-5 * k, "{len}, {offset}: dx {got} against {want}");
                    total += got as f64;
                }
                assert!(total.abs() < 1e-5 * k * (len as f64).sqrt(), "{len}, {offset}: Σdx = {total}, not 0");
            }
        }
    }
}
