//! Channel-major activations (C×n×H×W, as the engine keeps them) copied
//! pixel-major (each pixel's channels side by side) and back, eight
//! channels at a time by 8×8 transposes in AVX registers: the layout in
//! which the Winograd transforms work on whole vectors, whatever the size
//! of the map.

use std::ops::Range;

#[cfg(target_arch = "x86_64")]
use crate::avx;

/// Channels moved at once: one AVX register of f32.
pub(crate) const LANES: usize = 8;

/// Where a band's images sit pixel-major: rows of `width` pixels of
/// `channels` floats, `height` rows per image, the map shifted by `shift`
/// rows and columns (1: the padding), zero around it.
#[derive(Clone, Copy)]
pub(crate) struct Staged {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub shift: usize,
}

impl Staged {
    pub fn len(&self, images: usize) -> usize {
        images * self.height * self.width * self.channels
    }

    /// Offset of pixel (row, col) of image `img`, in staged coordinates.
    #[inline(always)]
    pub fn at(&self, img: usize, row: usize, col: usize) -> usize {
        ((img * self.height + row) * self.width + col) * self.channels
    }
}

/// Copies images `band` of `src` (channels × n × h × w) pixel-major into
/// `dst` as `staged` says, zero around the map.
#[inline(always)]
pub(crate) fn stage(src: &[f32], dst: &mut [f32], staged: Staged, n: usize, h: usize, w: usize, band: Range<usize>) {
    let dst = &mut dst[..staged.len(band.len())];
    // Zero only around the map: the rest is written below.
    let (ch, shift) = (staged.channels, staged.shift);
    for (index, line) in dst.chunks_exact_mut(staged.width * ch).take(band.len() * staged.height).enumerate() {
        if (shift..shift + h).contains(&(index % staged.height)) {
            line[..shift * ch].fill(0.0);
            line[(shift + w) * ch..].fill(0.0);
        } else {
            line.fill(0.0);
        }
    }
    let plane = h * w;
    for c in (0..staged.channels).step_by(LANES) {
        for (i, img) in band.clone().enumerate() {
            for row in 0..h {
                let first = staged.at(i, row + staged.shift, staged.shift) + c;
                // Eight planes' rows into eight-channel pixels: one block transposed.
                swap_axes(&src[(c * n + img) * plane + row * w..], n * plane, &mut dst[first..], staged.channels, w);
            }
        }
    }
}

/// Copies the pixel-major `pixels` (per image, `plane` pixels of
/// `channels` floats, the map's rows back to back) of images `band` into
/// `y` (channels × n × plane), or adds them when `accumulate`.
#[inline(always)]
pub(crate) fn unstage(pixels: &[f32], y: &mut [f32], channels: usize, n: usize, plane: usize, band: Range<usize>, accumulate: bool) {
    for c in (0..channels).step_by(LANES) {
        for (i, img) in band.clone().enumerate() {
            swap_axes_back(&pixels[i * plane * channels + c..], channels, &mut y[(c * n + img) * plane..], n * plane, plane, accumulate);
        }
    }
}

/// `dst[x·dst_pixel + l] = src[l·src_plane + x]` for x < `len`, l < 8:
/// eight planes' rows (`src_plane` apart) to `len` pixels of eight values
/// (`dst_pixel` apart), in 8×8 blocks (the last one partial).
#[inline(always)]
pub(crate) fn swap_axes(src: &[f32], src_plane: usize, dst: &mut [f32], dst_pixel: usize, len: usize) {
    assert!(src.len() >= 7 * src_plane + len && dst.len() >= (len.max(1) - 1) * dst_pixel + LANES, "swap_axes bounds");
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::avx2() {
        for (x, count) in blocks(len) {
            // SAFETY: AVX2 is present (checked above); the assert bounds every
            // row read (l·src_plane + x + count ≤ src.len()) and pixel
            // written ((x + count − 1)·dst_pixel + 8 ≤ dst.len()).
            unsafe {
                let rows = std::array::from_fn(|l| avx::load(src.as_ptr().add(l * src_plane + x), count));
                for (i, pixel) in avx::transpose8(rows).into_iter().take(count).enumerate() {
                    std::arch::x86_64::_mm256_storeu_ps(dst.as_mut_ptr().add((x + i) * dst_pixel), pixel);
                }
            }
        }
        return;
    }
    for x in 0..len {
        for l in 0..LANES {
            dst[x * dst_pixel + l] = src[l * src_plane + x];
        }
    }
}

/// The inverse of [`swap_axes`]: `dst[l·dst_plane + x]` (=, or += when
/// `accumulate`) `src[x·src_pixel + l]`.
#[inline(always)]
pub(crate) fn swap_axes_back(src: &[f32], src_pixel: usize, dst: &mut [f32], dst_plane: usize, len: usize, accumulate: bool) {
    assert!(dst.len() >= 7 * dst_plane + len && src.len() >= (len.max(1) - 1) * src_pixel + LANES, "swap_axes_back bounds");
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::avx2() {
        use std::arch::x86_64::*;
        for (x, count) in blocks(len) {
            // SAFETY: AVX2 is present (checked above); the assert bounds every
            // pixel read ((x + count − 1)·src_pixel + 8 ≤ src.len()) and row
            // written (l·dst_plane + x + count ≤ dst.len()).
            unsafe {
                let pixels = std::array::from_fn(|i| {
                    if i < count {
                        _mm256_loadu_ps(src.as_ptr().add((x + i) * src_pixel))
                    } else {
                        _mm256_setzero_ps()
                    }
                });
                for (l, row) in avx::transpose8(pixels).into_iter().enumerate() {
                    let out = dst.as_mut_ptr().add(l * dst_plane + x);
                    let row = if accumulate { _mm256_add_ps(row, avx::load(out, count)) } else { row };
                    avx::store(out, row, count);
                }
            }
        }
        return;
    }
    for x in 0..len {
        for l in 0..LANES {
            let v = src[x * src_pixel + l];
            let out = &mut dst[l * dst_plane + x];
            *out = if accumulate { *out + v } else { v };
        }
    }
}

/// The 8-pixel blocks of a row of `len`: each block's first pixel and its
/// pixels (8, or fewer for the last).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn blocks(len: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..len).step_by(LANES).map(move |x| (x, (len - x).min(LANES)))
}
