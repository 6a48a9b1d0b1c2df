//! The engine's element-wise passes, each compiled for AVX2 where the CPU
//! has it (the baseline x86-64 build has SSE2 only).

/// The larger of `a` and `b` by one comparison: `f32::max` for every pair
/// without a NaN (with one, `b` when `a` is the NaN, else the NaN), and
/// for `b` = 0 a ReLU. Why not `f32::max`: it skips NaNs, which
/// WebAssembly's vector max does not, so there every value became a call
/// to `fmaxf`; a comparison is one select there, and one `maxps` on x86.
#[inline(always)]
pub(crate) fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// y = max(x, 0).
#[inline(always)]
fn relu_generic(x: &[f32], y: &mut [f32]) {
    y.iter_mut().zip(x).for_each(|(y, &v)| *y = larger(v, 0.0));
}

/// dx = dy where the ReLU's output `y` is positive, 0 elsewhere.
#[inline(always)]
fn relu_grad_generic(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    dx.iter_mut().zip(dy).zip(y).for_each(|((d, &g), &v)| *d = if v > 0.0 { g } else { 0.0 });
}

/// y = max(y, 0), in place.
#[inline(always)]
fn relu_in_place_generic(y: &mut [f32]) {
    y.iter_mut().for_each(|v| *v = larger(*v, 0.0));
}

/// dy = 0 where the ReLU's output `y` is not positive, in place: the
/// gradient through a ReLU that a batch norm computed.
#[inline(always)]
fn relu_mask_generic(y: &[f32], dy: &mut [f32]) {
    dy.iter_mut().zip(y).for_each(|(g, &v)| *g = if v > 0.0 { *g } else { 0.0 });
}

/// y += x.
#[inline(always)]
fn add_into_generic(y: &mut [f32], x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(y, v)| *y += v);
}

/// y = a + b.
#[inline(always)]
fn sum_into_generic(y: &mut [f32], a: &[f32], b: &[f32]) {
    y.iter_mut().zip(a).zip(b).for_each(|((y, a), b)| *y = a + b);
}

/// Lanes of [`row_sums_generic`]: independent accumulators, so the sums
/// vectorize (f32 addition is not associative, so a single running sum would not).
const LANES: usize = 16;

/// Adds each row's sum of `src` (rows × `len`) to `acc`: a bias gradient.
#[inline(always)]
fn accumulate_row_sums_generic(acc: &mut [f32], src: &[f32], len: usize) {
    for (a, row) in acc.iter_mut().zip(src.chunks_exact(len)) {
        let mut lanes = [0f32; LANES];
        let chunks = row.chunks_exact(LANES);
        let rest: f32 = chunks.remainder().iter().sum();
        for chunk in chunks {
            lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
        }
        *a += lanes.iter().sum::<f32>() + rest;
    }
}

with_simd! {
    /// [`relu_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn relu(x: &[f32], y: &mut [f32]) => relu_generic
}

with_simd! {
    /// [`relu_grad_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn relu_grad(y: &[f32], dy: &[f32], dx: &mut [f32]) => relu_grad_generic
}

with_simd! {
    /// [`relu_in_place_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn relu_in_place(y: &mut [f32]) => relu_in_place_generic
}

with_simd! {
    /// [`relu_mask_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn relu_mask(y: &[f32], dy: &mut [f32]) => relu_mask_generic
}

with_simd! {
    /// [`add_into_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn add_into(y: &mut [f32], x: &[f32]) => add_into_generic
}

with_simd! {
    /// [`sum_into_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn sum_into(y: &mut [f32], a: &[f32], b: &[f32]) => sum_into_generic
}

with_simd! {
    /// [`accumulate_row_sums_generic`], compiled for AVX2 where the CPU has it.
    pub(crate) fn accumulate_row_sums(acc: &mut [f32], src: &[f32], len: usize) => accumulate_row_sums_generic
}
