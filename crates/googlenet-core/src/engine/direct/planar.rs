//! The forward pass of a stride-1 convolution with few multiply-adds per
//! output (a first layer: 1 input channel × 5 × 5 in LeNet, × 3 × 3 in
//! the ResNets), vectorized over the output pixels of a row instead of
//! over output channels. Why: the channel-vectorized kernel keeps a tile
//! as pixels × channels and transposes it to the channel-major output
//! lane by lane; at 9 or 25 multiply-adds per output that transposition
//! took as long as the arithmetic, and LeNet's 6 channels filled 12 of
//! AVX-512's 16 lanes (as two images' halves). Here a vector holds
//! consecutive pixels of one output row, as the output stores them, and a
//! tile is up to 8 output channels × up to 4 vectors of the row: for every
//! (input channel, kernel row, kernel column) it loads the row's shifted
//! input once per vector and multiplies it by each channel's weight,
//! broadcast. The sums run in the same order as the channel kernel's, so
//! the two give the same floats.

use std::ops::Range;

use super::{run_on, stage_planes, Kernel, Lanes};
use crate::cpu::Isa;

/// Output channels per tile, at most.
const MAX_CHANNELS: usize = 8;
/// Vectors of a row per tile, at most.
const MAX_VECTORS: usize = 4;

/// One forward pass as [`planar`] runs it: `src` holds `c_in` planes of
/// `n` images, each `rows` × `cols` with the padding already around it,
/// then at least one vector of slack (the last vector of a row reads past
/// its end); `filters` are [input channel][ki][kj][output channel]; the
/// output holds channels `window` (× n × out_h × out_w).
pub(super) struct Planar<'a> {
    pub src: &'a [f32],
    pub c_in: usize,
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
    pub k: usize,
    pub filters: &'a [f32],
    pub c_out: usize,
    pub window: Range<usize>,
    /// Added to the window's first channels (the others get none).
    pub bias: &'a [f32],
}

impl Planar<'_> {
    fn out_h(&self) -> usize {
        self.rows - self.k + 1
    }

    fn out_w(&self) -> usize {
        self.cols - self.k + 1
    }
}

/// Whether a stride-1 convolution of `macs` multiply-adds per output
/// (c_in · k · k), `ow` pixels wide, runs faster vectorized over pixels
/// (vectors of `lanes`) than over channels, whose vectors hold
/// `channel_lanes` of every `channel_pad` lanes with channels. Only with
/// few multiply-adds per output (up to 4 vectors' worth): above that the
/// channel kernel's transposition is cheap next to the sum, and its tiles
/// load less per multiply-add (GoogLeNet's conv2, 2,200 per output, ran
/// 12 % slower on AVX2 by pixels). Then each kernel's cost per output, in
/// multiply-adds of one lane: its multiply-adds over the share of lanes
/// doing useful work, plus, for the channel kernel, the transposition of
/// its tile, about one vector's worth (a scalar load and store per
/// output). Measured on LeNet's, GoogLeNet's and the ResNets' first
/// layers, where pixels win by far.
pub(super) fn pays(macs: usize, ow: usize, lanes: usize, channel_lanes: usize, channel_pad: usize) -> bool {
    let by_pixels = macs as f64 * ow.next_multiple_of(lanes) as f64 / ow as f64;
    let by_channels = macs as f64 * channel_pad as f64 / channel_lanes as f64 + lanes as f64;
    macs <= 4 * lanes && by_pixels < by_channels
}

/// Floats of the staged input for `n` images: the padded planes and one
/// vector's slack (AVX-512's, the widest).
pub(super) fn staged_len(c_in: usize, n: usize, rows: usize, cols: usize) -> usize {
    c_in * n * rows * cols + 16
}

/// Runs `job` into `out` with the kernels of `isa`.
pub(super) fn planar(isa: Isa, job: &Planar, out: &mut [f32]) {
    let (kk, first, end) = (job.k * job.k, job.window.start, job.window.end);
    assert!(job.rows >= job.k && job.cols >= job.k && first <= end && end <= job.c_out, "direct conv: shapes");
    assert!(job.src.len() >= staged_len(job.c_in, job.n, job.rows, job.cols), "direct conv: input too small");
    assert!(job.filters.len() >= job.c_in * kk * job.c_out, "direct conv: filters too small");
    assert!(out.len() >= (end - first) * job.n * job.out_h() * job.out_w(), "direct conv: output too small");
    // SAFETY: the asserts above bound every access `planar_with` makes.
    unsafe { run_on(isa, job, out) }
}

impl Kernel for Planar<'_> {
    /// # Safety
    /// [`Kernel::run`]'s.
    #[inline(always)]
    unsafe fn run<L: Lanes>(&self, out: &mut [f32]) {
        // SAFETY: as `run_on`'s caller guarantees.
        unsafe { planar_with::<L>(self, out) }
    }
}

/// # Safety
/// The CPU has `L`'s instruction set; `job`'s buffers and `out` hold what
/// [`planar`] checks.
#[inline(always)]
unsafe fn planar_with<L: Lanes>(job: &Planar, out: &mut [f32]) {
    let (oh, ow, first, end) = (job.out_h(), job.out_w(), job.window.start, job.window.end);
    // A row's vectors in equal blocks of at most MAX_VECTORS, then the
    // window's channels in equal blocks of as many as the registers hold
    // beside them: CO × XV accumulators, XV inputs and a weight.
    let span = ow.div_ceil(L::N);
    let vectors = span.div_ceil(span.div_ceil(MAX_VECTORS));
    let most = ((L::REGISTERS - 1 - vectors) / vectors).min(MAX_CHANNELS);
    let channels = (end - first).div_ceil((end - first).div_ceil(most).max(1));
    for img in 0..job.n {
        for o0 in (first..end).step_by(channels.max(1)) {
            let co = channels.min(end - o0);
            for oy in 0..oh {
                for x0 in (0..ow).step_by(vectors * L::N) {
                    let xv = (ow - x0).div_ceil(L::N).min(vectors);
                    // SAFETY: the caller's guarantees; the tile lies inside the output.
                    unsafe { dispatch::<L>(co, xv, job, img, o0, oy, x0, out) };
                }
            }
        }
    }
}

/// Calls `tile::<L, co, xv>` for the runtime `co` (1 ..= 8) and `xv` (1 ..= 4).
///
/// # Safety
/// As [`tile`]'s.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dispatch<L: Lanes>(co: usize, xv: usize, job: &Planar, img: usize, o0: usize, oy: usize, x0: usize, out: &mut [f32]) {
    macro_rules! by_vectors {
        ($c:literal) => {
            match xv {
                1 => tile::<L, $c, 1>(job, img, o0, oy, x0, out),
                2 => tile::<L, $c, 2>(job, img, o0, oy, x0, out),
                3 => tile::<L, $c, 3>(job, img, o0, oy, x0, out),
                _ => tile::<L, $c, 4>(job, img, o0, oy, x0, out),
            }
        };
    }
    // SAFETY: as the caller guarantees.
    unsafe {
        match co {
            1 => by_vectors!(1),
            2 => by_vectors!(2),
            3 => by_vectors!(3),
            4 => by_vectors!(4),
            5 => by_vectors!(5),
            6 => by_vectors!(6),
            7 => by_vectors!(7),
            _ => by_vectors!(8),
        }
    }
}

/// Outputs (channels o0 .. o0 + CO, image img, row oy, pixels x0 ..
/// x0 + XV·N, the last vector cut at the row's end).
///
/// # Safety
/// As [`planar_with`]; o0 + CO ≤ the window's end, x0 + (XV − 1)·N < out_w.
#[inline(always)]
unsafe fn tile<L: Lanes, const CO: usize, const XV: usize>(job: &Planar, img: usize, o0: usize, oy: usize, x0: usize, out: &mut [f32]) {
    let (k, cols, oh, ow) = (job.k, job.cols, job.out_h(), job.out_w());
    // SAFETY: input (c, img, oy + ki, x0 + kj + j) for j < XV·N lies
    // inside the staged planes or, past the last one's end, in their
    // slack: x0 + XV·N ≤ out_w + N − 1 and kj ≤ k − 1, so the read ends at
    // most N − 1 floats past a row; weight (c, ki, kj, o0 + o) lies inside
    // the filters; the stores stay inside row oy of the window's channels.
    unsafe {
        let mut acc = [[L::zero(); XV]; CO];
        for c in 0..job.c_in {
            let at = job.src.as_ptr().add(((c * job.n + img) * job.rows + oy) * cols + x0);
            let weights = job.filters.as_ptr().add(c * k * k * job.c_out + o0);
            for ki in 0..k {
                let row = at.add(ki * cols);
                for kj in 0..k {
                    let mut x = [L::zero(); XV];
                    for (v, x) in x.iter_mut().enumerate() {
                        *x = L::load(row.add(kj + v * L::N));
                    }
                    let w_at = weights.add((ki * k + kj) * job.c_out);
                    for (o, acc) in acc.iter_mut().enumerate() {
                        let w = L::splat(w_at.add(o));
                        for (a, &x) in acc.iter_mut().zip(&x) {
                            *a = a.mul_add(w, x);
                        }
                    }
                }
            }
        }
        let left = ow - x0;
        for (o, acc) in acc.iter().enumerate() {
            let channel = o0 + o - job.window.start;
            let bias = job.bias.get(channel).copied().unwrap_or(0.0);
            let bias = L::splat(&bias);
            let dst = out.as_mut_ptr().add(((channel * job.n + img) * oh + oy) * ow + x0);
            for (v, a) in acc.iter().enumerate() {
                let value = a.add(bias);
                if (v + 1) * L::N <= left {
                    value.store(dst.add(v * L::N));
                } else {
                    value.store_first(dst.add(v * L::N), left - v * L::N);
                }
            }
        }
    }
}

/// Stages `x` (c_in × n × h × w) for [`planar`] into `dst`: each plane
/// inside `pad` zeros (as [`stage_planes`] pads them, one image per plane),
/// then the slack, zeroed. Returns the planes' height and width.
pub(super) fn stage(x: &[f32], dst: &mut [f32], c_in: usize, n: usize, h: usize, w: usize, pad: usize) -> (usize, usize) {
    let (rows, cols) = (h + 2 * pad, w + 2 * pad);
    let planes = c_in * n * rows * cols;
    if pad == 0 {
        // stage_planes would hand back `x` itself, which has no slack.
        dst[..planes].copy_from_slice(&x[..planes]);
    } else {
        stage_planes(x, dst, c_in, n, h, w, pad, 1);
    }
    dst[planes..staged_len(c_in, n, rows, cols)].fill(0.0);
    (rows, cols)
}
