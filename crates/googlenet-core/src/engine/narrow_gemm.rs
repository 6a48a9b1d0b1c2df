//! The Winograd convolutions' products: many rows (tiles), few columns and
//! a short inner dimension (channels: 8 to 64). For them the `gemm` crate
//! packs both operands on every call and, its output row-major, runs its
//! kernels along the columns: at 16 output channels a kernel of 16×6 with
//! 16 products per output, mostly loads and stores. Here the right-hand
//! matrix (at most 64×64 floats) stays in L1 as it is, and each block of
//! rows keeps its outputs in registers through the whole inner dimension.

use super::gemm::{gemm_strided, Op};

/// dst (m × n, rows `dst_stride` apart) = a (m × k, rows `a_stride` apart)
/// · b (k × n, row-major).
#[allow(clippy::too_many_arguments)]
pub(crate) fn narrow_gemm(dst: &mut [f32], dst_stride: usize, a: &[f32], a_stride: usize, b: &[f32], m: usize, n: usize, k: usize) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst_stride >= n && dst.len() >= (m - 1) * dst_stride + n, "narrow_gemm destination too small");
    assert!(a_stride >= k && a.len() >= (m - 1) * a_stride + k, "narrow_gemm left operand too small");
    assert!(b.len() >= k * n, "narrow_gemm right operand too small");
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(8) && std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: AVX2 and FMA are present (checked just above); the asserts
        // bound every row read and written, and n is a multiple of 8.
        unsafe { avx2::product(dst.as_mut_ptr(), dst_stride, a.as_ptr(), a_stride, b.as_ptr(), m, n, k) };
        return;
    }
    gemm_strided(dst, dst_stride, Op::NStrided(a, a_stride), Op::N(b), m, n, k, false);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// [`super::narrow_gemm`] in panels of 16 columns (and one of 8 when n
    /// is an odd multiple of 8), each in blocks of rows: 6 rows × 2 vectors
    /// (12 accumulators, 2 loads of b and 6 broadcasts of a per step) or
    /// 8 rows × 1 vector, then single rows.
    ///
    /// # Safety
    /// AVX2 and FMA are present; `dst`, `a` and `b` cover the matrices
    /// their strides address; n is a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn product(dst: *mut f32, dst_stride: usize, a: *const f32, a_stride: usize, b: *const f32, m: usize, n: usize, k: usize) {
        let matrices = Matrices { dst, dst_stride, a, a_stride, b, n, k };
        let mut col = 0;
        // SAFETY (all calls): the panels and rows stay inside the m × n
        // output and the k × n right operand the caller vouches for.
        unsafe {
            while col + 16 <= n {
                panel::<2, 6>(&matrices, col, m);
                col += 16;
            }
            if col < n {
                panel::<1, 8>(&matrices, col, m);
            }
        }
    }

    /// The operands of one product.
    struct Matrices {
        dst: *mut f32,
        dst_stride: usize,
        a: *const f32,
        a_stride: usize,
        b: *const f32,
        n: usize,
        k: usize,
    }

    /// Columns `col..col + 8·V` of every row: blocks of `R` rows, then one
    /// at a time.
    #[inline(always)]
    unsafe fn panel<const V: usize, const R: usize>(x: &Matrices, col: usize, m: usize) {
        let mut row = 0;
        // SAFETY: rows below m, columns inside the panel (see `product`).
        unsafe {
            while row + R <= m {
                block::<V, R>(x, row, col);
                row += R;
            }
            while row < m {
                block::<V, 1>(x, row, col);
                row += 1;
            }
        }
    }

    /// Rows `row..row + R`, columns `col..col + 8·V`, summed over the whole
    /// inner dimension in registers, then stored.
    #[inline(always)]
    unsafe fn block<const V: usize, const R: usize>(x: &Matrices, row: usize, col: usize) {
        // SAFETY: the caller keeps rows and columns inside the matrices.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); V]; R];
            let a = x.a.add(row * x.a_stride);
            let b = x.b.add(col);
            for i in 0..x.k {
                let bv: [__m256; V] = std::array::from_fn(|v| _mm256_loadu_ps(b.add(i * x.n + 8 * v)));
                for (r, sums) in acc.iter_mut().enumerate() {
                    let av = _mm256_broadcast_ss(&*a.add(r * x.a_stride + i));
                    for (sum, bv) in sums.iter_mut().zip(bv) {
                        *sum = _mm256_fmadd_ps(av, bv, *sum);
                    }
                }
            }
            let dst = x.dst.add(row * x.dst_stride + col);
            for (r, sums) in acc.iter().enumerate() {
                for (v, sum) in sums.iter().enumerate() {
                    _mm256_storeu_ps(dst.add(r * x.dst_stride + 8 * v), *sum);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every panel and block shape (column counts 8 to 64, rows past a whole
    /// block) against the definition, with strided rows.
    #[test]
    fn matches_the_definition() {
        for (m, n, k) in [(1, 8, 1), (5, 16, 3), (6, 16, 16), (13, 24, 7), (20, 32, 32), (9, 64, 64), (17, 40, 9)] {
            let (a_stride, dst_stride) = (k + 3, n + 5);
            let a: Vec<f32> = (0..m * a_stride).map(|i| ((i * 31 % 17) as f32 - 8.0) / 4.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 13 % 11) as f32 - 5.0) / 2.0).collect();
            let mut dst = vec![f32::NAN; m * dst_stride];
            narrow_gemm(&mut dst, dst_stride, &a, a_stride, &b, m, n, k);
            for r in 0..m {
                for c in 0..dst_stride {
                    let got = dst[r * dst_stride + c];
                    if c >= n {
                        assert!(got.is_nan(), "{m}×{n}×{k}: wrote past the row at {r},{c}");
                        continue;
                    }
                    let want: f32 = (0..k).map(|i| a[r * a_stride + i] * b[i * n + c]).sum();
                    assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}×{n}×{k} at {r},{c}: {got} against {want}");
                }
            }
        }
    }
}
