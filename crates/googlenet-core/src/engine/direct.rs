//! Direct convolution for the stride-1 convolutions Winograd does not take
//! (the 5×5 ones above all: conv2 and the Inception 5×5 branches do 70 %
//! of GoogLeNet's multiply-adds), computed from the input planes
//! themselves, with no column matrix. Why: by im2col a 5×5 convolution
//! writes 25 copies of its input, the GEMM packs them once more, and the
//! weight gradient's product transposes them element by element; on a CPU
//! with fast FMA units (Intel's, two 512-bit ones per core) those passes
//! over memory took as long as the arithmetic, a third of a training step.
//!
//! The kernel keeps a tile of outputs in registers through the whole sum:
//! a run of up to 24 pixels of one output row × up to 4 vectors of output
//! channels. For every (input channel, kernel row, kernel column) it loads
//! one vector of filter weights per channel vector (filters packed once per
//! pass, output channels innermost) and multiplies it by each pixel's input
//! value, broadcast. The same kernel computes the input gradient: the
//! correlation of the output gradient, padded by k − 1 − pad, with the
//! filters flipped and their channels swapped; where the forward padding
//! is less than "same", that correlation would read mostly padding, and
//! `spread.rs` computes the input gradient from the unpadded output
//! gradient instead. The weight gradient sums,
//! per (input channel, kernel row), each kernel column's shifted input
//! times the output gradient transposed to pixels × channels.
//!
//! Where a layer's channels leave much of the last vector empty (20 output
//! channels in 16-float vectors: 32 lanes, 12 of them idle), a vector holds
//! half as many channels for two images side by side instead (20 channels
//! of two images in 48 lanes, 4 idle per image): the planes are copied
//! with each pixel's two images adjacent, so one 64-bit broadcast gives
//! every lane its image's value.

mod planar;
mod spread;

use std::ops::Range;

use super::lanes::{run_on, Kernel, Lanes};
use crate::cpu::Isa;
use planar::Planar;
use spread::Spread;

/// A convolution computed directly; channel-major chunks (C × n × H × W)
/// as everywhere in the engine. With a stride above 1 only its forward
/// pass and weight gradient are (the input gradient of a strided
/// convolution is no correlation; `conv.rs` computes it by GEMM).
#[derive(Clone, Copy)]
pub(crate) struct Direct {
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    /// The instruction set its kernels and filter layout are made for.
    pub isa: Isa,
}

/// The planes a kernel reads: `src` holds `channels` planes of `n`
/// images (in groups of `per`), each `rows` × `cols` and already padded
/// (zero outside its `border`-wide frame), read by a `k` × `k` window at
/// `stride`.
#[derive(Clone, Copy)]
struct Planes<'a> {
    src: &'a [f32],
    channels: usize,
    rows: usize,
    cols: usize,
    /// Rows and columns of padding around every plane: the kernels skip
    /// the kernel rows and columns that would read only those zeros (the
    /// input gradient of a 5×5 conv on an 8×8 output reads its output
    /// gradient padded by 4: more than half of it zeros).
    border: usize,
    k: usize,
    stride: usize,
    n: usize,
    /// Images per vector: 1, or 2 when `src` holds image pairs (see
    /// [`stage_planes`]) and each channel has two adjacent lanes.
    per: usize,
}

impl Planes<'_> {
    /// Image groups (images, or pairs of them) in `src`.
    fn groups(&self) -> usize {
        self.n.div_ceil(self.per)
    }

    fn out_h(&self) -> usize {
        (self.rows - self.k) / self.stride + 1
    }

    fn out_w(&self) -> usize {
        (self.cols - self.k) / self.stride + 1
    }

    /// Panics unless `src` holds every plane it says.
    fn check(&self) {
        assert!(self.src.len() >= self.channels * self.groups() * self.per * self.rows * self.cols, "direct conv: input too small");
    }
}

/// A correlation as the kernel runs it: the filters are packed [src
/// channel][ki][kj][output channel, `out_pad` of them]; the output holds
/// channels `first_channel .. out_channels` (× n × out_h × out_w).
#[derive(Clone, Copy)]
struct Correlation<'a> {
    input: Planes<'a>,
    filters: &'a [f32],
    /// The first output channel computed (a vector's first: all of them
    /// from 0, or a thread's part of one image's).
    first_channel: usize,
    out_channels: usize,
    /// Floats per pixel of the filters' last dimension (see
    /// [`Direct::lane_pad`]).
    out_pad: usize,
    /// Added to the first output channels computed (the others get none).
    bias: &'a [f32],
    /// Add to the output instead of overwriting it.
    accumulate: bool,
}

/// The weight gradient's operands: the input, and the output gradient as
/// image groups × out_h × out_w pixels of `out_pad` lanes each.
#[derive(Clone, Copy)]
struct Gradient<'a> {
    input: Planes<'a>,
    dy: &'a [f32],
    out_pad: usize,
}

impl Direct {
    /// Floats per vector of its kernels.
    fn lanes(&self) -> usize {
        self.isa.lanes()
    }

    fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.k) / self.stride + 1
    }

    fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.k) / self.stride + 1
    }

    /// Images per vector for a pass writing `channels` channels: 2 where
    /// half-vectors of channels, one per image, leave fewer lanes idle.
    fn per(&self, channels: usize) -> usize {
        let lanes = self.lanes();
        if channels.next_multiple_of(lanes / 2) < channels.next_multiple_of(lanes) {
            2
        } else {
            1
        }
    }

    /// Floats per pixel (per image group) of `channels` channels in
    /// vectors: each channel's lanes (one per image of the group) side by
    /// side, rounded up to whole vectors.
    fn lane_pad(&self, channels: usize) -> usize {
        (channels * self.per(channels)).next_multiple_of(self.lanes())
    }

    fn out_pad(&self) -> usize {
        self.lane_pad(self.c_out)
    }

    fn in_pad(&self) -> usize {
        self.lane_pad(self.c_in)
    }

    /// Padding of the output gradient for the input gradient's correlation.
    fn back_pad(&self) -> usize {
        self.k - 1 - self.pad
    }

    fn forward_filters_len(&self) -> usize {
        self.c_in * self.k * self.k * self.out_pad()
    }

    fn backward_filters_len(&self) -> usize {
        self.c_out * self.k * self.k * self.in_pad()
    }

    /// Whether its forward pass runs vectorized over pixels (`planar.rs`):
    /// stride 1, and few multiply-adds per output or channels that fill
    /// vectors badly.
    fn planar(&self) -> bool {
        let (macs, lanes) = (self.c_in * self.k * self.k, self.lanes());
        self.stride == 1 && planar::pays(macs, self.out_w(), lanes, self.c_out * self.per(self.c_out), self.out_pad())
    }

    /// Floats of its filters for the planar kernel ([input channel][ki][kj]
    /// [output channel]), none where it does not run.
    fn planar_filters_len(&self) -> usize {
        if self.planar() {
            self.c_in * self.k * self.k * self.c_out
        } else {
            0
        }
    }

    /// Floats of its packed filters: for the forward pass, then (flipped,
    /// channels swapped) for the input gradient, then for the planar
    /// forward kernel where it runs.
    pub fn filters_len(&self) -> usize {
        self.forward_filters_len() + self.backward_filters_len() + self.planar_filters_len()
    }

    /// Floats of its weight gradient as the kernel sums it (the forward
    /// filters' layout).
    pub fn filter_grads_len(&self) -> usize {
        self.forward_filters_len()
    }

    /// Floats of the input staged for a pass writing `out` channels: none
    /// where the kernel reads the input as it is.
    fn staged_input_len(&self, n: usize, out: usize) -> usize {
        let per = self.per(out);
        if self.pad == 0 && per == 1 {
            0
        } else {
            self.c_in * n.div_ceil(per) * per * (self.h + 2 * self.pad) * (self.w + 2 * self.pad)
        }
    }

    /// Floats of scratch its passes need for `n` images (`training`: the
    /// backward pass too).
    pub fn scratch_len(&self, n: usize, training: bool) -> usize {
        let staged = self.staged_input_len(n, self.c_out);
        // The planar forward kernel stages its own copy of the input.
        let forward =
            if self.planar() { planar::staged_len(self.c_in, n, self.h + 2 * self.pad, self.w + 2 * self.pad).max(staged) } else { staged };
        if !training {
            return forward;
        }
        let (q, per_in) = (self.back_pad(), self.per(self.c_in));
        let staged_dy =
            if self.stride > 1 { 0 } else { self.c_out * n.div_ceil(per_in) * per_in * (self.out_h() + 2 * q) * (self.out_w() + 2 * q) };
        let transposed_dy = n.div_ceil(self.per(self.c_out)) * self.out_h() * self.out_w() * self.out_pad();
        forward.max(staged_dy).max(staged + transposed_dy)
    }

    /// Packs `weight` (c_out × c_in × k × k, PyTorch's order) into `out`
    /// ([`Direct::filters_len`] floats).
    pub fn pack_filters(&self, weight: &[f32], out: &mut [f32]) {
        let (k, ci, co) = (self.k, self.c_in, self.c_out);
        let (forward, rest) = out[..self.filters_len()].split_at_mut(self.forward_filters_len());
        let (backward, planar) = rest.split_at_mut(self.backward_filters_len());
        forward.fill(0.0);
        backward.fill(0.0);
        let (out_pad, in_pad, per_out, per_in) = (self.out_pad(), self.in_pad(), self.per(co), self.per(ci));
        for o in 0..co {
            for i in 0..ci {
                for ki in 0..k {
                    for kj in 0..k {
                        let w = weight[((o * ci + i) * k + ki) * k + kj];
                        let at = ((i * k + ki) * k + kj) * out_pad + o * per_out;
                        forward[at..at + per_out].fill(w);
                        let at = ((o * k + (k - 1 - ki)) * k + (k - 1 - kj)) * in_pad + i * per_in;
                        backward[at..at + per_in].fill(w);
                        if let Some(p) = planar.get_mut(((i * k + ki) * k + kj) * co + o) {
                            *p = w;
                        }
                    }
                }
            }
        }
    }

    /// Output channels a vector of the forward kernel holds: a window of
    /// [`Direct::forward`] starts and ends at multiples of it (or at c_out).
    pub fn channels_per_vector(&self) -> usize {
        self.lanes() / self.per(self.c_out)
    }

    /// y = conv(x) + bias for `n` images, for output channels `window`
    /// only (`y` holds those; `bias`: the window's first channels').
    #[allow(clippy::too_many_arguments)]
    pub fn forward(&self, filters: &[f32], x: &[f32], y: &mut [f32], bias: &[f32], scratch: &mut [f32], n: usize, window: Range<usize>) {
        let per = self.per(self.c_out);
        let vector = self.channels_per_vector();
        assert!(window.start.is_multiple_of(vector) && window.end <= self.c_out, "direct conv window");
        if self.planar() {
            let (rows, cols) = planar::stage(x, scratch, self.c_in, n, self.h, self.w, self.pad);
            let filters = &filters[self.forward_filters_len() + self.backward_filters_len()..self.filters_len()];
            let (c_in, k, c_out, src) = (self.c_in, self.k, self.c_out, &*scratch);
            return planar::planar(self.isa, &Planar { src, c_in, n, rows, cols, k, filters, c_out, window, bias }, y);
        }
        let (src, rows, cols) = stage_planes(x, scratch, self.c_in, n, self.h, self.w, self.pad, per);
        let (channels, border, k, stride) = (self.c_in, self.pad, self.k, self.stride);
        let job = Correlation {
            input: Planes { src, channels, rows, cols, border, k, stride, n, per },
            filters: &filters[..self.forward_filters_len()],
            first_channel: window.start,
            out_channels: window.end,
            out_pad: self.out_pad(),
            bias,
            accumulate: false,
        };
        correlate(self.isa, &job, y);
    }

    /// The input gradient for output gradient `dy`: overwrites `dx`, or
    /// adds to it when `accumulate`. Stride 1 only.
    pub fn backward_input(&self, filters: &[f32], dy: &[f32], dx: &mut [f32], accumulate: bool, scratch: &mut [f32], n: usize) {
        assert_eq!(self.stride, 1, "a strided convolution's input gradient is not a correlation");
        let q = self.back_pad();
        let (oh, ow) = (self.out_h(), self.out_w());
        let per = self.per(self.c_in);
        let filters = &filters[self.forward_filters_len()..][..self.backward_filters_len()];
        if spread::pays(self.k, self.pad, self.stride) {
            let (src, rows, cols) = stage_planes(dy, scratch, self.c_out, n, oh, ow, 0, per);
            let input = Planes { src, channels: self.c_out, rows, cols, border: 0, k: self.k, stride: 1, n, per };
            let (c_in, in_pad, pad, h, w) = (self.c_in, self.in_pad(), self.pad, self.h, self.w);
            return spread::spread(self.isa, &Spread { input, filters, c_in, in_pad, pad, h, w, accumulate }, dx);
        }
        let (src, rows, cols) = stage_planes(dy, scratch, self.c_out, n, oh, ow, q, per);
        let job = Correlation {
            input: Planes { src, channels: self.c_out, rows, cols, border: q, k: self.k, stride: 1, n, per },
            filters,
            first_channel: 0,
            out_channels: self.c_in,
            out_pad: self.in_pad(),
            bias: &[],
            accumulate,
        };
        correlate(self.isa, &job, dx);
    }

    /// Adds the weight gradient for output gradient `dy` to `du`, in the
    /// packed layout ([`Direct::filter_grads_len`] floats).
    pub fn backward_filters(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        let (oh, ow, out_pad, per) = (self.out_h(), self.out_w(), self.out_pad(), self.per(self.c_out));
        let (staged, rest) = scratch.split_at_mut(self.staged_input_len(n, self.c_out));
        let pixels = oh * ow;
        let transposed = &mut rest[..n.div_ceil(per) * pixels * out_pad];
        // Image groups × pixels × lanes (channel, image of the group), the
        // padding lanes zero: lanes past the channels, and an odd last
        // image's partner.
        if self.c_out * per < out_pad || !n.is_multiple_of(per) {
            transposed.fill(0.0);
        }
        // A block of pixels at a time, so that the lanes written one channel
        // after another stay in L1 (a whole group's are megabytes for conv1).
        const PIXELS: usize = 16;
        for (group, cells) in transposed.chunks_exact_mut(pixels * out_pad).enumerate() {
            let images = group * per..(group * per + per).min(n);
            for (block, tile) in cells.chunks_mut(PIXELS * out_pad).enumerate() {
                let first = block * PIXELS;
                let len = tile.len() / out_pad;
                for o in 0..self.c_out {
                    for (j, img) in images.clone().enumerate() {
                        let row = &dy[(o * n + img) * pixels + first..][..len];
                        let lane = o * per + j;
                        for (cell, &v) in tile.chunks_exact_mut(out_pad).zip(row) {
                            cell[lane] = v;
                        }
                    }
                }
            }
        }
        let (src, rows, cols) = stage_planes(x, staged, self.c_in, n, self.h, self.w, self.pad, per);
        let (channels, border, k, stride) = (self.c_in, self.pad, self.k, self.stride);
        let input = Planes { src, channels, rows, cols, border, k, stride, n, per };
        let job = Gradient { input, dy: transposed, out_pad };
        accumulate_gradient(self.isa, &job, &mut du[..self.filter_grads_len()]);
    }

    /// Adds the packed weight gradient `du` to `dw` (PyTorch's order).
    pub fn finish_filter_grads(&self, du: &[f32], dw: &mut [f32]) {
        let (k, ci, out_pad, per) = (self.k, self.c_in, self.out_pad(), self.per(self.c_out));
        for o in 0..self.c_out {
            for i in 0..ci {
                for kk in 0..k * k {
                    let at = (i * k * k + kk) * out_pad + o * per;
                    dw[(o * ci + i) * k * k + kk] += du[at..at + per].iter().sum::<f32>();
                }
            }
        }
    }
}

/// The planes of `src` (channels × n × h × w) as the kernels read them:
/// `pad` zeros around each and, with `per` = 2, images in pairs, each
/// pixel's two values adjacent (an odd last image paired with zeros).
/// Returns `src` itself where that is already so, else `dst` (filled), and
/// the planes' height and width.
#[allow(clippy::too_many_arguments)]
fn stage_planes<'a>(
    src: &'a [f32],
    dst: &'a mut [f32],
    channels: usize,
    n: usize,
    h: usize,
    w: usize,
    pad: usize,
    per: usize,
) -> (&'a [f32], usize, usize) {
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    if pad == 0 && per == 1 {
        return (src, h, w);
    }
    let groups = n.div_ceil(per);
    let dst = &mut dst[..channels * groups * per * hp * wp];
    let plane = |c: usize, img: usize| src.get((c * n + img) * h * w..(c * n + img + 1) * h * w);
    let (row_len, inside) = (wp * per, pad * per..(pad + w) * per);
    for (c, planes) in dst.chunks_exact_mut(groups * per * hp * wp).enumerate() {
        for (group, out) in planes.chunks_exact_mut(per * hp * wp).enumerate() {
            // Only the frame is zeroed: the pixels inside are all written.
            let (top, rest) = out.split_at_mut(pad * row_len);
            let (middle, bottom) = rest.split_at_mut(h * row_len);
            top.fill(0.0);
            bottom.fill(0.0);
            let rows = middle.chunks_exact_mut(row_len).map(|r| {
                r[..inside.start].fill(0.0);
                r[inside.end..].fill(0.0);
                &mut r[inside.clone()]
            });
            match (per, plane(c, group * per), plane(c, group * per + 1)) {
                (1, Some(a), _) => rows.zip(a.chunks_exact(w)).for_each(|(d, a)| d.copy_from_slice(a)),
                (_, Some(a), Some(b)) => {
                    for (d, (a, b)) in rows.zip(a.chunks_exact(w).zip(b.chunks_exact(w))) {
                        for (d, (a, b)) in d.chunks_exact_mut(2).zip(a.iter().zip(b)) {
                            d[0] = *a;
                            d[1] = *b;
                        }
                    }
                }
                // The odd last image, beside zeros.
                (_, Some(a), None) => {
                    for (d, a) in rows.zip(a.chunks_exact(w)) {
                        d.chunks_exact_mut(2).zip(a).for_each(|(d, a)| {
                            d[0] = *a;
                            d[1] = 0.0;
                        });
                    }
                }
                _ => unreachable!("every group holds at least one image"),
            }
        }
    }
    (dst, hp, wp)
}

/// Runs `job` into `out` with the kernels of `isa`.
fn correlate(isa: Isa, job: &Correlation, out: &mut [f32]) {
    let (oh, ow) = (job.input.out_h(), job.input.out_w());
    job.input.check();
    assert!(job.filters.len() >= job.input.channels * job.input.k * job.input.k * job.out_pad, "direct conv: filters too small");
    assert!(out.len() >= (job.out_channels - job.first_channel) * job.input.n * oh * ow, "direct conv: output too small");
    // SAFETY: the asserts above bound every access `correlate_with` makes.
    unsafe { run_on(isa, job, out) }
}

impl Kernel for Correlation<'_> {
    /// # Safety
    /// [`Kernel::run`]'s.
    #[inline(always)]
    unsafe fn run<L: Lanes>(&self, out: &mut [f32]) {
        // SAFETY: as `run_on`'s caller guarantees.
        unsafe { correlate_with::<L>(self, out) }
    }
}

/// Channel vectors per tile: at most 4, and fewer where `extra` more
/// registers per vector (accumulators) and one to load it would not fit.
fn max_vectors<L: Lanes>(extra: usize) -> usize {
    ((L::REGISTERS - 1) / (extra + 1)).min(4)
}

/// Pixels per tile for `vectors` channel vectors in rows `width` wide: the
/// rows cut into as few tiles as fit the registers, of equal widths
/// (a narrow last tile has too few sums to hide the multiply-adds'
/// latency: a 10-pixel row as 8 + 2 took as long as two 8-pixel tiles).
/// Beside the accumulators and the weights' vectors, two registers for
/// the broadcast pixels: the compiler loads the next before the last is
/// used, and with one register (AVX2's 4 pixels × 3 vectors, all 16)
/// kept an accumulator on the stack inside the loop, a store and a reload
/// on every step of that sum.
fn tile_width<L: Lanes>(vectors: usize, width: usize) -> usize {
    let fit = ((L::REGISTERS - 2 - vectors) / vectors).min(24);
    width.div_ceil(width.div_ceil(fit))
}

/// The widest compiled tile width up to `want`: every MNIST map's row (28,
/// 14, 7; LeNet's 10 and 5) in one or a few equal tiles. The same widths
/// as `correlate_with` dispatches on.
fn compiled_width(want: usize) -> usize {
    [24, 14, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1].into_iter().find(|&p| p <= want).unwrap_or(1)
}

/// Calls `$kernel::<$lanes, CV, W, I>($args)` for the runtime `($cv, $w,
/// $i)`: CV (channel vectors) from 1 to 4, W one of `$width`s (a tile's
/// pixels, or kernel columns at once), I (images per vector) 1 or 2.
macro_rules! dispatch {
    ($kernel:ident::<$lanes:ty>($cv:expr, $w:expr, $i:expr; $($width:literal)*)($($arg:expr),*)) => {
        match $i {
            1 => dispatch!(@cv $kernel, $lanes, 1, $cv, $w, ($($arg),*), ($($width)*); 1 2 3 4),
            _ => dispatch!(@cv $kernel, $lanes, 2, $cv, $w, ($($arg),*), ($($width)*); 1 2 3 4),
        }
    };
    (@cv $kernel:ident, $lanes:ty, $i:literal, $cv:expr, $w:expr, $args:tt, $widths:tt; $($c:literal)*) => {
        match $cv {
            $($c => dispatch!(@w $kernel, $lanes, $i, $c, $w, $args, $widths),)*
            _ => unreachable!("at most 4 channel vectors"),
        }
    };
    (@w $kernel:ident, $lanes:ty, $i:literal, $c:literal, $w:expr, $args:tt, ($($width:literal)*)) => {
        match $w {
            $($width => $kernel::<$lanes, $c, $width, $i> $args,)*
            _ => unreachable!("a width the kernel is compiled for"),
        }
    };
}

/// # Safety
/// The CPU has `L`'s instruction set; `job`'s buffers and `out` hold what
/// its sizes say (checked by [`correlate`]).
#[inline(always)]
unsafe fn correlate_with<L: Lanes>(job: &Correlation, out: &mut [f32]) {
    let (oh, ow) = (job.input.out_h(), job.input.out_w());
    let per_vector = L::N / job.input.per;
    let (first, vectors) = (job.first_channel / per_vector, job.out_channels.div_ceil(per_vector));
    for group in 0..job.input.groups() {
        let mut v0 = first;
        while v0 < vectors {
            let cv = (vectors - v0).min(max_vectors::<L>(3));
            let width = tile_width::<L>(cv, ow);
            for oy in 0..oh {
                let mut ox = 0;
                while ox < ow {
                    let p = compiled_width(width.min(ow - ox));
                    // SAFETY: the caller's guarantees; the tile lies inside the output.
                    unsafe { dispatch!(tile::<L>(cv, p, job.input.per; 24 14 12 10 8 7 6 5 4 3 2 1)(job, group, v0, oy, ox, &mut *out)) };
                    ox += p;
                }
            }
            v0 += cv;
        }
    }
}

/// Outputs (image group, lanes of vectors v0 .. v0 + CV, row oy, pixels
/// ox .. ox + P); `I` = `job.input.per`.
///
/// # Safety
/// As [`correlate_with`]; `ox + P` ≤ the output width and `v0 + CV` ≤ the
/// packed channel vectors.
#[inline(always)]
unsafe fn tile<L: Lanes, const CV: usize, const P: usize, const I: usize>(
    job: &Correlation,
    group: usize,
    v0: usize,
    oy: usize,
    ox: usize,
    out: &mut [f32],
) {
    let (k, kk, pad) = (job.input.k, job.input.k * job.input.k, job.out_pad);
    let plane = job.input.rows * job.input.cols * I;
    // The kernel rows that read row oy + ki inside the frame, and the
    // kernel columns that do for at least one of the tile's pixels.
    let (b, s) = (job.input.border, job.input.stride);
    let kis = b.saturating_sub(oy * s)..k.min((job.input.rows - b).saturating_sub(oy * s));
    let kjs = b.saturating_sub((ox + P - 1) * s)..k.min((job.input.cols - b).saturating_sub(ox * s));
    // SAFETY: for every read below, source pixel (c, img, oy·s + ki,
    // (ox + q)·s + kj) with q < P, ki, kj < k lies inside its padded plane,
    // as ox + P ≤ out_w = (cols − k) / s + 1; weight (c, ki, kj, lanes of
    // vectors v0 .. v0 + CV) lies inside the packed filters.
    unsafe {
        let mut acc = [[L::zero(); CV]; P];
        for c in 0..job.input.channels {
            let at = job.input.src.as_ptr().add((c * job.input.groups() + group) * plane + (oy * s * job.input.cols + ox * s) * I);
            let weights = job.filters.as_ptr().add(c * kk * pad + v0 * L::N);
            for ki in kis.clone() {
                let row = at.add(ki * job.input.cols * I);
                for kj in kjs.clone() {
                    let w_at = weights.add((ki * k + kj) * pad);
                    let mut w = [L::zero(); CV];
                    for (v, w) in w.iter_mut().enumerate() {
                        *w = L::load(w_at.add(v * L::N));
                    }
                    for (q, acc) in acc.iter_mut().enumerate() {
                        let x = L::splat_group::<I>(row.add((q * s + kj) * I));
                        for (a, &w) in acc.iter_mut().zip(&w) {
                            *a = a.mul_add(w, x);
                        }
                    }
                }
            }
        }
        // Pixels × channels to the channel-major output.
        let mut lanes = [[0.0f32; 64]; P];
        for (q, acc) in acc.iter().enumerate() {
            for (v, a) in acc.iter().enumerate() {
                a.store(lanes[q].as_mut_ptr().add(v * L::N));
            }
        }
        let (oh, ow) = (job.input.out_h(), job.input.out_w());
        let first = v0 * L::N;
        for lane in first..(job.out_channels * I).min(first + CV * L::N) {
            let (o, img) = (lane / I, group * I + lane % I);
            if img >= job.input.n {
                continue;
            }
            let o = o - job.first_channel;
            let dst = &mut out[((o * job.input.n + img) * oh + oy) * ow + ox..][..P];
            // One lane of every pixel, read one float at a time: left to
            // the compiler, these strided reads became gathers
            // (vgatherqps), a quarter of the kernel's time on AMD's Zen 5,
            // whose gathers are slow.
            let column = |q: usize| std::ptr::read_volatile(&lanes[q][lane - first]);
            if job.accumulate {
                dst.iter_mut().enumerate().for_each(|(q, d)| *d += column(q));
            } else {
                let b = job.bias.get(o).copied().unwrap_or(0.0);
                dst.iter_mut().enumerate().for_each(|(q, d)| *d = column(q) + b);
            }
        }
    }
}

/// Adds `job`'s weight gradient into `du` with the kernels of `isa`.
fn accumulate_gradient(isa: Isa, job: &Gradient, du: &mut [f32]) {
    let (oh, ow) = (job.input.out_h(), job.input.out_w());
    job.input.check();
    assert!(job.dy.len() >= job.input.groups() * oh * ow * job.out_pad, "direct conv: output gradient too small");
    assert!(du.len() >= job.input.channels * job.input.k * job.input.k * job.out_pad, "direct conv: gradient too small");
    // SAFETY: the asserts above bound every access `gradient_with` makes.
    unsafe { run_on(isa, job, du) }
}

impl Kernel for Gradient<'_> {
    /// # Safety
    /// [`Kernel::run`]'s.
    #[inline(always)]
    unsafe fn run<L: Lanes>(&self, out: &mut [f32]) {
        // SAFETY: as `run_on`'s caller guarantees.
        unsafe { gradient_with::<L>(self, out) }
    }
}

/// # Safety
/// As [`correlate_with`], for [`accumulate_gradient`]'s checks.
#[inline(always)]
unsafe fn gradient_with<L: Lanes>(job: &Gradient, du: &mut [f32]) {
    let vectors = job.out_pad / L::N;
    // Every kernel column at once where the kernel is 5 or 3 wide.
    let r = if matches!(job.input.k, 3 | 5) { job.input.k } else { 1 };
    let most = max_vectors::<L>(r);
    for c in 0..job.input.channels {
        for ki in 0..job.input.k {
            for kj in (0..job.input.k).step_by(r) {
                let mut v0 = 0;
                while v0 < vectors {
                    let cv = (vectors - v0).min(most);
                    // SAFETY: the caller's guarantees; the columns and vectors lie inside the kernel and channels.
                    unsafe { dispatch!(columns::<L>(cv, r, job.input.per; 5 3 1)(job, c, ki, kj, v0, &mut *du)) };
                    v0 += cv;
                }
            }
        }
    }
}

/// Adds to `du` the gradient of weights (c, ki, kj .. kj + R, channel
/// vectors v0 .. v0 + CV), summed over every output pixel.
///
/// # Safety
/// As [`gradient_with`]; `kj + R` ≤ k and `v0 + CV` ≤ the channel vectors.
#[inline(always)]
unsafe fn columns<L: Lanes, const CV: usize, const R: usize, const I: usize>(
    job: &Gradient,
    c: usize,
    ki: usize,
    kj: usize,
    v0: usize,
    du: &mut [f32],
) {
    let (oh, ow, pad, s) = (job.input.out_h(), job.input.out_w(), job.out_pad, job.input.stride);
    // SAFETY: for every read below, source pixel (c, img, oy·s + ki,
    // ox·s + kj + r) lies inside its padded plane (oy < out_h, ox < out_w,
    // kj + r < k); the output
    // gradient's pixel (img, oy, ox) holds `pad` floats, the vectors read
    // among them; the writes stay inside weight (c, ki, kj + r)'s `pad`.
    unsafe {
        let mut acc = [[L::zero(); CV]; R];
        // The output rows whose input row oy + ki lies inside the frame.
        let oys =
            job.input.border.saturating_sub(ki).div_ceil(s)..oh.min((job.input.rows - job.input.border).saturating_sub(ki).div_ceil(s));
        for group in 0..job.input.groups() {
            for oy in oys.clone() {
                let row = job
                    .input
                    .src
                    .as_ptr()
                    .add((((c * job.input.groups() + group) * job.input.rows + oy * s + ki) * job.input.cols + kj) * I);
                let grads = job.dy.as_ptr().add((group * oh + oy) * ow * pad + v0 * L::N);
                for ox in 0..ow {
                    let mut g = [L::zero(); CV];
                    for (v, g) in g.iter_mut().enumerate() {
                        *g = L::load(grads.add(ox * pad + v * L::N));
                    }
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let x = L::splat_group::<I>(row.add((ox * s + r) * I));
                        for (a, &g) in acc.iter_mut().zip(&g) {
                            *a = a.mul_add(g, x);
                        }
                    }
                }
            }
        }
        let k = job.input.k;
        for (r, acc) in acc.iter().enumerate() {
            let at = du.as_mut_ptr().add(((c * k + ki) * k + kj + r) * pad + v0 * L::N);
            for (v, a) in acc.iter().enumerate() {
                let p = at.add(v * L::N);
                L::load(p).add(*a).store(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu;

    /// A plain correlation with zero padding and its two gradients for
    /// output gradient `dy`, in f64: y[o][img][y][x] = bias[o] +
    /// Σ w[o][i][ki][kj] · x[i][img][y + ki − pad][x + kj − pad].
    fn reference(d: &Direct, weight: &[f32], bias: &[f32], x: &[f32], dy: &[f32], n: usize) -> [Vec<f64>; 3] {
        let (oh, ow) = (d.out_h(), d.out_w());
        let (mut y, mut dx, mut dw) = (vec![0.0f64; dy.len()], vec![0.0f64; x.len()], vec![0.0f64; weight.len()]);
        for (o, &b) in bias.iter().enumerate().take(d.c_out) {
            for img in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at = ((o * n + img) * oh + oy) * ow + ox;
                        let mut sum = b as f64;
                        for i in 0..d.c_in {
                            for ki in 0..d.k {
                                for kj in 0..d.k {
                                    let (iy, ix) =
                                        ((oy * d.stride + ki) as isize - d.pad as isize, (ox * d.stride + kj) as isize - d.pad as isize);
                                    if iy >= 0 && ix >= 0 && (iy as usize) < d.h && (ix as usize) < d.w {
                                        let xi = ((i * n + img) * d.h + iy as usize) * d.w + ix as usize;
                                        let wi = ((o * d.c_in + i) * d.k + ki) * d.k + kj;
                                        sum += weight[wi] as f64 * x[xi] as f64;
                                        dx[xi] += weight[wi] as f64 * dy[at] as f64;
                                        dw[wi] += x[xi] as f64 * dy[at] as f64;
                                    }
                                }
                            }
                        }
                        y[at] = sum;
                    }
                }
            }
        }
        [y, dx, dw]
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed.wrapping_mul(40503)) >> 8) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    fn close(got: &[f32], want: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((*g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}: element {i}: {g} against {w}");
        }
    }

    /// The pixel-vectorized forward kernel takes first layers (LeNet's
    /// conv1, the ResNets') and leaves layers with many multiply-adds per
    /// output to the channel kernel (LeNet's conv2, GoogLeNet's conv2 and
    /// 5×5 branches).
    #[test]
    fn first_layers_run_planar() {
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
            let conv = |c_in, c_out, k, pad, h| Direct { c_in, c_out, k, stride: 1, pad, h, w: h, isa };
            assert!(conv(1, 6, 5, 2, 28).planar() && conv(1, 16, 3, 1, 28).planar(), "{}", isa.name());
            assert!(!conv(6, 16, 5, 0, 14).planar() && !conv(16, 24, 5, 2, 12).planar(), "{}", isa.name());
            assert!(!conv(88, 20, 5, 0, 12).planar(), "{}", isa.name());
            assert!(!Direct { stride: 2, ..conv(1, 6, 3, 1, 28) }.planar(), "{}", isa.name());
        }
    }

    /// Forward, input gradient and weight gradient on every instruction set
    /// this CPU has, against the plain correlation, at shapes that leave
    /// partial tiles and partial channel vectors, with images one per
    /// vector and in pairs (20 channels pair on every path).
    #[test]
    fn matches_a_plain_correlation() {
        let shapes = [
            (1, 10, 5, 1, 0, 12, 12),
            (3, 20, 5, 1, 0, 12, 12),
            (16, 24, 5, 1, 2, 12, 12),
            (4, 12, 5, 1, 2, 6, 6),
            (5, 7, 3, 1, 1, 9, 7),
            (5, 7, 3, 1, 0, 9, 7),
            (4, 9, 5, 1, 1, 13, 15),
            (40, 6, 5, 1, 0, 12, 12),
            (2, 33, 5, 1, 2, 4, 4),
            (6, 17, 7, 1, 3, 8, 9),
            (16, 32, 3, 2, 1, 28, 28),
            (5, 9, 3, 2, 1, 7, 7),
            (8, 16, 1, 2, 0, 14, 14),
            (3, 5, 5, 3, 2, 11, 10),
            // First layers, planar on every path; rows of several blocks.
            (1, 6, 5, 1, 2, 28, 28),
            (1, 16, 3, 1, 1, 28, 28),
            (2, 11, 3, 1, 1, 20, 21),
            (1, 3, 3, 1, 0, 40, 75),
        ];
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= cpu::detected()) {
            // One image, two, and three: an odd one left over where images
            // go in pairs.
            for (&(c_in, c_out, k, stride, pad, h, w), n) in shapes.iter().flat_map(|s| [(s, 1), (s, 2), (s, 3)]) {
                let d = Direct { c_in, c_out, k, stride, pad, h, w, isa };
                let (oh, ow) = (d.out_h(), d.out_w());
                let what = format!("{} {c_in}->{c_out} k{k} stride{stride} pad{pad} {h}x{w}, {n} images", isa.name());
                let weight = values(c_out * c_in * k * k, 1);
                let bias = values(c_out, 2);
                let x = values(c_in * n * h * w, 3);
                let dy = values(c_out * n * oh * ow, 4);
                let mut filters = vec![f32::NAN; d.filters_len()];
                d.pack_filters(&weight, &mut filters);
                let mut scratch = vec![f32::NAN; d.scratch_len(n, true)];

                let [want_y, want_dx, want_dw] = reference(&d, &weight, &bias, &x, &dy, n);

                let mut y = vec![f32::NAN; c_out * n * oh * ow];
                d.forward(&filters, &x, &mut y, &bias, &mut scratch, n, 0..c_out);
                close(&y, &want_y, &format!("{what} forward"));
                // Each vector's channels alone (threads sharing an image),
                // with their bias: those channels of the whole, bit for bit.
                let (vector, plane) = (d.channels_per_vector(), n * oh * ow);
                for start in (0..c_out).step_by(vector) {
                    let window = start..(start + vector).min(c_out);
                    let mut part = vec![f32::NAN; window.len() * plane];
                    d.forward(&filters, &x, &mut part, &bias[window.clone()], &mut scratch, n, window.clone());
                    assert_eq!(part, y[window.start * plane..window.end * plane], "{what} forward of channels {window:?}");
                }

                if stride == 1 {
                    let mut dx = vec![f32::NAN; x.len()];
                    d.backward_input(&filters, &dy, &mut dx, false, &mut scratch, n);
                    close(&dx, &want_dx, &format!("{what} input gradient"));
                    let mut twice = dx.clone();
                    d.backward_input(&filters, &dy, &mut twice, true, &mut scratch, n);
                    close(&twice, &want_dx.iter().map(|v| 2.0 * v).collect::<Vec<_>>(), &format!("{what} input gradient added"));
                }

                // Two calls add up.
                let mut du = vec![0.0; d.filter_grads_len()];
                d.backward_filters(&x, &dy, &mut du, &mut scratch, n);
                d.backward_filters(&x, &dy, &mut du, &mut scratch, n);
                let mut dw = vec![0.0; weight.len()];
                d.finish_filter_grads(&du, &mut dw);
                let want_dw: Vec<f64> = want_dw.iter().map(|v| 2.0 * v).collect();
                close(&dw, &want_dw, &format!("{what} weight gradient"));
            }
        }
    }
}
