//! Single-threaded f32 matrix products on row-major slices, through the
//! `gemm` crate (the GEMM candle itself uses). The engine runs one task per
//! core, so each product stays on the calling thread.

use gemm::Parallelism;

/// A row-major matrix operand, read either as stored or transposed.
#[derive(Clone, Copy)]
pub(crate) enum Op<'a> {
    /// The slice holds the operand itself.
    N(&'a [f32]),
    /// The slice holds the operand's transpose.
    T(&'a [f32]),
}

impl Op<'_> {
    /// Pointer, column stride and row stride of an operand of `rows`×`cols`.
    fn strides(&self, rows: usize, cols: usize) -> (*const f32, isize, isize) {
        let (data, cs, rs) = match *self {
            Op::N(d) => (d, 1, cols),
            Op::T(d) => (d, rows, 1),
        };
        assert!(data.len() >= rows * cols, "gemm operand of {} values is smaller than {rows}x{cols}", data.len());
        (data.as_ptr(), cs as isize, rs as isize)
    }
}

/// `dst` (m×n) = a (m×k) · b (k×n), or `dst += a · b` when `accumulate`.
pub(crate) fn gemm(dst: &mut [f32], a: Op, b: Op, m: usize, n: usize, k: usize, accumulate: bool) {
    assert!(dst.len() >= m * n, "gemm destination of {} values is smaller than {m}x{n}", dst.len());
    let (a_ptr, a_cs, a_rs) = a.strides(m, k);
    let (b_ptr, b_cs, b_rs) = b.strides(k, n);
    // SAFETY: the asserts above check that every operand slice covers the
    // m×k, k×n and m×n elements its strides address, `dst` is borrowed
    // mutably so it cannot alias the operands, and no other thread runs
    // inside this call (Parallelism::None).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a_ptr,
            a_cs,
            a_rs,
            b_ptr,
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
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
