//! The Winograd convolutions' products, whose output has few columns
//! (channels: 8 to 64): the transforms' products (many rows of tiles, a
//! short inner dimension of channels) and the filter gradient's (few rows
//! of channels, summed over many tiles). For them the `gemm` crate packs
//! both operands on every call and, its output row-major, runs its kernels
//! along the columns: at 16 channels a kernel of 16×6 outputs, mostly
//! loads and stores. Here the operands are read where they are (a row of
//! the right one is at most 64 floats) and each block of outputs stays in
//! registers through the whole inner dimension: one kernel source,
//! compiled for AVX2's 8-float and AVX-512's 16-float vectors.

use super::gemm::{covers, gemm_strided, Op};

/// A matrix read in place: element (i, j) at `data[i·rows + j·cols]`.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub data: &'a [f32],
    /// Floats from one row to the next.
    pub rows: usize,
    /// Floats from one column to the next.
    pub cols: usize,
}

/// dst (m × n, rows `dst_stride` apart) = a (m × k) · b (k × n, its rows
/// `b_stride` apart), or `dst +=` it when `accumulate`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn narrow_gemm(
    dst: &mut [f32],
    dst_stride: usize,
    a: Strided,
    b: &[f32],
    b_stride: usize,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst_stride >= n && covers(dst.len(), m, n, dst_stride, 1), "narrow_gemm destination too small");
    assert!(covers(a.data.len(), m, k, a.rows, a.cols), "narrow_gemm left operand too small");
    assert!(covers(b.len(), k, n, b_stride, 1), "narrow_gemm right operand too small");
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(8) && crate::cpu::avx2() {
        let matrices = kernels::Matrices {
            dst: dst.as_mut_ptr(),
            dst_stride,
            a: a.data.as_ptr(),
            a_rows: a.rows,
            a_cols: a.cols,
            b: b.as_ptr(),
            b_stride,
            n,
            k,
            accumulate,
        };
        // SAFETY: the CPU has AVX2 and FMA (checked just above), and
        // AVX-512F where its kernels are chosen; the asserts bound every
        // element read and written, and n is a multiple of 8.
        unsafe {
            match crate::cpu::isa() {
                crate::cpu::Isa::Avx512 => kernels::product_avx512(&matrices, m),
                _ => kernels::product_avx2(&matrices, m),
            }
        }
        return;
    }
    // Elsewhere the gemm crate: a left operand whose rows or columns are
    // contiguous is a plain one or a transposed one.
    let a = match (a.rows, a.cols) {
        (rows, 1) => Op::NStrided(a.data, rows),
        (1, cols) => Op::TStrided(a.data, cols),
        _ => unreachable!("narrow_gemm's left operand has contiguous rows or columns"),
    };
    gemm_strided(dst, dst_stride, a, Op::NStrided(b, b_stride), m, n, k, accumulate);
}

#[cfg(target_arch = "x86_64")]
mod kernels {
    use crate::engine::lanes::{Lanes, Ymm, Zmm};

    /// The operands of one product (see [`super::narrow_gemm`]).
    pub(super) struct Matrices {
        pub dst: *mut f32,
        pub dst_stride: usize,
        pub a: *const f32,
        pub a_rows: usize,
        pub a_cols: usize,
        pub b: *const f32,
        pub b_stride: usize,
        pub n: usize,
        pub k: usize,
        pub accumulate: bool,
    }

    /// The product in panels of 16 columns (and one of 8 when n is an odd
    /// multiple of 8), each in blocks of rows: 5 rows × 2 vectors (10
    /// accumulators, 2 loads of b and 5 broadcasts of a per step) or 8 rows
    /// × 1 vector at most (see [`panel`]). (6 rows × 2 vectors
    /// left the compiler one register short: it kept an accumulator on the
    /// stack inside the loop, and the kernel's speed then moved by a quarter
    /// with where the linker happened to place the code.)
    ///
    /// # Safety
    /// AVX2 and FMA are present; the pointers cover the m × n output and
    /// the operands their strides address; n is a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn product_avx2(x: &Matrices, m: usize) {
        let mut col = 0;
        // SAFETY: every call's panel stays inside the m × n output and the
        // operands the caller vouches for.
        unsafe {
            while col + 16 <= x.n {
                panel::<Ymm, 2, 5>(x, col, m);
                col += 16;
            }
            if col < x.n {
                panel::<Ymm, 1, 8>(x, col, m);
            }
        }
    }

    /// As [`product_avx2`] with 16-float vectors in AVX-512's 32
    /// registers: panels of 64 columns (6 rows × 4 vectors), then 32 (12
    /// rows × 2), 16 (12 × 1), and 8 in AVX2's vectors.
    ///
    /// # Safety
    /// As [`product_avx2`]'s, and AVX-512F is present.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn product_avx512(x: &Matrices, m: usize) {
        let mut col = 0;
        // SAFETY: every call's panel stays inside the m × n output and the
        // operands the caller vouches for.
        unsafe {
            while col + 64 <= x.n {
                panel::<Zmm, 4, 6>(x, col, m);
                col += 64;
            }
            if col + 32 <= x.n {
                panel::<Zmm, 2, 12>(x, col, m);
                col += 32;
            }
            if col + 16 <= x.n {
                panel::<Zmm, 1, 12>(x, col, m);
                col += 16;
            }
            if col < x.n {
                panel::<Ymm, 1, 8>(x, col, m);
            }
        }
    }

    /// Columns `col..col + N·V` of every row, in blocks of equal height, at
    /// most `R`: a last block of a few rows has too few independent sums to
    /// hide the multiply-adds' latency (the filter gradient's 16 rows of
    /// output channels ran as 12 + 4).
    ///
    /// # Safety
    /// As [`product_avx2`]'s, with `col + N·V ≤ n`, `m` the output's rows
    /// and the CPU running `L`'s instruction set.
    #[inline(always)]
    unsafe fn panel<L: Lanes, const V: usize, const R: usize>(x: &Matrices, col: usize, m: usize) {
        let height = m.div_ceil(m.div_ceil(R));
        let mut row = 0;
        // SAFETY: rows below m, columns inside the panel (see `product_avx2`).
        unsafe {
            while row < m {
                let rows = height.min(m - row);
                match rows {
                    _ if rows == R => block::<L, V, R>(x, row, col),
                    1 => block::<L, V, 1>(x, row, col),
                    2 => block::<L, V, 2>(x, row, col),
                    3 => block::<L, V, 3>(x, row, col),
                    4 => block::<L, V, 4>(x, row, col),
                    5 => block::<L, V, 5>(x, row, col),
                    6 => block::<L, V, 6>(x, row, col),
                    7 => block::<L, V, 7>(x, row, col),
                    8 => block::<L, V, 8>(x, row, col),
                    9 => block::<L, V, 9>(x, row, col),
                    10 => block::<L, V, 10>(x, row, col),
                    _ => block::<L, V, 11>(x, row, col),
                }
                row += rows;
            }
        }
    }

    /// Rows `row..row + R`, columns `col..col + N·V`, summed over the whole
    /// inner dimension in registers, then stored (or added).
    ///
    /// # Safety
    /// As [`panel`]'s, with the rows and columns inside the output.
    #[inline(always)]
    unsafe fn block<L: Lanes, const V: usize, const R: usize>(x: &Matrices, row: usize, col: usize) {
        // SAFETY: the caller keeps rows and columns inside the matrices.
        unsafe {
            let dst = x.dst.add(row * x.dst_stride + col);
            let mut acc = [[L::zero(); V]; R];
            if x.accumulate {
                for (r, sums) in acc.iter_mut().enumerate() {
                    for (v, sum) in sums.iter_mut().enumerate() {
                        *sum = L::load(dst.add(r * x.dst_stride + L::N * v));
                    }
                }
            }
            let a = x.a.add(row * x.a_rows);
            let b = x.b.add(col);
            for i in 0..x.k {
                let bv: [L; V] = std::array::from_fn(|v| L::load(b.add(i * x.b_stride + L::N * v)));
                let a_i = a.add(i * x.a_cols);
                for (r, sums) in acc.iter_mut().enumerate() {
                    let av = L::splat(a_i.add(r * x.a_rows));
                    for (sum, bv) in sums.iter_mut().zip(bv) {
                        *sum = sum.mul_add(av, bv);
                    }
                }
            }
            for (r, sums) in acc.iter().enumerate() {
                for (v, sum) in sums.iter().enumerate() {
                    sum.store(dst.add(r * x.dst_stride + L::N * v));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every panel and block shape (column counts 8 to 64, rows past whole
    /// blocks), a left operand read by rows and transposed, strided rows,
    /// written and added, against the definition.
    #[test]
    fn matches_the_definition() {
        for (m, n, k) in [
            (1, 8, 1),
            (5, 16, 3),
            (6, 16, 16),
            (13, 24, 7),
            (20, 32, 32),
            (9, 64, 64),
            (17, 40, 9),
            (16, 16, 100),
            (25, 120, 5),
            (30, 88, 11),
        ] {
            let (a_pad, b_stride, dst_stride) = (3, n + 2, n + 5);
            let stored: Vec<f32> = (0..(m + a_pad) * (k + a_pad)).map(|i| ((i * 31 % 17) as f32 - 8.0) / 4.0).collect();
            let b: Vec<f32> = (0..k * b_stride).map(|i| ((i * 13 % 11) as f32 - 5.0) / 2.0).collect();
            let by_rows = Strided { data: &stored, rows: k + a_pad, cols: 1 };
            let transposed = Strided { data: &stored, rows: 1, cols: m + a_pad };
            for a in [by_rows, transposed] {
                for accumulate in [false, true] {
                    let mut dst = vec![if accumulate { 0.5 } else { f32::NAN }; m * dst_stride];
                    narrow_gemm(&mut dst, dst_stride, a, &b, b_stride, m, n, k, accumulate);
                    for r in 0..m {
                        for c in 0..dst_stride {
                            let got = dst[r * dst_stride + c];
                            if c >= n {
                                assert!(accumulate || got.is_nan(), "{m}×{n}×{k}: wrote past the row at {r},{c}");
                                continue;
                            }
                            let sum: f32 = (0..k).map(|i| a.data[r * a.rows + i * a.cols] * b[i * b_stride + c]).sum();
                            let want = if accumulate { sum + 0.5 } else { sum };
                            assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}×{n}×{k} at {r},{c}: {got} against {want}");
                        }
                    }
                }
            }
        }
    }
}
