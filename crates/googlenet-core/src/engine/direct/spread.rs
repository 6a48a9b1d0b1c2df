//! The input gradient of a convolution with less than "same" padding (a
//! 5×5 with none, like GoogLeNet's conv2 and LeNet's), spread from each
//! output-gradient pixel to the k × k inputs it came from, instead of
//! gathered as a correlation. Why: as a correlation it reads the output
//! gradient padded by k − 1 − pad, and on a narrow plane most of a row's
//! window reads that padding: conv2's 8-pixel-wide gradient padded by 4
//! made a third of the kernel's multiply-adds multiply zeros (the
//! correlation skips only whole kernel rows and columns of padding). Spread,
//! a tile of P gradient pixels reaches P + k − 1 input columns, all of them
//! inside the plane when pad = 0: no multiply-add is wasted.
//!
//! A tile keeps those P + k − 1 input pixels × one vector of input
//! channels in registers, for one input row, through every output-gradient
//! channel and every kernel row that reaches that input row.

use super::{run_on, Kernel, Lanes, Planes};
use crate::cpu::Isa;

/// Widest input run a tile holds: P + k − 1 for P = 8, k = 5.
const MAX_SPAN: usize = 12;

/// The input gradient as [`spread`] computes it. `dy` is the output
/// gradient (as `input.src`, unpadded, image groups of `input.per`);
/// `filters` are the backward filters: [gradient channel][k − 1 − ki][k −
/// 1 − kj][input channel lanes, `in_pad` of them]; the output is `c_in` × n
/// × `h` × `w`.
#[derive(Clone, Copy)]
pub(super) struct Spread<'a> {
    pub input: Planes<'a>,
    pub filters: &'a [f32],
    pub c_in: usize,
    pub in_pad: usize,
    /// The forward pass's padding and input size.
    pub pad: usize,
    pub h: usize,
    pub w: usize,
    pub accumulate: bool,
}

impl Kernel for Spread<'_> {
    /// # Safety
    /// [`Kernel::run`]'s.
    #[inline(always)]
    unsafe fn run<L: Lanes>(&self, out: &mut [f32]) {
        // SAFETY: as `run_on`'s caller guarantees.
        unsafe { spread_with::<L>(self, out) }
    }
}

/// Whether spreading wastes less than the correlation: only when the
/// forward padding is less than "same" (the correlation then reads more
/// padding than the input has), and for the kernel sizes compiled below.
pub(super) fn pays(k: usize, pad: usize, stride: usize) -> bool {
    stride == 1 && matches!(k, 3 | 5) && 2 * pad < k - 1
}

/// Gradient pixels per tile on `L` for `left` pixels of the row and a
/// k-wide kernel: the widest whose tile fits the registers, counting what
/// the compiler keeps there (it loads the tile's P broadcast gradient
/// values once per kernel row and reuses them across the kernel columns):
/// P + k − 1 accumulators, P broadcasts and one weight vector. A tile
/// spans one vector of input channels: two, at 8 pixels (which spilled),
/// measured no faster on GoogLeNet, and one vector keeps a row of conv2's
/// gradient in a single tile.
fn tile_width<L: Lanes>(k: usize, left: usize) -> usize {
    let registers = |p: usize| (p + k - 1) + p + 1;
    [8, 4, 2, 1].into_iter().find(|&p| p <= left && registers(p) <= L::REGISTERS).unwrap_or(1)
}

/// Runs `job` into `out` with the kernels of `isa`.
pub(super) fn spread(isa: Isa, job: &Spread, out: &mut [f32]) {
    job.input.check();
    let k = job.input.k;
    assert!(job.filters.len() >= job.input.channels * k * k * job.in_pad, "direct conv: filters too small");
    assert!(job.c_in * job.input.per <= job.in_pad && job.in_pad.is_multiple_of(isa.lanes()), "direct conv: channel lanes");
    assert!(job.input.cols + k - 1 == job.w + 2 * job.pad && job.input.rows + k - 1 == job.h + 2 * job.pad, "direct conv: shapes");
    assert!(out.len() >= job.c_in * job.input.n * job.h * job.w, "direct conv: input gradient too small");
    // SAFETY: the asserts above bound every access `spread_with` makes.
    unsafe { run_on(isa, job, out) }
}

/// # Safety
/// The CPU has `L`'s instruction set; `job`'s buffers and `out` hold what
/// its sizes say (checked by [`spread`]).
#[inline(always)]
unsafe fn spread_with<L: Lanes>(job: &Spread, out: &mut [f32]) {
    let (ow, k) = (job.input.cols, job.input.k);
    for group in 0..job.input.groups() {
        for v in 0..job.in_pad / L::N {
            for iy in 0..job.h {
                let mut ox = 0;
                while ox < ow {
                    let p = tile_width::<L>(k, ow - ox);
                    // SAFETY: the caller's guarantees; the tile lies inside the gradient's row.
                    unsafe { dispatch::<L>(job, group, v, iy, ox, p, &mut *out) };
                    ox += p;
                }
            }
        }
    }
}

/// Calls [`tile`] with the runtime width, images per vector and kernel
/// size as constants.
///
/// # Safety
/// As [`tile`]'s.
#[inline(always)]
unsafe fn dispatch<L: Lanes>(job: &Spread, group: usize, v: usize, iy: usize, ox: usize, p: usize, out: &mut [f32]) {
    macro_rules! widths {
        ($i:literal, $k:literal) => {
            match p {
                8 => tile::<L, 8, $i, $k>(job, group, v, iy, ox, out),
                4 => tile::<L, 4, $i, $k>(job, group, v, iy, ox, out),
                2 => tile::<L, 2, $i, $k>(job, group, v, iy, ox, out),
                _ => tile::<L, 1, $i, $k>(job, group, v, iy, ox, out),
            }
        };
    }
    // SAFETY: as the caller guarantees.
    unsafe {
        match (job.input.per, job.input.k) {
            (1, 5) => widths!(1, 5),
            (_, 5) => widths!(2, 5),
            (1, _) => widths!(1, 3),
            (_, _) => widths!(2, 3),
        }
    }
}

/// Input gradient of (image group, input row iy, lanes of vector v) from gradient pixels ox .. ox + P of every row and channel
/// that reach it: input columns ox − pad .. ox − pad + P + K − 1, those
/// inside the plane. A tile after the row's first adds into the K − 1
/// columns the one before it wrote.
///
/// # Safety
/// As [`spread_with`]; ox + P ≤ the gradient's width, v < the
/// input-channel vectors, K = `job.input.k`.
#[inline(always)]
unsafe fn tile<L: Lanes, const P: usize, const I: usize, const K: usize>(
    job: &Spread,
    group: usize,
    v: usize,
    iy: usize,
    ox: usize,
    out: &mut [f32],
) {
    let (oh, ow, pad) = (job.input.rows, job.input.cols, job.pad);
    let span = P + K - 1;
    // The kernel rows ki for which gradient row iy + pad − ki exists.
    let kis = (iy + pad + 1).saturating_sub(oh)..K.min(iy + pad + 1);
    // SAFETY: gradient pixel (c, group, iy + pad − ki, ox + q) with q < P
    // lies inside its plane (ki in `kis`, ox + P ≤ ow); weights (c, ki, kj,
    // lanes of vector v) inside the packed filters; the lane buffer holds
    // MAX_SPAN × 16 floats and span ≤ MAX_SPAN, N ≤ 16.
    unsafe {
        let mut acc = [L::zero(); MAX_SPAN];
        for c in 0..job.input.channels {
            let plane = job.input.src.as_ptr().add((c * job.input.groups() + group) * oh * ow * I);
            let weights = job.filters.as_ptr().add(c * K * K * job.in_pad + v * L::N);
            for ki in kis.clone() {
                let row = plane.add(((iy + pad - ki) * ow + ox) * I);
                for kj in 0..K {
                    // The filters are packed flipped, for the correlation.
                    let w = L::load(weights.add(((K - 1 - ki) * K + (K - 1 - kj)) * job.in_pad));
                    for q in 0..P {
                        let g = L::splat_group::<I>(row.add(q * I));
                        acc[q + kj] = acc[q + kj].mul_add(w, g);
                    }
                }
            }
        }
        let mut lanes = [[0.0f32; 16]; MAX_SPAN];
        for (t, a) in acc.iter().enumerate().take(span) {
            a.store(lanes[t].as_mut_ptr());
        }
        // Input columns ox − pad + t inside the plane.
        let ts = pad.saturating_sub(ox)..span.min(job.w + pad - ox);
        let overlap = if ox > 0 { K - 1 } else { 0 };
        let first = v * L::N;
        for lane in first..(job.c_in * I).min(first + L::N) {
            let (i, img) = (lane / I, group * I + lane % I);
            if img >= job.input.n {
                continue;
            }
            let dst = &mut out[((i * job.input.n + img) * job.h + iy) * job.w..][..job.w];
            for t in ts.clone() {
                let d = &mut dst[ox + t - pad];
                if job.accumulate || t < overlap {
                    *d += lanes[t][lane - first];
                } else {
                    *d = lanes[t][lane - first];
                }
            }
        }
    }
}
