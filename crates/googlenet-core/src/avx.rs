//! AVX2 helpers the engine's and the ops' kernels share: loads and stores
//! of a vector's first lanes (a row's last, partial block), an 8×8
//! transpose, and the split of 16 floats into their even and odd ones.
//! Each is inlined into a caller compiled for AVX2, which vouches for it.

use std::arch::x86_64::*;

/// Lanes below `count` set.
///
/// # Safety
/// AVX2 is present.
#[inline(always)]
unsafe fn mask(count: usize) -> __m256i {
    // SAFETY: the caller has AVX2.
    unsafe { _mm256_cmpgt_epi32(_mm256_set1_epi32(count as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)) }
}

/// The first `count` (≤ 8) floats at `p`, zero after them.
///
/// # Safety
/// AVX2 is present and `p .. p + count` is readable.
#[inline(always)]
pub(crate) unsafe fn load(p: *const f32, count: usize) -> __m256 {
    // SAFETY: as the caller guarantees; a masked load reads no lane past `count`.
    unsafe {
        if count == 8 {
            _mm256_loadu_ps(p)
        } else {
            _mm256_maskload_ps(p, mask(count))
        }
    }
}

/// Writes the first `count` (≤ 8) lanes of `v` at `p`: all 8 at once,
/// or 4, 2 and 1 at a time (a masked store was slower than scalar
/// copies on AMD's cores).
///
/// # Safety
/// AVX2 is present and `p .. p + count` is writable.
#[inline(always)]
pub(crate) unsafe fn store(p: *mut f32, v: __m256, count: usize) {
    // SAFETY: as the caller guarantees; each store below stays within
    // the first `count` floats at `p`.
    unsafe {
        if count == 8 {
            _mm256_storeu_ps(p, v);
            return;
        }
        let upper = _mm256_extractf128_ps::<1>(v);
        let (mut p, mut v, mut count) = (p, _mm256_castps256_ps128(v), count);
        if count >= 4 {
            _mm_storeu_ps(p, v);
            (p, v, count) = (p.add(4), upper, count - 4);
        }
        if count >= 2 {
            _mm_store_sd(p as *mut f64, _mm_castps_pd(v));
            (p, v, count) = (p.add(2), _mm_movehl_ps(v, v), count - 2);
        }
        if count == 1 {
            _mm_store_ss(p, v);
        }
    }
}

/// The even and the odd floats of `a` then `b` (16 floats), each in order.
///
/// # Safety
/// AVX2 is present.
#[inline(always)]
pub(crate) unsafe fn deinterleave(a: __m256, b: __m256) -> (__m256, __m256) {
    // SAFETY: register shuffles only; the caller has AVX2.
    unsafe {
        // The shuffles leave the 64-bit pairs in the order 0, 2, 1, 3.
        let order = |x: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(x)));
        (order(_mm256_shuffle_ps::<0b10_00_10_00>(a, b)), order(_mm256_shuffle_ps::<0b11_01_11_01>(a, b)))
    }
}

/// Row r of the result is column r of `r`.
///
/// # Safety
/// AVX is present.
#[inline(always)]
pub(crate) unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    // SAFETY: register shuffles only; the caller has AVX.
    unsafe {
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let u = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        [
            _mm256_permute2f128_ps::<0x20>(u[0], u[4]),
            _mm256_permute2f128_ps::<0x20>(u[1], u[5]),
            _mm256_permute2f128_ps::<0x20>(u[2], u[6]),
            _mm256_permute2f128_ps::<0x20>(u[3], u[7]),
            _mm256_permute2f128_ps::<0x31>(u[0], u[4]),
            _mm256_permute2f128_ps::<0x31>(u[1], u[5]),
            _mm256_permute2f128_ps::<0x31>(u[2], u[6]),
            _mm256_permute2f128_ps::<0x31>(u[3], u[7]),
        ]
    }
}
