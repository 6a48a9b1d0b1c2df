//! Single-threaded f32 matrix products on row-major slices, through the
//! `gemm` crate (the GEMM candle itself uses), with the kernels of the
//! instruction set [`cpu::isa`] allows. The engine runs one task per core,
//! so each product stays on the calling thread.

use gemm::Parallelism;

use crate::cpu::{self, Isa};

/// A row-major matrix operand, read either as stored or transposed.
#[derive(Clone, Copy)]
pub(crate) enum Op<'a> {
    /// The slice holds the operand itself.
    N(&'a [f32]),
    /// The slice holds the operand's transpose.
    T(&'a [f32]),
    /// The slice holds the operand with its rows this many floats apart.
    NStrided(&'a [f32], usize),
    /// The slice holds the operand's transpose, its rows this many floats apart.
    TStrided(&'a [f32], usize),
}

impl Op<'_> {
    /// Pointer, column stride and row stride of an operand of `rows`×`cols`.
    fn strides(&self, rows: usize, cols: usize) -> (*const f32, isize, isize) {
        let (data, cs, rs) = match *self {
            Op::N(d) => (d, 1, cols),
            Op::T(d) => (d, rows, 1),
            Op::NStrided(d, stride) => (d, 1, stride),
            Op::TStrided(d, stride) => (d, stride, 1),
        };
        assert!(
            covers(data.len(), rows, cols, rs, cs),
            "gemm operand of {} values is smaller than {rows}x{cols} with strides {rs} and {cs}",
            data.len()
        );
        (data.as_ptr(), cs as isize, rs as isize)
    }
}

/// Whether `len` floats hold every element of a `rows` × `cols` matrix
/// whose rows are `row_stride` and columns `col_stride` floats apart.
pub(crate) fn covers(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    rows * cols == 0 || len > (rows - 1) * row_stride + (cols - 1) * col_stride
}

/// `dst` (m×n) = a (m×k) · b (k×n), or `dst += a · b` when `accumulate`.
pub(crate) fn gemm(dst: &mut [f32], a: Op, b: Op, m: usize, n: usize, k: usize, accumulate: bool) {
    gemm_strided(dst, n, a, b, m, n, k, accumulate);
}

/// [`gemm`] into a `dst` whose rows are `dst_stride` floats apart.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_strided(dst: &mut [f32], dst_stride: usize, a: Op, b: Op, m: usize, n: usize, k: usize, accumulate: bool) {
    assert!(
        dst_stride >= n && covers(dst.len(), m, n, dst_stride, 1),
        "gemm destination of {} values is smaller than {m}x{n} with rows {dst_stride} apart",
        dst.len()
    );
    let (a_ptr, a_cs, a_rs) = a.strides(m, k);
    let (b_ptr, b_cs, b_rs) = b.strides(k, n);
    // SAFETY: the asserts above check that every operand slice covers the
    // m×k, k×n and m×n elements its strides address, `dst` is borrowed
    // mutably so it cannot alias the operands, and no other thread runs
    // inside this call (Parallelism::None).
    unsafe { product(cpu::isa(), m, n, k, dst.as_mut_ptr(), dst_stride, accumulate, (a_ptr, a_cs, a_rs), (b_ptr, b_cs, b_rs)) }
}

/// An operand: pointer, column stride, row stride.
type Strided = (*const f32, isize, isize);

/// The `gemm` crate's product with the kernels of `isa` (which the CPU
/// must have). `gemm::gemm` picks the widest kernels the CPU has and offers
/// no way to ask for less, so on x86-64 the lower levels call its generic
/// driver with the kernels it would pick on a CPU without AVX-512 (FMA) or
/// without AVX2 (scalar), after the same normalization it applies: the
/// driver wants a column-major destination, so a row-major product runs
/// transposed, dstᵀ = bᵀ·aᵀ. Elsewhere `gemm::gemm` chooses (NEON,
/// SIMD128), except where WebAssembly's products fit the engine's own
/// kernel (`narrow_gemm::wasm_product`).
///
/// # Safety
/// The CPU has `isa`; `dst` addresses m rows of n floats `dst_stride`
/// apart, `a` and `b` the m×k and k×n elements their strides address;
/// `dst` overlaps neither.
#[allow(clippy::too_many_arguments)]
unsafe fn product(isa: Isa, m: usize, n: usize, k: usize, dst: *mut f32, dst_stride: usize, accumulate: bool, a: Strided, b: Strided) {
    #[cfg(target_arch = "wasm32")]
    if b.1 == 1 && n.is_multiple_of(8) {
        // SAFETY: as this function's caller guarantees; b's columns are adjacent.
        return unsafe { super::narrow_gemm::wasm_product(m, n, k, dst, dst_stride, accumulate, a, b) };
    }
    let stride = dst_stride as isize;
    let crate_choice =
        || gemm::gemm(m, n, k, dst, 1, stride, accumulate, a.0, a.1, a.2, b.0, b.1, b.2, 1.0, 1.0, false, false, false, Parallelism::None);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        crate_choice()
    }
    #[cfg(target_arch = "x86_64")]
    macro_rules! driver {
        // `lanes`: floats per vector, as `gemm_f32` instantiates each family.
        ($simd:expr, $kernels:ident, $lanes:literal) => {{
            use gemm_f32::microkernel::$kernels::f32 as ukr;
            const N: usize = $lanes;
            gemm_common::gemm::gemm_basic_generic::<
                _,
                f32,
                N,
                { ukr::MR_DIV_N * N },
                { ukr::NR },
                { ukr::MR_DIV_N },
                { ukr::H_M },
                { ukr::H_N },
            >(
                $simd,
                n,
                m,
                k,
                dst,
                stride,
                1,
                accumulate,
                b.0,
                b.2,
                b.1,
                a.0,
                a.2,
                a.1,
                1.0,
                1.0,
                false,
                false,
                false,
                |x, y, z| x * y + z,
                &ukr::UKR,
                &ukr::H_UKR,
                false,
                Parallelism::None,
            )
        }};
    }
    #[cfg(target_arch = "x86_64")]
    match (isa, gemm_common::simd::V3::try_new()) {
        (Isa::Avx512, _) => crate_choice(),
        (Isa::Avx2, Some(v3)) => driver!(v3, fma, 8),
        _ => driver!(gemm_common::simd::Scalar, scalar, 1),
    }
}

/// Sets every row of `dst` (rows × `len`) to its row's bias.
pub(crate) fn fill_rows(dst: &mut [f32], bias: &[f32], len: usize) {
    for (row, &b) in dst.chunks_exact_mut(len).zip(bias) {
        row.fill(b);
    }
}

/// Adds each row's bias to `dst` (rows × `len`).
pub(crate) fn add_rows(dst: &mut [f32], bias: &[f32], len: usize) {
    for (row, &b) in dst.chunks_exact_mut(len).zip(bias) {
        row.iter_mut().for_each(|v| *v += b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operand form and a strided destination against a plain triple
    /// loop, with each kernel family this CPU can run.
    #[test]
    fn strided_operands_match_the_definition() {
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512].into_iter().filter(|&isa| isa <= cpu::detected()) {
            // Edge kernels only, then whole register blocks with edges.
            strided_operands_match_with(isa, 5, 7, 3);
            strided_operands_match_with(isa, 37, 53, 70);
        }
    }

    fn strided_operands_match_with(isa: Isa, m: usize, n: usize, k: usize) {
        let value = |i: usize| ((i * 37 % 23) as f32 - 11.0) / 8.0;
        let a: Vec<f32> = (0..m * k).map(value).collect();
        let b: Vec<f32> = (0..k * n).map(|i| value(i + 100)).collect();
        let mut want = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                want[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        // The operands stored as given, transposed, and with rows `pad` floats apart.
        let pad = 4;
        let spread = |x: &[f32], rows: usize, cols: usize| -> Vec<f32> {
            let mut out = vec![f32::NAN; rows * (cols + pad)];
            for r in 0..rows {
                out[r * (cols + pad)..][..cols].copy_from_slice(&x[r * cols..][..cols]);
            }
            out
        };
        let transpose =
            |x: &[f32], rows: usize, cols: usize| -> Vec<f32> { (0..rows * cols).map(|i| x[(i % rows) * cols + i / rows]).collect() };
        let (a_t, b_t) = (transpose(&a, m, k), transpose(&b, k, n));
        let (a_s, a_ts) = (spread(&a, m, k), spread(&a_t, k, m));
        let (b_s, b_ts) = (spread(&b, k, n), spread(&b_t, n, k));
        let forms_a = [Op::N(&a), Op::T(&a_t), Op::NStrided(&a_s, k + pad), Op::TStrided(&a_ts, m + pad)];
        let forms_b = [Op::N(&b), Op::T(&b_t), Op::NStrided(&b_s, n + pad), Op::TStrided(&b_ts, k + pad)];
        for (fa, op_a) in forms_a.iter().enumerate() {
            for (fb, op_b) in forms_b.iter().enumerate() {
                let stride = n + 2;
                let mut dst = vec![1f32; m * stride];
                let (a, b) = (op_a.strides(m, k), op_b.strides(k, n));
                // SAFETY: `strides` checked the operands; dst holds m rows of `stride`.
                unsafe { product(isa, m, n, k, dst.as_mut_ptr(), stride, true, a, b) };
                for i in 0..m {
                    for j in 0..stride {
                        let expected = if j < n { want[i * n + j] + 1.0 } else { 1.0 };
                        assert!(
                            (dst[i * stride + j] - expected).abs() < 1e-5 * k as f32,
                            "{isa:?}, forms {fa},{fb} at {i},{j}: {} against {expected}",
                            dst[i * stride + j]
                        );
                    }
                }
            }
        }
    }
}
