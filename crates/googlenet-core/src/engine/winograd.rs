//! 3×3 convolutions with stride 1 and padding 1 by Winograd's minimal
//! filtering F(m×m, 3×3) (Lavin & Gray, 2016): each m×m block of outputs
//! comes from an (m+2)×(m+2) tile of input with (m+2)² products per input
//! and output channel instead of 9m², so the GEMMs do 2.25× (m = 2) or 4×
//! (m = 4) fewer multiply-adds than im2col's. Inference runs F(4,3);
//! training runs F(2,3), whose gradients stay within 1e-4 of PyTorch's
//! (F(4,3)'s larger coefficients round a batch norm's summed gradients
//! further). In matrix form, for an input tile d, a filter g and an output
//! gradient tile e:
//!
//! - forward: y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, summed over input channels;
//! - input gradient: the same with the filter turned by 180° and its
//!   channels swapped (a 3×3 "same" convolution's adjoint is one);
//! - filter gradient: dg = Gᵀ [Σ over tiles (A e Aᵀ) ⊙ (Bᵀ d B)] G, the
//!   sum kept in the transformed domain over a whole pass.
//!
//! Each position p of a tile is one GEMM over channels: with V[p] (tiles ×
//! channels in) the transformed input and U[p] (in × out) the transformed
//! filters, M[p] = V[p]·U[p] (V and M are stored tile by tile, see
//! [`Layout`]; the products run by [`narrow_gemm`]). The transforms work on
//! 8 channels at once (one AVX2 register; 16 with AVX-512): a band of images is first
//! copied pixel-major (see `staging.rs`), so a tile's
//! pixels are whole vectors whatever the size of the map. Along the map's
//! own rows, 7×7 and 14×14 maps would fill few lanes: an earlier version
//! that worked that way was slower than im2col.

use std::ops::{Add, Mul, Range, Sub};

use super::narrow_gemm::{narrow_gemm, Strided};
use super::staging::{stage, unstage, Staged, LANES};

/// Runs `$transform::<W, N>` where `N`-wide vectors cover `$channels`
/// exactly, else `$transform::<W, LANES>`. (All channels one width:
/// splitting 24 channels into 16 and 8 passed over every tile twice, and
/// GoogLeNet's training lost 3 %.)
macro_rules! widest {
    ($channels:expr, $transform:ident::<$w:ty, $n:ident>($($arg:expr),*)) => {
        if $channels.is_multiple_of($n) {
            $transform::<$w, $n>($($arg),*)
        } else {
            $transform::<$w, LANES>($($arg),*)
        }
    };
}

/// Floats of one band's buffers (see [`Winograd`]): small enough that they
/// stay in a core's L2 cache.
const BAND_FLOATS: usize = 128 * 1024;

/// One value of `N` channels side by side (8, or 16 with AVX-512): the
/// transforms' arithmetic on it compiles to vector instructions.
#[derive(Clone, Copy)]
struct Lanes<const N: usize>([f32; N]);

impl<const N: usize> Add for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn add(mut self, o: Self) -> Self {
        for l in 0..N {
            self.0[l] += o.0[l];
        }
        self
    }
}

impl<const N: usize> Sub for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn sub(mut self, o: Self) -> Self {
        for l in 0..N {
            self.0[l] -= o.0[l];
        }
        self
    }
}

impl<const N: usize> Mul<f32> for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn mul(mut self, k: f32) -> Self {
        for l in 0..N {
            self.0[l] *= k;
        }
        self
    }
}

impl<const N: usize> Lanes<N> {
    const ZERO: Self = Lanes([0.0; N]);

    /// The N floats at `src`. (Unchecked: the transforms check their
    /// buffers' sizes once, not every tile's N floats.)
    ///
    /// # Safety
    /// `src .. src + N` is readable.
    #[inline(always)]
    unsafe fn read(src: *const f32) -> Self {
        // SAFETY: as the caller guarantees; any alignment is fine.
        Lanes(unsafe { std::ptr::read_unaligned(src as *const [f32; N]) })
    }

    /// Writes the N floats at `dst`.
    ///
    /// # Safety
    /// `dst .. dst + N` is writable.
    #[inline(always)]
    unsafe fn write(self, dst: *mut f32) {
        // SAFETY: as the caller guarantees; any alignment is fine.
        unsafe { std::ptr::write_unaligned(dst as *mut [f32; N], self.0) }
    }
}

/// The 1-D transforms of one F(m, 3); the 2-D ones apply them along rows,
/// then columns. Slices hold `SIDE` (m + 2) or `OUT` (m) values.
trait Minimal {
    const OUT: usize;
    const SIDE: usize;
    /// Bᵀ d.
    fn input<const N: usize>(d: &[Lanes<N>], out: &mut [Lanes<N>]);
    /// Aᵀ m.
    fn output<const N: usize>(m: &[Lanes<N>], out: &mut [Lanes<N>]);
    /// A e: the adjoint of `output`.
    fn output_adjoint<const N: usize>(e: &[Lanes<N>], out: &mut [Lanes<N>]);
    /// G g, in f64 (F(4,3)'s sixths, twelfths and twenty-fourths are not exact in f32).
    fn filter(g: [f64; 3], out: &mut [f64]);
    /// Gᵀ v: the adjoint of `filter`.
    fn filter_adjoint(v: &[f64]) -> [f64; 3];
}

/// F(2×2, 3×3): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
/// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
struct F2;

impl Minimal for F2 {
    const OUT: usize = 2;
    const SIDE: usize = 4;

    #[inline(always)]
    fn input<const N: usize>(d: &[Lanes<N>], out: &mut [Lanes<N>]) {
        out[0] = d[0] - d[2];
        out[1] = d[1] + d[2];
        out[2] = d[2] - d[1];
        out[3] = d[1] - d[3];
    }

    #[inline(always)]
    fn output<const N: usize>(m: &[Lanes<N>], out: &mut [Lanes<N>]) {
        out[0] = m[0] + m[1] + m[2];
        out[1] = m[1] - m[2] - m[3];
    }

    #[inline(always)]
    fn output_adjoint<const N: usize>(e: &[Lanes<N>], out: &mut [Lanes<N>]) {
        out[0] = e[0];
        out[1] = e[0] + e[1];
        out[2] = e[0] - e[1];
        out[3] = Lanes::ZERO - e[1];
    }

    fn filter(g: [f64; 3], out: &mut [f64]) {
        out.copy_from_slice(&[g[0], (g[0] + g[1] + g[2]) / 2.0, (g[0] - g[1] + g[2]) / 2.0, g[2]]);
    }

    fn filter_adjoint(v: &[f64]) -> [f64; 3] {
        [v[0] + (v[1] + v[2]) / 2.0, (v[1] - v[2]) / 2.0, (v[1] + v[2]) / 2.0 + v[3]]
    }
}

/// F(4×4, 3×3): Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
/// 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
struct F4;

impl Minimal for F4 {
    const OUT: usize = 4;
    const SIDE: usize = 6;

    #[inline(always)]
    fn input<const N: usize>(d: &[Lanes<N>], out: &mut [Lanes<N>]) {
        let (a, b) = (d[4] - d[2], d[3] - d[1]);
        out[0] = d[0] * 4.0 - d[2] * 5.0 + d[4];
        out[1] = d[3] + d[4] - (d[1] + d[2]) * 4.0;
        out[2] = d[4] - d[3] + (d[1] - d[2]) * 4.0;
        out[3] = a + b * 2.0;
        out[4] = a - b * 2.0;
        out[5] = d[1] * 4.0 - d[3] * 5.0 + d[5];
    }

    #[inline(always)]
    fn output<const N: usize>(m: &[Lanes<N>], out: &mut [Lanes<N>]) {
        let (a, b, c, d) = (m[1] + m[2], m[1] - m[2], m[3] + m[4], m[3] - m[4]);
        out[0] = m[0] + a + c;
        out[1] = b + d * 2.0;
        out[2] = a + c * 4.0;
        out[3] = b + d * 8.0 + m[5];
    }

    #[inline(always)]
    fn output_adjoint<const N: usize>(e: &[Lanes<N>], out: &mut [Lanes<N>]) {
        let (even, odd) = (e[0] + e[2], e[1] + e[3]);
        let (even4, odd4) = (e[0] + e[2] * 4.0, (e[1] + e[3] * 4.0) * 2.0);
        out[0] = e[0];
        out[1] = even + odd;
        out[2] = even - odd;
        out[3] = even4 + odd4;
        out[4] = even4 - odd4;
        out[5] = e[3];
    }

    fn filter(g: [f64; 3], out: &mut [f64]) {
        let (outer, middle) = (g[0] + g[2], g[1]);
        out.copy_from_slice(&[
            g[0] / 4.0,
            -(outer + middle) / 6.0,
            -(outer - middle) / 6.0,
            g[0] / 24.0 + g[1] / 12.0 + g[2] / 6.0,
            g[0] / 24.0 - g[1] / 12.0 + g[2] / 6.0,
            g[2],
        ]);
    }

    fn filter_adjoint(v: &[f64]) -> [f64; 3] {
        let (sum, diff, sum24, diff24) = (v[1] + v[2], v[2] - v[1], v[3] + v[4], v[3] - v[4]);
        [v[0] / 4.0 - sum / 6.0 + sum24 / 24.0, diff / 6.0 + diff24 / 12.0, (sum24 - sum) / 6.0 + v[5]]
    }
}

/// The largest tile side (F4's), for stack arrays.
const MAX_SIDE: usize = 6;

/// Which F(m, 3) a convolution runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    F2,
    F4,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::F2, Variant::F4];

    fn out(self) -> usize {
        match self {
            Variant::F2 => F2::OUT,
            Variant::F4 => F4::OUT,
        }
    }

    fn positions(self) -> usize {
        (self.out() + 2) * (self.out() + 2)
    }
}

/// A Winograd convolution's shapes (both channel counts multiples of 8);
/// its filters come transformed (see [`transform_filters`]). A chunk goes
/// through in bands of whole images: each band is copied pixel-major,
/// transformed, multiplied and transformed back while it is in cache
/// (nothing is kept for the backward pass, which transforms again).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Winograd {
    pub c_in: usize,
    pub c_out: usize,
    pub h: usize,
    pub w: usize,
    pub variant: Variant,
}

/// A convolution by transformed filters `u` (per position, `from` × `to`
/// channels) of `src` into the output channels `window` (a multiple of
/// [`LANES`] apart: all `to`, or a thread's part of one image's), plus
/// `bias` (the window's first channels; none when empty), its result added
/// to the output when `accumulate`.
#[derive(Clone)]
struct Convolution<'a> {
    u: &'a [f32],
    src: &'a [f32],
    from: usize,
    to: usize,
    window: Range<usize>,
    bias: &'a [f32],
    accumulate: bool,
}

/// Where a band's transformed tiles sit (V, M and the output gradient's
/// transform): tile after tile, each tile's positions one after another,
/// each position's channels contiguous. Position p's GEMM reads row p of
/// every tile (rows `stride` apart); the transforms write and read a
/// tile's values close together (a matrix per position put each tile's
/// stores in 16 or 36 streams far apart, and they waited on the cache).
#[derive(Clone, Copy)]
struct Layout {
    positions: usize,
    channels: usize,
}

impl Layout {
    /// Offset of position `p` of tile `t`.
    #[inline(always)]
    fn at(&self, t: usize, p: usize) -> usize {
        (t * self.positions + p) * self.channels
    }

    /// Floats from a position of one tile to the same position of the next.
    fn stride(&self) -> usize {
        self.positions * self.channels
    }
}

impl Winograd {
    /// Whether a convolution of these channel counts can run this way.
    pub fn fits(c_in: usize, c_out: usize) -> bool {
        c_in.is_multiple_of(LANES) && c_out.is_multiple_of(LANES)
    }

    fn out(&self) -> usize {
        self.variant.out()
    }

    fn rows(&self) -> usize {
        self.h.div_ceil(self.out())
    }

    fn cols(&self) -> usize {
        self.w.div_ceil(self.out())
    }

    fn tiles_per_image(&self) -> usize {
        self.rows() * self.cols()
    }

    /// Staging of an input (shift 1) or an output gradient (shift 0) of
    /// `channels` channels: every pixel a tile reads, edges included.
    fn staged(&self, channels: usize, shift: usize) -> Staged {
        let side = self.out() + 2;
        Staged { channels, height: self.out() * (self.rows() - 1) + side, width: self.out() * (self.cols() - 1) + side, shift }
    }

    /// Images per band.
    fn band_images(&self) -> usize {
        let c = self.c_in.max(self.c_out);
        let per_image = self.staged(c, 1).len(1) + 2 * self.variant.positions() * self.tiles_per_image() * c;
        (BAND_FLOATS / per_image).max(1)
    }

    fn bands(&self, n: usize) -> impl Iterator<Item = Range<usize>> {
        let step = self.band_images();
        (0..n).step_by(step).map(move |start| start..n.min(start + step))
    }

    /// Floats of its transformed filters: U (forward) then U' (input gradient).
    pub fn filters_len(&self) -> usize {
        2 * self.variant.positions() * self.c_in * self.c_out
    }

    /// Floats of scratch its passes need for `n` images.
    pub fn scratch_len(&self, n: usize) -> usize {
        let images = self.band_images().min(n);
        let c = self.c_in.max(self.c_out);
        let tiles = images * self.tiles_per_image();
        let staged = self.staged(c, 1).len(images);
        staged + self.variant.positions() * tiles * (self.c_in + self.c_out)
    }

    /// Splits `scratch` into a band's staged pixels (in or out) and its
    /// transformed matrices of `a` and `b` channels.
    fn band_buffers<'s>(&self, scratch: &'s mut [f32], images: usize, a: usize, b: usize) -> [&'s mut [f32]; 3] {
        let staged = self.staged(a.max(b), 1).len(images);
        let tiles = images * self.tiles_per_image();
        let positions = self.variant.positions();
        let (pixels, rest) = scratch.split_at_mut(staged);
        let (first, rest) = rest.split_at_mut(positions * tiles * a);
        [pixels, first, &mut rest[..positions * tiles * b]]
    }

    /// y = conv(x) + bias (the window's first `bias.len()` channels) for
    /// `n` images, for output channels `window` only (multiples of
    /// [`LANES`]; `y` holds those channels): every input channel is
    /// transformed whatever the window, which lets threads share one
    /// image's convolution by channels.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(&self, filters: &[f32], x: &[f32], y: &mut [f32], bias: &[f32], scratch: &mut [f32], n: usize, window: Range<usize>) {
        assert!(window.start.is_multiple_of(LANES) && window.end.is_multiple_of(LANES) && window.end <= self.c_out, "Winograd window");
        let u = &filters[..self.filters_len() / 2];
        let job = Convolution { u, src: x, from: self.c_in, to: self.c_out, window, bias, accumulate: false };
        match self.variant {
            Variant::F2 => self.convolve::<F2>(job, y, scratch, n),
            Variant::F4 => self.convolve::<F4>(job, y, scratch, n),
        }
    }

    /// The input gradient for output gradient `dy`: written to `dx`, or
    /// added to it when `accumulate`.
    pub fn backward_input(&self, filters: &[f32], dy: &[f32], dx: &mut [f32], accumulate: bool, scratch: &mut [f32], n: usize) {
        let u = &filters[self.filters_len() / 2..];
        let job = Convolution { u, src: dy, from: self.c_out, to: self.c_in, window: 0..self.c_in, bias: &[], accumulate };
        match self.variant {
            Variant::F2 => self.convolve::<F2>(job, dx, scratch, n),
            Variant::F4 => self.convolve::<F4>(job, dx, scratch, n),
        }
    }

    /// Floats of the filters' gradient in the transformed domain (see
    /// [`Winograd::backward_filters`]).
    pub fn filter_grads_len(&self) -> usize {
        self.variant.positions() * self.c_out * self.c_in
    }

    /// Adds the filters' gradient for input `x` and output gradient `dy` to
    /// `du`, in the transformed domain (one c_out × c_in block per
    /// position): chunks add up there, and [`Winograd::finish_filter_grads`]
    /// turns the sum into the filters' gradient once per pass.
    pub fn backward_filters(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        match self.variant {
            Variant::F2 => self.filter_gradient::<F2>(x, dy, du, scratch, n),
            Variant::F4 => self.filter_gradient::<F4>(x, dy, du, scratch, n),
        }
    }

    /// Adds Gᵀ du G (the gradients `backward_filters` summed in `du`) to the
    /// filters' gradient `dw` (c_out × c_in × 3 × 3, PyTorch's order).
    pub fn finish_filter_grads(&self, du: &[f32], dw: &mut [f32]) {
        let block = self.c_out * self.c_in;
        match self.variant {
            Variant::F2 => filter_grads::<F2>(du, dw, block),
            Variant::F4 => filter_grads::<F4>(du, dw, block),
        }
    }

    /// out = conv(src) (+ bias) as `job` says, band by band.
    fn convolve<W: Minimal>(&self, job: Convolution, out: &mut [f32], scratch: &mut [f32], n: usize) {
        #[cfg(target_arch = "x86_64")]
        match crate::cpu::isa() {
            // SAFETY: the CPU has AVX-512F (and VL, which every AVX-512 CPU
            // has beside it), as cpu::isa says.
            crate::cpu::Isa::Avx512 => return unsafe { self.convolve_avx512::<W>(job, out, scratch, n) },
            // SAFETY: the CPU has AVX2, as cpu::isa says.
            crate::cpu::Isa::Avx2 => return unsafe { self.convolve_avx2::<W>(job, out, scratch, n) },
            crate::cpu::Isa::Baseline => {}
        }
        self.convolve_generic::<W, LANES>(job, out, scratch, n)
    }

    /// [`Winograd::convolve`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn convolve_avx2<W: Minimal>(&self, job: Convolution, out: &mut [f32], scratch: &mut [f32], n: usize) {
        self.convolve_generic::<W, LANES>(job, out, scratch, n)
    }

    /// [`Winograd::convolve`] compiled for AVX-512: the transforms in 16-float
    /// vectors where the channels allow (a ResNet's training step +5 % over
    /// 8-float ones), in 32 registers (a 6×6 tile's transform does not spill).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    fn convolve_avx512<W: Minimal>(&self, job: Convolution, out: &mut [f32], scratch: &mut [f32], n: usize) {
        self.convolve_generic::<W, 16>(job, out, scratch, n)
    }

    #[inline(always)]
    fn convolve_generic<W: Minimal, const N: usize>(&self, job: Convolution, out: &mut [f32], scratch: &mut [f32], n: usize) {
        // M holds the window's channels only.
        let (positions, from, to, window) = (W::SIDE * W::SIDE, job.from, job.window.len(), job.window.clone());
        for band in self.bands(n) {
            let tiles = band.len() * self.tiles_per_image();
            let [pixels, v, m] = self.band_buffers(scratch, band.len(), from, to);
            let staged = self.staged(from, 1);
            stage(job.src, pixels, staged, n, self.h, self.w, band.clone());
            input_transform::<W, N>(pixels, v, staged, self, band.len());
            let (v_at, m_at) = (Layout { positions, channels: from }, Layout { positions, channels: to });
            for p in 0..positions {
                let u_p = &job.u[p * from * job.to + window.start..][..(from - 1) * job.to + to];
                let v_p = Strided { data: &v[v_at.at(0, p)..], rows: v_at.stride(), cols: 1 };
                narrow_gemm(&mut m[m_at.at(0, p)..], m_at.stride(), v_p, u_p, job.to, tiles, to, from, false);
            }
            // Each image's map pixel-major, its rows back to back: one run per plane to unstage.
            let staged = Staged { channels: to, height: self.h, width: self.w, shift: 0 };
            widest!(to, output_transform::<W, N>(m, pixels, staged, self, band.len(), job.bias));
            unstage(pixels, out, to, n, self.h * self.w, band, job.accumulate);
        }
    }

    fn filter_gradient<W: Minimal>(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        #[cfg(target_arch = "x86_64")]
        match crate::cpu::isa() {
            // SAFETY: the CPU has AVX-512F (and VL, which every AVX-512 CPU
            // has beside it), as cpu::isa says.
            crate::cpu::Isa::Avx512 => return unsafe { self.filter_gradient_avx512::<W>(x, dy, du, scratch, n) },
            // SAFETY: the CPU has AVX2, as cpu::isa says.
            crate::cpu::Isa::Avx2 => return unsafe { self.filter_gradient_avx2::<W>(x, dy, du, scratch, n) },
            crate::cpu::Isa::Baseline => {}
        }
        self.filter_gradient_generic::<W, LANES>(x, dy, du, scratch, n)
    }

    /// [`Winograd::filter_gradient`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn filter_gradient_avx2<W: Minimal>(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        self.filter_gradient_generic::<W, LANES>(x, dy, du, scratch, n)
    }

    /// [`Winograd::filter_gradient`] compiled for AVX-512: the transforms in 16-float
    /// vectors where the channels allow (a ResNet's training step +5 % over
    /// 8-float ones), in 32 registers (a 6×6 tile's transform does not spill).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    fn filter_gradient_avx512<W: Minimal>(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        self.filter_gradient_generic::<W, 16>(x, dy, du, scratch, n)
    }

    #[inline(always)]
    fn filter_gradient_generic<W: Minimal, const N: usize>(&self, x: &[f32], dy: &[f32], du: &mut [f32], scratch: &mut [f32], n: usize) {
        let positions = W::SIDE * W::SIDE;
        let block = self.c_out * self.c_in;
        for band in self.bands(n) {
            let tiles = band.len() * self.tiles_per_image();
            let [pixels, v, dm] = self.band_buffers(scratch, band.len(), self.c_in, self.c_out);
            let staged = self.staged(self.c_in, 1);
            stage(x, pixels, staged, n, self.h, self.w, band.clone());
            input_transform::<W, N>(pixels, v, staged, self, band.len());
            let staged = self.staged(self.c_out, 0);
            stage(dy, pixels, staged, n, self.h, self.w, band.clone());
            output_grad_transform::<W, N>(pixels, dm, staged, self, band.len());
            let (v_at, dm_at) = (Layout { positions, channels: self.c_in }, Layout { positions, channels: self.c_out });
            for p in 0..positions {
                // du[p] += dm[p]ᵀ · v[p]: dm[p] read down its columns.
                let dm_p = Strided { data: &dm[dm_at.at(0, p)..], rows: 1, cols: dm_at.stride() };
                let v_p = &v[v_at.at(0, p)..];
                narrow_gemm(&mut du[p * block..][..block], self.c_in, dm_p, v_p, v_at.stride(), self.c_out, self.c_in, tiles, true);
            }
        }
    }
}

/// Which tiles [`tile_transform`] transforms. (An enum rather than the 1-D
/// transform as a closure: a closure is a function of its own, compiled
/// without the caller's AVX2.)
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tiles {
    /// Input tiles: Bᵀ d B.
    Input,
    /// Output gradient tiles: A e Aᵀ.
    OutputGradient,
}

impl Tiles {
    /// The 1-D transform of these tiles (Bᵀ or A) of `d` into `out`.
    #[inline(always)]
    fn one_d<W: Minimal, const N: usize>(self, d: &[Lanes<N>], out: &mut [Lanes<N>]) {
        match self {
            Tiles::Input => W::input(d, out),
            Tiles::OutputGradient => W::output_adjoint(d, out),
        }
    }
}

/// Bᵀ d B for every tile of `images` staged images into `v` (see
/// [`Layout`]), `N` channels a vector where they allow.
#[inline(always)]
fn input_transform<W: Minimal, const N: usize>(pixels: &[f32], v: &mut [f32], staged: Staged, conv: &Winograd, images: usize) {
    widest!(staged.channels, tile_transform::<W, N>(pixels, v, staged, conv, images, Tiles::Input));
}

/// A e Aᵀ for every tile of `images` staged output gradients into `dm`
/// (see [`Layout`]), `N` channels a vector where they allow.
#[inline(always)]
fn output_grad_transform<W: Minimal, const N: usize>(pixels: &[f32], dm: &mut [f32], staged: Staged, conv: &Winograd, images: usize) {
    widest!(staged.channels, tile_transform::<W, N>(pixels, dm, staged, conv, images, Tiles::OutputGradient));
}

/// T p Tᵀ, `N` channels at a time, for every tile of `images` staged
/// images into `dst` (see [`Layout`]): p is the pixels at the tile's
/// corner (SIDE × SIDE of an input, OUT × OUT of an output gradient), T
/// the 1-D transform to SIDE.
#[inline(always)]
// Columns of the 2-D tiles are read by index.
#[allow(clippy::needless_range_loop)]
fn tile_transform<W: Minimal, const N: usize>(
    pixels: &[f32],
    dst: &mut [f32],
    staged: Staged,
    conv: &Winograd,
    images: usize,
    tiles: Tiles,
) {
    let (side, out, channels) = (W::SIDE, W::OUT, staged.channels);
    let read = if tiles == Tiles::Input { W::SIDE } else { W::OUT };
    let layout = Layout { positions: side * side, channels };
    let tile_reach = |tiles: usize| out * (tiles - 1) + read;
    assert!(
        channels.is_multiple_of(N)
            && tile_reach(conv.rows()) <= staged.height
            && tile_reach(conv.cols()) <= staged.width
            && pixels.len() >= staged.len(images)
            && dst.len() >= images * conv.tiles_per_image() * layout.stride(),
        "tile_transform buffers"
    );
    let (pixels, dst) = (pixels.as_ptr(), dst.as_mut_ptr());
    // Made once: zeroing them per tile was a twentieth of the time.
    let mut across = [[Lanes::<N>::ZERO; MAX_SIDE]; MAX_SIDE];
    let (mut d, mut col) = ([Lanes::<N>::ZERO; MAX_SIDE], [Lanes::<N>::ZERO; MAX_SIDE]);
    let mut t = 0;
    for img in 0..images {
        for ty in 0..conv.rows() {
            for tx in 0..conv.cols() {
                for c in (0..channels).step_by(N) {
                    for (i, row) in across.iter_mut().enumerate().take(read) {
                        for (j, value) in d.iter_mut().enumerate().take(read) {
                            // SAFETY: a pixel of a tile inside the staged images (asserted above).
                            *value = unsafe { Lanes::read(pixels.add(staged.at(img, out * ty + i, out * tx + j) + c)) };
                        }
                        tiles.one_d::<W, N>(&d[..read], &mut row[..side]);
                    }
                    for j in 0..side {
                        for (i, value) in d.iter_mut().enumerate().take(read) {
                            *value = across[i][j];
                        }
                        tiles.one_d::<W, N>(&d[..read], &mut col[..side]);
                        for (a, value) in col.iter().enumerate().take(side) {
                            // SAFETY: a position of tile t < the tiles `dst` holds (asserted above).
                            unsafe { value.write(dst.add(layout.at(t, a * side + j) + c)) };
                        }
                    }
                }
                t += 1;
            }
        }
    }
}

/// Aᵀ m A (plus each channel's bias; channels past `bias` get none), `N`
/// channels at a time, for every tile of `images` images into `pixels`,
/// pixel-major as `staged` says (the map's own size: the outputs of tiles
/// that overhang it are dropped).
#[inline(always)]
// Columns of the 2-D tiles are read by index.
#[allow(clippy::needless_range_loop)]
fn output_transform<W: Minimal, const N: usize>(
    m: &[f32],
    pixels: &mut [f32],
    staged: Staged,
    conv: &Winograd,
    images: usize,
    bias: &[f32],
) {
    let (side, out, channels) = (W::SIDE, W::OUT, staged.channels);
    let layout = Layout { positions: side * side, channels };
    assert!(
        channels.is_multiple_of(N) && m.len() >= images * conv.tiles_per_image() * layout.stride() && pixels.len() >= staged.len(images),
        "output_transform buffers"
    );
    let (m, pixels) = (m.as_ptr(), pixels.as_mut_ptr());
    let mut down = [[Lanes::<N>::ZERO; MAX_SIDE]; MAX_SIDE];
    let (mut d, mut row) = ([Lanes::<N>::ZERO; MAX_SIDE], [Lanes::<N>::ZERO; MAX_SIDE]);
    let mut t = 0;
    for img in 0..images {
        for ty in 0..conv.rows() {
            for tx in 0..conv.cols() {
                for c in (0..channels).step_by(N) {
                    let b = match bias.get(c..c + N) {
                        Some(values) => Lanes(values.try_into().expect("N")),
                        None => Lanes(std::array::from_fn(|l| bias.get(c + l).copied().unwrap_or(0.0))),
                    };
                    for (j, col) in down.iter_mut().enumerate().take(side) {
                        for (a, value) in d.iter_mut().enumerate().take(side) {
                            // SAFETY: a position of tile t < the tiles `m` holds (asserted above).
                            *value = unsafe { Lanes::read(m.add(layout.at(t, a * side + j) + c)) };
                        }
                        W::output(&d[..side], &mut col[..out]);
                    }
                    for i in 0..out {
                        for (j, value) in d.iter_mut().enumerate().take(side) {
                            *value = down[j][i];
                        }
                        W::output(&d[..side], &mut row[..out]);
                        let y = out * ty + i;
                        if y >= staged.height {
                            continue;
                        }
                        let width = out.min(staged.width - out * tx);
                        for (k, pixel) in row.iter().enumerate().take(width) {
                            // SAFETY: y < height and out·tx + k < width (just above): inside the images.
                            unsafe { (*pixel + b).write(pixels.add(staged.at(img, y, out * tx + k) + c)) };
                        }
                    }
                }
                t += 1;
            }
        }
    }
}

/// Writes the transformed filters of `weight` (c_out × c_in × 3 × 3) into
/// `out` (`filters_len` floats): U[p] (c_in × c_out) for the forward pass,
/// then U'[p] (c_out × c_in) of the filters turned by 180° for the input
/// gradient.
pub(crate) fn transform_filters(variant: Variant, weight: &[f32], c_out: usize, c_in: usize, out: &mut [f32]) {
    match variant {
        Variant::F2 => transform_filters_with::<F2>(weight, c_out, c_in, out),
        Variant::F4 => transform_filters_with::<F4>(weight, c_out, c_in, out),
    }
}

/// The filters for the forward pass and, turned, for the input gradient:
/// two independent halves of the work, run side by side when called on
/// the pool (a training step transforms every Winograd filter again after
/// each optimizer step while the other threads wait: 3 % of a ResNet's
/// step on 2 threads when done in turn).
fn transform_filters_with<W: Minimal>(weight: &[f32], c_out: usize, c_in: usize, out: &mut [f32]) {
    let block = c_out * c_in;
    let positions = W::SIDE * W::SIDE;
    let (u, u_turned) = out.split_at_mut(positions * block);
    let mut forward = move || filter_tiles::<W, false>(weight, c_out, c_in, u);
    let mut turned = move || filter_tiles::<W, true>(weight, c_out, c_in, u_turned);
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1 {
        rayon::join(forward, turned);
    } else {
        // Off the pool a join would hand both to it and wait.
        forward();
        turned();
    }
}

/// Each filter's tile at (ci, co) of every position (the forward pass's),
/// or with `TURNED`, the filter turned by 180°'s at (co, ci) (the input
/// gradient's): in the order they are stored, so that the writes of each
/// position run along a row.
fn filter_tiles<W: Minimal, const TURNED: bool>(weight: &[f32], c_out: usize, c_in: usize, dst: &mut [f32]) {
    let (block, positions) = (c_out * c_in, W::SIDE * W::SIDE);
    let (rows, cols) = if TURNED { (c_out, c_in) } else { (c_in, c_out) };
    let mut tile = [0f64; MAX_SIDE * MAX_SIDE];
    for row in 0..rows {
        for col in 0..cols {
            let (co, ci) = if TURNED { (row, col) } else { (col, row) };
            let mut g: [f32; 9] = weight[(co * c_in + ci) * 9..][..9].try_into().expect("3×3");
            if TURNED {
                g.reverse();
            }
            filter_transform::<W>(&g, &mut tile);
            for (p, &t) in tile[..positions].iter().enumerate() {
                dst[p * block + row * cols + col] = t as f32;
            }
        }
    }
}

/// G g Gᵀ: a 3×3 filter to its tile (SIDE × SIDE, row-major).
fn filter_transform<W: Minimal>(g: &[f32; 9], tile: &mut [f64]) {
    let side = W::SIDE;
    let mut down = [[0f64; MAX_SIDE]; 3];
    for (j, col) in down.iter_mut().enumerate() {
        W::filter([g[j] as f64, g[3 + j] as f64, g[6 + j] as f64], &mut col[..side]);
    }
    for a in 0..side {
        W::filter([down[0][a], down[1][a], down[2][a]], &mut tile[a * side..(a + 1) * side]);
    }
}

/// dw += Gᵀ du G for every filter: `du` holds a block of `block` (c_out ×
/// c_in) values per position, `dw` the filters in the same order.
fn filter_grads<W: Minimal>(du: &[f32], dw: &mut [f32], block: usize) {
    let side = W::SIDE;
    for (f, dg) in dw.chunks_exact_mut(9).take(block).enumerate() {
        let mut rows = [[0f64; 3]; MAX_SIDE];
        let mut v = [0f64; MAX_SIDE];
        for (a, row) in rows.iter_mut().enumerate().take(side) {
            for (j, value) in v.iter_mut().enumerate().take(side) {
                *value = du[(a * side + j) * block + f] as f64;
            }
            *row = W::filter_adjoint(&v[..side]);
        }
        for j in 0..3 {
            for (a, value) in v.iter_mut().enumerate().take(side) {
                *value = rows[a][j];
            }
            let col = W::filter_adjoint(&v[..side]);
            for i in 0..3 {
                dg[i * 3 + j] += col[i] as f32;
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A direct 3×3 convolution, stride 1, padding 1, in f64.
    #[allow(clippy::too_many_arguments)]
    fn direct(x: &[f32], weight: &[f32], bias: &[f32], c_in: usize, c_out: usize, n: usize, h: usize, w: usize) -> Vec<f64> {
        let plane = h * w;
        let mut y = vec![0f64; c_out * n * plane];
        for co in 0..c_out {
            for img in 0..n {
                for oy in 0..h {
                    for ox in 0..w {
                        let mut acc = bias.get(co).copied().unwrap_or(0.0) as f64;
                        for ci in 0..c_in {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (iy, ix) = ((oy + ky) as isize - 1, (ox + kx) as isize - 1);
                                    if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                        continue;
                                    }
                                    let xv = x[(ci * n + img) * plane + iy as usize * w + ix as usize];
                                    acc += xv as f64 * weight[(co * c_in + ci) * 9 + ky * 3 + kx] as f64;
                                }
                            }
                        }
                        y[(co * n + img) * plane + oy * w + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn random(len: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    fn assert_close(got: &[f32], want: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!((g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}[{i}]: {g} against {w}");
        }
    }

    /// Forward, input gradient and filter gradient of both variants against
    /// the direct convolution and its adjoints, on sizes that fill the
    /// tiles, overhang them, fit in one tile and take several bands.
    #[test]
    fn matches_direct_convolution() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // 24 channels: 8-float vectors where AVX-512 takes 16 elsewhere.
        let shapes = [
            (8, 16, 2, 6, 6),
            (16, 8, 1, 7, 7),
            (8, 8, 3, 5, 9),
            (8, 8, 2, 1, 1),
            (8, 16, 1, 2, 3),
            (8, 8, 3, 40, 37),
            (24, 16, 2, 6, 6),
            (16, 24, 1, 5, 5),
        ];
        for (variant, (c_in, c_out, n, h, w)) in [Variant::F2, Variant::F4].into_iter().flat_map(|v| shapes.map(|s| (v, s))) {
            let conv = Winograd { c_in, c_out, h, w, variant };
            let (x, weight, bias) = (random(c_in * n * h * w, &mut rng), random(c_out * c_in * 9, &mut rng), random(c_out, &mut rng));
            let mut filters = vec![0f32; conv.filters_len()];
            transform_filters(variant, &weight, c_out, c_in, &mut filters);
            let mut scratch = vec![f32::NAN; conv.scratch_len(n)];
            let mut y = vec![f32::NAN; c_out * n * h * w];
            conv.forward(&filters, &x, &mut y, &bias, &mut scratch, n, 0..c_out);
            assert_close(&y, &direct(&x, &weight, &bias, c_in, c_out, n, h, w), &format!("{variant:?} forward {c_in}→{c_out} {n}×{h}×{w}"));
            // Windows of 8 channels and the rest (threads sharing an image),
            // with their bias: those channels of the whole, bit for bit.
            for window in [0..8, 8..c_out] {
                let plane = n * h * w;
                let mut part = vec![f32::NAN; window.len() * plane];
                conv.forward(&filters, &x, &mut part, &bias[window.clone()], &mut scratch, n, window.clone());
                assert_eq!(part, y[window.start * plane..window.end * plane], "{variant:?} forward of channels {window:?}");
            }

            // The loss Σ y·e: dx = conv with the turned, swapped filters; dw by finite sums.
            let e = random(c_out * n * h * w, &mut rng);
            let mut dx = vec![f32::NAN; x.len()];
            conv.backward_input(&filters, &e, &mut dx, false, &mut scratch, n);
            let mut turned = vec![0f32; weight.len()];
            for co in 0..c_out {
                for ci in 0..c_in {
                    for k in 0..9 {
                        turned[(ci * c_out + co) * 9 + 8 - k] = weight[(co * c_in + ci) * 9 + k];
                    }
                }
            }
            let want_dx = direct(&e, &turned, &[], c_out, c_in, n, h, w);
            assert_close(&dx, &want_dx, "input gradient");
            let mut twice = dx.clone();
            conv.backward_input(&filters, &e, &mut twice, true, &mut scratch, n);
            assert_close(&twice, &want_dx.iter().map(|v| 2.0 * v).collect::<Vec<_>>(), "input gradient, added");

            let mut dw = vec![1f32; weight.len()];
            let mut du = vec![0f32; conv.filter_grads_len()];
            conv.backward_filters(&x, &e, &mut du, &mut scratch, n);
            conv.finish_filter_grads(&du, &mut dw);
            let plane = h * w;
            for co in 0..c_out {
                for ci in 0..c_in {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (mut want, mut terms) = (1f64, 0f64);
                            for img in 0..n {
                                for oy in 0..h {
                                    for ox in 0..w {
                                        let (iy, ix) = ((oy + ky) as isize - 1, (ox + kx) as isize - 1);
                                        if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                            continue;
                                        }
                                        let term = e[(co * n + img) * plane + oy * w + ox] as f64
                                            * x[(ci * n + img) * plane + iy as usize * w + ix as usize] as f64;
                                        want += term;
                                        terms += term.abs();
                                    }
                                }
                            }
                            // A sum of thousands of terms cancels: its rounding is measured
                            // against their size (F(4,3)'s larger coefficients round more).
                            let got = dw[(co * c_in + ci) * 9 + ky * 3 + kx] as f64;
                            let tolerance = 1e-4 * (1.0 + want.abs()) + 1e-5 * terms;
                            assert!(
                                (got - want).abs() <= tolerance,
                                "{variant:?} {c_in}→{c_out} {n}×{h}×{w} filter gradient: {got} against {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
