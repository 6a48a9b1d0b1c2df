//! Copying and adding rectangles of short rows between planes: the inner
//! loops of im2col and col2im, whose rows are mostly 4 to 24 floats long.
//! Bounds are checked once per rectangle rather than once per row.

/// The length a slice must have to hold `rows` runs of `run` floats with
/// rows `stride` apart.
#[inline(always)]
fn extent(rows: usize, run: usize, stride: usize) -> usize {
    if rows == 0 {
        0
    } else {
        (rows - 1) * stride + run
    }
}

/// Runs `$body` with the const `$n` bound to `$run` when it is 1 to 32, so
/// each row's copy or add has a length known at compile time and becomes a
/// few vector instructions (a loop of unknown length would be turned into a
/// `memmove` call per row); `$fallback` handles longer runs.
macro_rules! with_const_run {
    ($run:expr, $n:ident => $body:expr, $fallback:expr) => {
        seq_match!($run, $n => $body, $fallback; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
    };
}

macro_rules! seq_match {
    ($run:expr, $n:ident => $body:expr, $fallback:expr; $($len:literal)*) => {
        match $run {
            $($len => {
                const $n: usize = $len;
                $body
            })*
            _ => $fallback,
        }
    };
}

/// Copies `rows` runs of `run` floats from `src` (rows `src_stride` apart)
/// into `dst` (rows `dst_stride` apart).
#[inline(always)]
pub(crate) fn copy_rect(dst: &mut [f32], dst_stride: usize, src: &[f32], src_stride: usize, rows: usize, run: usize) {
    assert!(dst.len() >= extent(rows, run, dst_stride) && src.len() >= extent(rows, run, src_stride));
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    // Row r spans [r·stride, r·stride + run) in each slice, which the assert
    // above keeps inside both; `dst` is borrowed mutably, so the two cannot
    // overlap. f32 pointers taken from slices are aligned.
    with_const_run!(
        run,
        N => for r in 0..rows {
            // SAFETY: row r lies inside both slices, which do not overlap (above); N == run.
            unsafe { std::ptr::copy_nonoverlapping(s.add(r * src_stride), d.add(r * dst_stride), N) }
        },
        for r in 0..rows {
            // SAFETY: row r lies inside both slices, which do not overlap (above).
            unsafe { std::ptr::copy_nonoverlapping(s.add(r * src_stride), d.add(r * dst_stride), run) }
        }
    )
}

/// Adds `rows` runs of `run` floats of `src` (rows `src_stride` apart)
/// into `dst` (rows `dst_stride` apart).
#[inline(always)]
pub(crate) fn add_rect(dst: &mut [f32], dst_stride: usize, src: &[f32], src_stride: usize, rows: usize, run: usize) {
    assert!(dst.len() >= extent(rows, run, dst_stride) && src.len() >= extent(rows, run, src_stride));
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    /// # Safety
    /// `d` and `s` must each point to `N` valid floats that do not overlap.
    #[inline(always)]
    unsafe fn add<const N: usize>(d: *mut f32, s: *const f32) {
        // SAFETY: the caller guarantees N valid floats at each, not
        // overlapping, so the two references do not alias; [f32; N] has the
        // alignment of f32.
        let (d, s) = unsafe { (&mut *(d as *mut [f32; N]), &*(s as *const [f32; N])) };
        d.iter_mut().zip(s).for_each(|(d, s)| *d += s);
    }
    // As in `copy_rect`, each row lies inside both slices and they cannot
    // overlap.
    with_const_run!(
        run,
        N => for r in 0..rows {
            // SAFETY: row r holds N == run floats inside each slice, not overlapping (above).
            unsafe { add::<N>(d.add(r * dst_stride), s.add(r * src_stride)) }
        },
        for r in 0..rows {
            // SAFETY: row r lies inside both slices, which do not overlap
            // (above), so the two slices made of it do not alias.
            let (d, s) = unsafe {
                (std::slice::from_raw_parts_mut(d.add(r * dst_stride), run), std::slice::from_raw_parts(s.add(r * src_stride), run))
            };
            d.iter_mut().zip(s).for_each(|(d, s)| *d += s);
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run length: the 32 compile-time ones and the fallback beyond.
    #[test]
    fn rectangles_match_a_plain_loop() {
        let (rows, src_stride, dst_stride) = (3, 45, 41);
        let src: Vec<f32> = (0..rows * src_stride).map(|i| i as f32 * 0.5 - 7.0).collect();
        for run in 0..=40 {
            let stride = dst_stride.max(run);
            let mut copied = vec![-1.0; rows * stride];
            let mut added: Vec<f32> = (0..rows * stride).map(|i| i as f32).collect();
            let (mut want_copied, mut want_added) = (copied.clone(), added.clone());
            for r in 0..rows {
                for i in 0..run {
                    want_copied[r * stride + i] = src[r * src_stride + i];
                    want_added[r * stride + i] += src[r * src_stride + i];
                }
            }
            copy_rect(&mut copied, stride, &src, src_stride, rows, run);
            add_rect(&mut added, stride, &src, src_stride, rows, run);
            assert_eq!(copied, want_copied, "copy, run {run}");
            assert_eq!(added, want_added, "add, run {run}");
        }
    }

    #[test]
    #[should_panic]
    fn a_rectangle_past_the_slice_is_refused() {
        copy_rect(&mut [0.0; 10], 5, &[0.0; 10], 5, 2, 6);
    }
}
