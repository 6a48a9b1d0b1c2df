//! Separable resizing of a gray region: area averaging when shrinking (every
//! source pixel counts, by how much of it an output pixel covers, so thin
//! strokes fade instead of vanishing), linear interpolation when enlarging.

/// The source pixels one output pixel reads along an axis, and their weights (summing to 1).
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// Taps for resizing `src` pixels to `dst` along one axis (`src`, `dst` ≥ 1).
fn axis_taps(src: usize, dst: usize) -> Vec<Taps> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|j| {
            if scale >= 1.0 {
                // Output pixel j covers source [j·scale, (j+1)·scale).
                let (start, end) = (j as f64 * scale, ((j + 1) as f64 * scale).min(src as f64));
                let first = start.floor() as usize;
                let last = (end.ceil() as usize).clamp(first + 1, src);
                let weights =
                    (first..last).map(|i| (((i + 1) as f64).min(end) - (i as f64).max(start)).max(0.0) / scale).map(|w| w as f32).collect();
                Taps { first, weights }
            } else {
                // Interpolate at the output pixel's centre, in source pixel coordinates.
                let centre = ((j as f64 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f64);
                let first = (centre.floor() as usize).min(src.saturating_sub(2));
                let frac = (centre - first as f64) as f32;
                let weights = if src == 1 { vec![1.0] } else { vec![1.0 - frac, frac] };
                Taps { first, weights }
            }
        })
        .collect()
}

/// Resizes the `src_w × src_h` image that `pixel(x, y)` reads to
/// `dst_w × dst_h` (row-major). Rows are narrowed first, so the only
/// buffer the size of the source's height is `src_h × dst_w`.
pub(super) fn resize(pixel: impl Fn(usize, usize) -> f32, src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Vec<f32> {
    let across = axis_taps(src_w, dst_w);
    let down = axis_taps(src_h, dst_h);
    let mut rows = Vec::with_capacity(src_h * dst_w);
    for y in 0..src_h {
        rows.extend(across.iter().map(|t| t.weights.iter().enumerate().map(|(k, w)| w * pixel(t.first + k, y)).sum::<f32>()));
    }
    let mut out = Vec::with_capacity(dst_w * dst_h);
    for t in &down {
        out.extend((0..dst_w).map(|x| t.weights.iter().enumerate().map(|(k, w)| w * rows[(t.first + k) * dst_w + x]).sum::<f32>()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_sum_to_one_and_stay_inside() {
        for (src, dst) in [(1, 20), (5, 20), (19, 20), (20, 20), (21, 20), (60, 20), (8192, 20), (7, 3), (2, 1)] {
            for t in axis_taps(src, dst) {
                assert!(t.first + t.weights.len() <= src, "{src}->{dst}");
                assert!((t.weights.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{src}->{dst}");
                assert!(t.weights.iter().all(|&w| w >= 0.0));
            }
        }
    }

    #[test]
    fn same_size_is_the_identity_and_shrinking_averages_areas() {
        let image: Vec<f32> = (0..12).map(|i| i as f32).collect();
        assert_eq!(resize(|x, y| image[y * 4 + x], 4, 3, 4, 3), image);
        // 4×2 to 2×1: each output pixel is the mean of a 2×2 block.
        let image = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(resize(|x, y| image[y * 4 + x], 4, 2, 2, 1), vec![2.5, 4.5]);
    }
}
