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
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operand form and a strided destination against a plain triple loop.
    #[test]
    fn strided_operands_match_the_definition() {
        let (m, n, k) = (5, 7, 3);
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
                gemm_strided(&mut dst, stride, *op_a, *op_b, m, n, k, true);
                for i in 0..m {
                    for j in 0..stride {
                        let expected = if j < n { want[i * n + j] + 1.0 } else { 1.0 };
                        assert!(
                            (dst[i * stride + j] - expected).abs() < 1e-5,
                            "forms {fa},{fb} at {i},{j}: {} against {expected}",
                            dst[i * stride + j]
                        );
                    }
                }
            }
        }
    }
}
