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
//! filters flipped and their channels swapped. The weight gradient sums,
//! per (input channel, kernel row), each kernel column's shifted input
//! times the output gradient transposed to pixels × channels.

use super::lanes::{Lanes, Plain};
use crate::cpu::Isa;

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

/// A correlation as the kernel runs it: `src` holds `channels` planes of
/// `n` images, each `rows` × `cols` and already padded (zero outside its
/// `border`-wide frame); the filters are packed [src channel][ki][kj]
/// [output channel, `out_pad` of them]; the output is `out_channels` × n ×
/// out_h × out_w.
#[derive(Clone, Copy)]
struct Correlation<'a> {
    src: &'a [f32],
    channels: usize,
    rows: usize,
    cols: usize,
    /// Rows and columns of padding around every plane: the kernel skips
    /// the kernel rows and columns that would read only those zeros (the
    /// input gradient of a 5×5 conv on an 8×8 output reads its output
    /// gradient padded by 4: more than half of it zeros).
    border: usize,
    filters: &'a [f32],
    k: usize,
    stride: usize,
    out_channels: usize,
    out_pad: usize,
    n: usize,
    /// Added to the first output channels (the others get none).
    bias: &'a [f32],
    /// Add to the output instead of overwriting it.
    accumulate: bool,
}

impl Correlation<'_> {
    fn out_h(&self) -> usize {
        (self.rows - self.k) / self.stride + 1
    }

    fn out_w(&self) -> usize {
        (self.cols - self.k) / self.stride + 1
    }
}

/// The weight gradient's operands: the input, padded, as in
/// [`Correlation`], and the output gradient as n × out_h × out_w pixels of
/// `out_pad` channels each.
#[derive(Clone, Copy)]
struct Gradient<'a> {
    src: &'a [f32],
    channels: usize,
    rows: usize,
    cols: usize,
    border: usize,
    k: usize,
    stride: usize,
    dy: &'a [f32],
    out_pad: usize,
    n: usize,
}

impl Gradient<'_> {
    fn out_h(&self) -> usize {
        (self.rows - self.k) / self.stride + 1
    }

    fn out_w(&self) -> usize {
        (self.cols - self.k) / self.stride + 1
    }
}

impl Direct {
    /// Floats per vector of its kernels.
    fn lanes(&self) -> usize {
        match self.isa {
            Isa::Avx512 => 16,
            Isa::Avx2 | Isa::Baseline => 8,
        }
    }

    fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.k) / self.stride + 1
    }

    fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.k) / self.stride + 1
    }

    /// Output channels rounded up to whole vectors.
    fn out_pad(&self) -> usize {
        self.c_out.next_multiple_of(self.lanes())
    }

    /// Input channels rounded up to whole vectors.
    fn in_pad(&self) -> usize {
        self.c_in.next_multiple_of(self.lanes())
    }

    /// Padding of the output gradient for the input gradient's correlation.
    fn back_pad(&self) -> usize {
        self.k - 1 - self.pad
    }

    fn forward_filters_len(&self) -> usize {
        self.c_in * self.k * self.k * self.out_pad()
    }

    /// Floats of its packed filters: for the forward pass, then (flipped,
    /// channels swapped) for the input gradient.
    pub fn filters_len(&self) -> usize {
        self.forward_filters_len() + self.c_out * self.k * self.k * self.in_pad()
    }

    /// Floats of its weight gradient as the kernel sums it (the forward
    /// filters' layout).
    pub fn filter_grads_len(&self) -> usize {
        self.forward_filters_len()
    }

    fn padded_input_len(&self, n: usize) -> usize {
        if self.pad == 0 {
            0
        } else {
            self.c_in * n * (self.h + 2 * self.pad) * (self.w + 2 * self.pad)
        }
    }

    /// Floats of scratch its passes need for `n` images (`training`: the
    /// backward pass too).
    pub fn scratch_len(&self, n: usize, training: bool) -> usize {
        let forward = self.padded_input_len(n);
        if !training {
            return forward;
        }
        let q = self.back_pad();
        let padded_dy = if q == 0 || self.stride > 1 { 0 } else { self.c_out * n * (self.out_h() + 2 * q) * (self.out_w() + 2 * q) };
        let transposed_dy = n * self.out_h() * self.out_w() * self.out_pad();
        forward.max(padded_dy).max(forward + transposed_dy)
    }

    /// Packs `weight` (c_out × c_in × k × k, PyTorch's order) into `out`
    /// ([`Direct::filters_len`] floats).
    pub fn pack_filters(&self, weight: &[f32], out: &mut [f32]) {
        let (k, ci, co) = (self.k, self.c_in, self.c_out);
        let (forward, backward) = out[..self.filters_len()].split_at_mut(self.forward_filters_len());
        forward.fill(0.0);
        backward.fill(0.0);
        let (out_pad, in_pad) = (self.out_pad(), self.in_pad());
        for o in 0..co {
            for i in 0..ci {
                for ki in 0..k {
                    for kj in 0..k {
                        let w = weight[((o * ci + i) * k + ki) * k + kj];
                        forward[((i * k + ki) * k + kj) * out_pad + o] = w;
                        backward[((o * k + (k - 1 - ki)) * k + (k - 1 - kj)) * in_pad + i] = w;
                    }
                }
            }
        }
    }

    /// `src` (channels × n × h × w) into `dst` with `pad` zeros around
    /// every plane; returns the padded planes' height and width.
    fn pad_planes(src: &[f32], dst: &mut [f32], planes: usize, h: usize, w: usize, pad: usize) -> (usize, usize) {
        let (hp, wp) = (h + 2 * pad, w + 2 * pad);
        let dst = &mut dst[..planes * hp * wp];
        dst.fill(0.0);
        for (s, d) in src[..planes * h * w].chunks_exact(h * w).zip(dst.chunks_exact_mut(hp * wp)) {
            for (row, out) in s.chunks_exact(w).zip(d[pad * wp + pad..].chunks_mut(wp)) {
                out[..w].copy_from_slice(row);
            }
        }
        (hp, wp)
    }

    /// y = conv(x) + bias for `n` images (`bias`: the first channels').
    pub fn forward(&self, filters: &[f32], x: &[f32], y: &mut [f32], bias: &[f32], scratch: &mut [f32], n: usize) {
        let (src, rows, cols) = if self.pad == 0 {
            (x, self.h, self.w)
        } else {
            let (hp, wp) = Self::pad_planes(x, scratch, self.c_in * n, self.h, self.w, self.pad);
            (&scratch[..], hp, wp)
        };
        let job = Correlation {
            src,
            channels: self.c_in,
            rows,
            cols,
            border: self.pad,
            filters: &filters[..self.forward_filters_len()],
            k: self.k,
            stride: self.stride,
            out_channels: self.c_out,
            out_pad: self.out_pad(),
            n,
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
        let (src, rows, cols) = if q == 0 {
            (dy, oh, ow)
        } else {
            let (hp, wp) = Self::pad_planes(dy, scratch, self.c_out * n, oh, ow, q);
            (&scratch[..], hp, wp)
        };
        let job = Correlation {
            src,
            channels: self.c_out,
            rows,
            cols,
            border: q,
            filters: &filters[self.forward_filters_len()..self.filters_len()],
            k: self.k,
            stride: 1,
            out_channels: self.c_in,
            out_pad: self.in_pad(),
            n,
            bias: &[],
            accumulate,
        };
        correlate(self.isa, &job, dx);
    }

    /// Adds the weight gradient for output gradient `dy` to `du`, in the
    /// packed layout ([`Direct::filter_grads_len`] floats).
    pub fn backward_filters(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        let (oh, ow, out_pad) = (self.out_h(), self.out_w(), self.out_pad());
        let (padded, rest) = scratch.split_at_mut(self.padded_input_len(n));
        let transposed = &mut rest[..n * oh * ow * out_pad];
        // n × pixels × channels, the padding channels zero.
        transposed.fill(0.0);
        let pixels = n * oh * ow;
        for (o, plane) in dy[..self.c_out * pixels].chunks_exact(pixels).enumerate() {
            for (p, &v) in plane.iter().enumerate() {
                transposed[p * out_pad + o] = v;
            }
        }
        let (src, rows, cols) = if self.pad == 0 {
            (x, self.h, self.w)
        } else {
            let (hp, wp) = Self::pad_planes(x, padded, self.c_in * n, self.h, self.w, self.pad);
            (&padded[..], hp, wp)
        };
        let job =
            Gradient { src, channels: self.c_in, rows, cols, border: self.pad, k: self.k, stride: self.stride, dy: transposed, out_pad, n };
        accumulate_gradient(self.isa, &job, &mut du[..self.filter_grads_len()]);
    }

    /// Adds the packed weight gradient `du` to `dw` (PyTorch's order).
    pub fn finish_filter_grads(&self, du: &[f32], dw: &mut [f32]) {
        let (k, ci, out_pad) = (self.k, self.c_in, self.out_pad());
        for o in 0..self.c_out {
            for i in 0..ci {
                for kk in 0..k * k {
                    dw[(o * ci + i) * k * k + kk] += du[(i * k * k + kk) * out_pad + o];
                }
            }
        }
    }
}

/// Runs `job` into `out` with the kernels of `isa`.
fn correlate(isa: Isa, job: &Correlation, out: &mut [f32]) {
    let (oh, ow) = (job.out_h(), job.out_w());
    assert!(job.src.len() >= job.channels * job.n * job.rows * job.cols, "direct conv: input too small");
    assert!(job.filters.len() >= job.channels * job.k * job.k * job.out_pad, "direct conv: filters too small");
    assert!(out.len() >= job.out_channels * job.n * oh * ow, "direct conv: output too small");
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `isa` is at most what the CPU has (cpu::isa, or a test's
        // choice below cpu::detected); the asserts above bound every access.
        Isa::Avx512 => unsafe { correlate_avx512(job, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { correlate_avx2(job, out) },
        // SAFETY: plain floats need no instruction set; the asserts bound every access.
        _ => unsafe { correlate_with::<Plain>(job, out) },
    }
}

/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA; the buffers hold what [`correlate`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn correlate_avx512(job: &Correlation, out: &mut [f32]) {
    // SAFETY: AVX-512F, this function's; the caller's checks bound the accesses.
    unsafe { correlate_with::<super::lanes::Zmm>(job, out) }
}

/// # Safety
/// The CPU has AVX2 and FMA; the buffers hold what [`correlate`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn correlate_avx2(job: &Correlation, out: &mut [f32]) {
    // SAFETY: AVX2 and FMA, this function's; the caller's checks bound the accesses.
    unsafe { correlate_with::<super::lanes::Ymm>(job, out) }
}

/// Channel vectors per tile: at most 4, and fewer where `extra` more
/// registers per vector (accumulators) and one to load it would not fit.
fn max_vectors<L: Lanes>(extra: usize) -> usize {
    ((L::REGISTERS - 1) / (extra + 1)).min(4)
}

/// Pixels per tile for `vectors` channel vectors and `left` pixels of the
/// row: the most that fit the registers, from the widths compiled below.
fn tile_width<L: Lanes>(vectors: usize, left: usize) -> usize {
    let fit = (L::REGISTERS - 1 - vectors) / vectors;
    [24, 12, 8, 6, 4, 3, 2, 1].into_iter().find(|&p| p <= fit && p <= left).unwrap_or(1)
}

/// Calls `$tile::<$lanes, CV, P>($args)` for the runtime `($cv, $p)`,
/// CV from 1 to 4 and P one of [`tile_width`]'s widths.
macro_rules! dispatch_tile {
    ($tile:ident::<$lanes:ty>($cv:expr, $p:expr)($($arg:expr),*)) => {
        dispatch_tile!(@cv $tile, $lanes, $cv, $p, ($($arg),*); 1 2 3 4)
    };
    (@cv $tile:ident, $lanes:ty, $cv:expr, $p:expr, $args:tt; $($c:literal)*) => {
        match $cv {
            $($c => dispatch_tile!(@p $tile, $lanes, $c, $p, $args; 24 12 8 6 4 3 2 1),)*
            _ => unreachable!("at most 4 channel vectors per tile"),
        }
    };
    (@p $tile:ident, $lanes:ty, $c:literal, $p:expr, $args:tt; $($w:literal)*) => {
        match $p {
            $($w => $tile::<$lanes, $c, $w> $args,)*
            _ => unreachable!("a tile width tile_width gives"),
        }
    };
}

/// # Safety
/// The CPU has `L`'s instruction set; `job`'s buffers and `out` hold what
/// its sizes say (checked by [`correlate`]).
#[inline(always)]
unsafe fn correlate_with<L: Lanes>(job: &Correlation, out: &mut [f32]) {
    let (oh, ow) = (job.out_h(), job.out_w());
    let vectors = job.out_pad / L::N;
    for img in 0..job.n {
        let mut v0 = 0;
        while v0 < vectors {
            let cv = (vectors - v0).min(max_vectors::<L>(3));
            for oy in 0..oh {
                let mut ox = 0;
                while ox < ow {
                    let p = tile_width::<L>(cv, ow - ox);
                    // SAFETY: the caller's guarantees; the tile lies inside the output.
                    unsafe { dispatch_tile!(tile::<L>(cv, p)(job, img, v0, oy, ox, &mut *out)) };
                    ox += p;
                }
            }
            v0 += cv;
        }
    }
}

/// Outputs (img, channels v0·N .. (v0 + CV)·N, row oy, pixels ox .. ox + P).
///
/// # Safety
/// As [`correlate_with`]; `ox + P` ≤ the output width and `v0 + CV` ≤ the
/// packed channel vectors.
#[inline(always)]
unsafe fn tile<L: Lanes, const CV: usize, const P: usize>(job: &Correlation, img: usize, v0: usize, oy: usize, ox: usize, out: &mut [f32]) {
    let (k, kk, pad) = (job.k, job.k * job.k, job.out_pad);
    let plane = job.rows * job.cols;
    // The kernel rows that read row oy + ki inside the frame, and the
    // kernel columns that do for at least one of the tile's pixels.
    let (b, s) = (job.border, job.stride);
    let kis = b.saturating_sub(oy * s)..k.min((job.rows - b).saturating_sub(oy * s));
    let kjs = b.saturating_sub((ox + P - 1) * s)..k.min((job.cols - b).saturating_sub(ox * s));
    // SAFETY: for every read below, source pixel (c, img, oy·s + ki,
    // (ox + q)·s + kj) with q < P, ki, kj < k lies inside its padded plane,
    // as ox + P ≤ out_w = (cols − k) / s + 1; weight (c, ki, kj, lanes of
    // vectors v0 .. v0 + CV) lies inside the packed filters.
    unsafe {
        let mut acc = [[L::zero(); CV]; P];
        for c in 0..job.channels {
            let at = job.src.as_ptr().add((c * job.n + img) * plane + oy * s * job.cols + ox * s);
            let weights = job.filters.as_ptr().add(c * kk * pad + v0 * L::N);
            for ki in kis.clone() {
                let row = at.add(ki * job.cols);
                for kj in kjs.clone() {
                    let w_at = weights.add((ki * k + kj) * pad);
                    let mut w = [L::zero(); CV];
                    for (v, w) in w.iter_mut().enumerate() {
                        *w = L::load(w_at.add(v * L::N));
                    }
                    for (q, acc) in acc.iter_mut().enumerate() {
                        let x = L::splat(row.add(q * s + kj));
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
        let (oh, ow) = (job.out_h(), job.out_w());
        let first = v0 * L::N;
        for o in first..job.out_channels.min(first + CV * L::N) {
            let dst = &mut out[((o * job.n + img) * oh + oy) * ow + ox..][..P];
            if job.accumulate {
                dst.iter_mut().zip(&lanes).for_each(|(d, l)| *d += l[o - first]);
            } else {
                let b = job.bias.get(o).copied().unwrap_or(0.0);
                dst.iter_mut().zip(&lanes).for_each(|(d, l)| *d = l[o - first] + b);
            }
        }
    }
}

/// Adds `job`'s weight gradient into `du` with the kernels of `isa`.
fn accumulate_gradient(isa: Isa, job: &Gradient, du: &mut [f32]) {
    let (oh, ow) = (job.out_h(), job.out_w());
    assert!(job.src.len() >= job.channels * job.n * job.rows * job.cols, "direct conv: input too small");
    assert!(job.dy.len() >= job.n * oh * ow * job.out_pad, "direct conv: output gradient too small");
    assert!(du.len() >= job.channels * job.k * job.k * job.out_pad, "direct conv: gradient too small");
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `correlate`.
        Isa::Avx512 => unsafe { gradient_avx512(job, du) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `correlate`.
        Isa::Avx2 => unsafe { gradient_avx2(job, du) },
        // SAFETY: plain floats need no instruction set; the asserts bound every access.
        _ => unsafe { gradient_with::<Plain>(job, du) },
    }
}

/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA; the buffers hold what [`accumulate_gradient`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gradient_avx512(job: &Gradient, du: &mut [f32]) {
    // SAFETY: AVX-512F, this function's; the caller's checks bound the accesses.
    unsafe { gradient_with::<super::lanes::Zmm>(job, du) }
}

/// # Safety
/// The CPU has AVX2 and FMA; the buffers hold what [`accumulate_gradient`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gradient_avx2(job: &Gradient, du: &mut [f32]) {
    // SAFETY: AVX2 and FMA, this function's; the caller's checks bound the accesses.
    unsafe { gradient_with::<super::lanes::Ymm>(job, du) }
}

/// Calls `$tile::<$lanes, CV, R>($args)` for the runtime `($cv, $r)`,
/// CV from 1 to 4 and R (kernel columns at once) 5, 3 or 1.
macro_rules! dispatch_columns {
    ($tile:ident::<$lanes:ty>($cv:expr, $r:expr)($($arg:expr),*)) => {
        dispatch_columns!(@cv $tile, $lanes, $cv, $r, ($($arg),*); 1 2 3 4)
    };
    (@cv $tile:ident, $lanes:ty, $cv:expr, $r:expr, $args:tt; $($c:literal)*) => {
        match $cv {
            $($c => dispatch_columns!(@r $tile, $lanes, $c, $r, $args; 5 3 1),)*
            _ => unreachable!("at most 4 channel vectors per tile"),
        }
    };
    (@r $tile:ident, $lanes:ty, $c:literal, $r:expr, $args:tt; $($w:literal)*) => {
        match $r {
            $($w => $tile::<$lanes, $c, $w> $args,)*
            _ => unreachable!("5, 3 or 1 kernel columns"),
        }
    };
}

/// # Safety
/// As [`correlate_with`], for [`accumulate_gradient`]'s checks.
#[inline(always)]
unsafe fn gradient_with<L: Lanes>(job: &Gradient, du: &mut [f32]) {
    let vectors = job.out_pad / L::N;
    // Every kernel column at once where the kernel is 5 or 3 wide.
    let r = if matches!(job.k, 3 | 5) { job.k } else { 1 };
    let most = max_vectors::<L>(r);
    for c in 0..job.channels {
        for ki in 0..job.k {
            for kj in (0..job.k).step_by(r) {
                let mut v0 = 0;
                while v0 < vectors {
                    let cv = (vectors - v0).min(most);
                    // SAFETY: the caller's guarantees; the columns and vectors lie inside the kernel and channels.
                    unsafe { dispatch_columns!(columns::<L>(cv, r)(job, c, ki, kj, v0, &mut *du)) };
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
unsafe fn columns<L: Lanes, const CV: usize, const R: usize>(job: &Gradient, c: usize, ki: usize, kj: usize, v0: usize, du: &mut [f32]) {
    let (oh, ow, pad, s) = (job.out_h(), job.out_w(), job.out_pad, job.stride);
    // SAFETY: for every read below, source pixel (c, img, oy·s + ki,
    // ox·s + kj + r) lies inside its padded plane (oy < out_h, ox < out_w,
    // kj + r < k); the output
    // gradient's pixel (img, oy, ox) holds `pad` floats, the vectors read
    // among them; the writes stay inside weight (c, ki, kj + r)'s `pad`.
    unsafe {
        let mut acc = [[L::zero(); CV]; R];
        // The output rows whose input row oy + ki lies inside the frame.
        let oys = job.border.saturating_sub(ki).div_ceil(s)..oh.min((job.rows - job.border).saturating_sub(ki).div_ceil(s));
        for img in 0..job.n {
            for oy in oys.clone() {
                let row = job.src.as_ptr().add(((c * job.n + img) * job.rows + oy * s + ki) * job.cols + kj);
                let grads = job.dy.as_ptr().add((img * oh + oy) * ow * pad + v0 * L::N);
                for ox in 0..ow {
                    let mut g = [L::zero(); CV];
                    for (v, g) in g.iter_mut().enumerate() {
                        *g = L::load(grads.add(ox * pad + v * L::N));
                    }
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let x = L::splat(row.add(ox * s + r));
                        for (a, &g) in acc.iter_mut().zip(&g) {
                            *a = a.mul_add(g, x);
                        }
                    }
                }
            }
        }
        let k = job.k;
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
        for o in 0..d.c_out {
            for img in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at = ((o * n + img) * oh + oy) * ow + ox;
                        let mut sum = bias[o] as f64;
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

    /// Forward, input gradient and weight gradient on every instruction set
    /// this CPU has, against the plain correlation, at shapes that leave
    /// partial tiles and partial channel vectors.
    #[test]
    fn matches_a_plain_correlation() {
        let shapes = [
            (1, 10, 5, 1, 0, 12, 12),
            (3, 20, 5, 1, 0, 12, 12),
            (16, 24, 5, 1, 2, 12, 12),
            (5, 7, 3, 1, 1, 9, 7),
            (2, 33, 5, 1, 2, 4, 4),
            (6, 17, 7, 1, 3, 8, 9),
            (16, 32, 3, 2, 1, 28, 28),
            (5, 9, 3, 2, 1, 7, 7),
            (8, 16, 1, 2, 0, 14, 14),
            (3, 5, 5, 3, 2, 11, 10),
        ];
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= cpu::detected()) {
            for &(c_in, c_out, k, stride, pad, h, w) in &shapes {
                let d = Direct { c_in, c_out, k, stride, pad, h, w, isa };
                let n = 2;
                let (oh, ow) = (d.out_h(), d.out_w());
                let what = format!("{} {c_in}->{c_out} k{k} stride{stride} pad{pad} {h}x{w}", isa.name());
                let weight = values(c_out * c_in * k * k, 1);
                let bias = values(c_out, 2);
                let x = values(c_in * n * h * w, 3);
                let dy = values(c_out * n * oh * ow, 4);
                let mut filters = vec![f32::NAN; d.filters_len()];
                d.pack_filters(&weight, &mut filters);
                let mut scratch = vec![f32::NAN; d.scratch_len(n, true)];

                let [want_y, want_dx, want_dw] = reference(&d, &weight, &bias, &x, &dy, n);

                let mut y = vec![f32::NAN; c_out * n * oh * ow];
                d.forward(&filters, &x, &mut y, &bias, &mut scratch, n);
                close(&y, &want_y, &format!("{what} forward"));

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
