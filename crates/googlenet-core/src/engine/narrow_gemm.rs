//! The Winograd convolutions' products, whose output has few columns
//! (channels: 8 to 64): the transforms' products (many rows of tiles, a
//! short inner dimension of channels) and the filter gradient's (few rows
//! of channels, summed over many tiles). For them the `gemm` crate packs
//! both operands on every call and, its output row-major, runs its kernels
//! along the columns: at 16 channels a kernel of 16×6 outputs, mostly
//! loads and stores. Here the operands are read where they are (a row of
//! the right one is at most 64 floats) and each block of outputs stays in
//! registers through the whole inner dimension: one kernel source,
//! compiled for AVX2's 8-float and AVX-512's 16-float vectors, and for
//! WebAssembly's 4-float ones.

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
    #[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
    if n.is_multiple_of(8) && kernels::available() {
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
        // SAFETY: the kernels' instruction set is there (checked just
        // above); the asserts bound every element read and written, and n
        // is a multiple of 8.
        unsafe { kernels::product(&matrices, m) };
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

/// Any product on WebAssembly whose right operand's rows are contiguous
/// and `n` a multiple of 8, by [`narrow_gemm`]'s kernel (`engine::gemm`
/// sends it the 1×1 convolutions' and the linear layers' products): there
/// the `gemm` crate packed both operands on every call, and multiplied 12 ×
/// 4 outputs at a time, unfused.
///
/// # Safety
/// `dst` addresses m rows of n floats `dst_stride` apart, `a` and `b`
/// (pointer, column stride, row stride; strides not negative) the m × k
/// and k × n elements they address, b's column stride is 1; `dst`
/// overlaps neither; n is a multiple of 8.
#[cfg(target_arch = "wasm32")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn wasm_product(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_stride: usize,
    accumulate: bool,
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
) {
    if m == 0 || n == 0 {
        return;
    }
    let (a_rows, a_cols, b_stride) = (a.2 as usize, a.1 as usize, b.2 as usize);
    let matrices = kernels::Matrices { dst, dst_stride, a: a.0, a_rows, a_cols, b: b.0, b_stride, n, k, accumulate };
    // SAFETY: as the caller guarantees (simd128: the module's).
    unsafe { kernels::product(&matrices, m) }
}

#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
mod kernels {
    use crate::engine::lanes::Lanes;
    #[cfg(target_arch = "wasm32")]
    use crate::engine::lanes::Simd128;
    #[cfg(target_arch = "x86_64")]
    use crate::engine::lanes::{Ymm, Zmm};

    /// Whether [`product`] runs here: on x86-64 where the CPU has AVX2 and
    /// FMA; always on WebAssembly, whose module is built with simd128 (the
    /// `gemm` crate's wasm kernels packed both operands on every call, as
    /// on x86, and multiplied only 12 × 4 outputs at a time).
    pub(super) fn available() -> bool {
        #[cfg(target_arch = "x86_64")]
        return crate::cpu::avx2();
        #[cfg(target_arch = "wasm32")]
        return true;
    }

    /// The product with the widest kernels [`available`] found.
    ///
    /// # Safety
    /// [`available`] said so; as [`product_avx2`]'s otherwise.
    pub(super) unsafe fn product(x: &Matrices, m: usize) {
        // SAFETY: [`available`] found the kernels' instruction set (AVX2
        // and FMA, AVX-512F where its kernels are chosen; simd128 in a
        // WebAssembly module); the caller vouches for the rest.
        unsafe {
            #[cfg(target_arch = "x86_64")]
            match crate::cpu::isa() {
                crate::cpu::Isa::Avx512 => product_avx512(x, m),
                _ => product_avx2(x, m),
            }
            #[cfg(target_arch = "wasm32")]
            product_simd128(x, m);
        }
    }

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
    /// × 1 vector at most (see [`panel`]). (6 rows × 2 vectors once ran
    /// with an accumulator on the stack inside the loop, its speed moving
    /// by a quarter with where the linker placed the code: what every
    /// block did until [`panel`] called them as functions of their own.)
    ///
    /// # Safety
    /// AVX2 and FMA are present; the pointers cover the m × n output and
    /// the operands their strides address; n is a multiple of 8.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn product_avx2(x: &Matrices, m: usize) {
        let mut col = 0;
        // SAFETY: every call's panel stays inside the m × n output and the
        // operands the caller vouches for.
        unsafe {
            while col + 16 <= x.n {
                panel::<Avx2, 2, 5>(x, col, m);
                col += 16;
            }
            if col < x.n {
                panel::<Avx2, 1, 8>(x, col, m);
            }
        }
    }

    /// As [`product_avx2`] with WebAssembly's 4-float vectors: panels of 8
    /// columns, 5 rows × 2 vectors (10 accumulators, 2 loads of b, one
    /// broadcast and, without relaxed SIMD, a product: 14 of the 15
    /// registers V8 allocates on x64).
    ///
    /// # Safety
    /// As [`product_avx2`]'s, for a module built with simd128.
    #[cfg(target_arch = "wasm32")]
    unsafe fn product_simd128(x: &Matrices, m: usize) {
        // SAFETY: every panel stays inside the m × n output (n a multiple
        // of 8) and the operands the caller vouches for.
        unsafe {
            for col in (0..x.n).step_by(8) {
                panel::<Wasm, 2, 5>(x, col, m);
            }
        }
    }

    /// As [`product_avx2`] with 16-float vectors in AVX-512's 32
    /// registers: panels of 64 columns (6 rows × 4 vectors), then 32 (12
    /// rows × 2), 16 (12 × 1), and 8 in AVX2's vectors.
    ///
    /// # Safety
    /// As [`product_avx2`]'s, and AVX-512F is present.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn product_avx512(x: &Matrices, m: usize) {
        let mut col = 0;
        // SAFETY: every call's panel stays inside the m × n output and the
        // operands the caller vouches for.
        unsafe {
            while col + 64 <= x.n {
                panel::<Avx512, 4, 6>(x, col, m);
                col += 64;
            }
            if col + 32 <= x.n {
                panel::<Avx512, 2, 12>(x, col, m);
                col += 32;
            }
            if col + 16 <= x.n {
                panel::<Avx512, 1, 12>(x, col, m);
                col += 16;
            }
            if col < x.n {
                panel::<Avx2, 1, 8>(x, col, m);
            }
        }
    }

    /// Columns `col..col + N·V` of every row, in blocks of equal height, at
    /// most `R`: a last block of a few rows has too few independent sums to
    /// hide the multiply-adds' latency (the filter gradient's 16 rows of
    /// output channels ran as 12 + 4).
    ///
    /// Each block is called through an opaque pointer, so that every block
    /// size stays a function of its own. Inlined into one function with the
    /// other sizes, as `#[inline(always)]` calls were, LLVM kept one
    /// accumulator of every block in memory inside its loop (even with
    /// registers free): a store and a reload around each multiply-add of
    /// that sum, a chain of ~12 cycles per step instead of the FMA's 4,
    /// which cost AMD Zen 3 (store forwarding slower than on Zen 4/5 and
    /// Intel) most of the kernel's speed: ~40 % of a ResNet training step
    /// ran here.
    ///
    /// # Safety
    /// As [`product_avx2`]'s, with `col + N·V ≤ n`, `m` the output's rows
    /// and the CPU running `B`'s instruction set.
    #[inline(always)]
    unsafe fn panel<B: Blocks, const V: usize, const R: usize>(x: &Matrices, col: usize, m: usize) {
        let height = m.div_ceil(m.div_ceil(R));
        let mut row = 0;
        while row < m {
            let rows = height.min(m - row);
            let block = match rows {
                _ if rows == R => B::block::<V, R>(),
                1 => B::block::<V, 1>(),
                2 => B::block::<V, 2>(),
                3 => B::block::<V, 3>(),
                4 => B::block::<V, 4>(),
                5 => B::block::<V, 5>(),
                6 => B::block::<V, 6>(),
                7 => B::block::<V, 7>(),
                8 => B::block::<V, 8>(),
                9 => B::block::<V, 9>(),
                10 => B::block::<V, 10>(),
                _ => B::block::<V, 11>(),
            };
            // SAFETY: rows below m, columns inside the panel (see
            // `product_avx2`); the CPU runs `B`'s instruction set.
            unsafe { std::hint::black_box(block)(x, row, col) };
            row += rows;
        }
    }

    /// One block of outputs: `(matrices, first row, first column)`.
    ///
    /// # Safety
    /// As [`block`]'s, on a CPU with the block's instruction set.
    type Block = unsafe fn(&Matrices, usize, usize);

    /// The [`block`]s of one instruction set, each compiled with its
    /// instructions as a function of its own.
    trait Blocks {
        fn block<const V: usize, const R: usize>() -> Block;
    }

    /// AVX2 and FMA's 8-float vectors.
    #[cfg(target_arch = "x86_64")]
    struct Avx2;

    #[cfg(target_arch = "x86_64")]
    impl Blocks for Avx2 {
        fn block<const V: usize, const R: usize>() -> Block {
            /// # Safety
            /// As [`block`]'s, with AVX2 and FMA present.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<const V: usize, const R: usize>(x: &Matrices, row: usize, col: usize) {
                // SAFETY: as the caller guarantees; AVX2 and FMA are this function's.
                unsafe { block::<Ymm, V, R>(x, row, col) }
            }
            avx2::<V, R>
        }
    }

    /// AVX-512F's 16-float vectors.
    #[cfg(target_arch = "x86_64")]
    struct Avx512;

    #[cfg(target_arch = "x86_64")]
    impl Blocks for Avx512 {
        fn block<const V: usize, const R: usize>() -> Block {
            /// # Safety
            /// As [`block`]'s, with AVX-512F, AVX2 and FMA present.
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512<const V: usize, const R: usize>(x: &Matrices, row: usize, col: usize) {
                // SAFETY: as the caller guarantees; AVX-512F is this function's.
                unsafe { block::<Zmm, V, R>(x, row, col) }
            }
            avx512::<V, R>
        }
    }

    /// WebAssembly's 4-float vectors (simd128: the whole module's).
    #[cfg(target_arch = "wasm32")]
    struct Wasm;

    #[cfg(target_arch = "wasm32")]
    impl Blocks for Wasm {
        fn block<const V: usize, const R: usize>() -> Block {
            /// # Safety
            /// As [`block`]'s.
            unsafe fn simd128<const V: usize, const R: usize>(x: &Matrices, row: usize, col: usize) {
                // SAFETY: as the caller guarantees; simd128 is the module's.
                unsafe { block::<Simd128, V, R>(x, row, col) }
            }
            simd128::<V, R>
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
