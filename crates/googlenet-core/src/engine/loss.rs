//! Softmax cross-entropy on rows of logits.

/// Log-sum-exp of a row, computed stably.
fn log_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    max + row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln()
}

/// Cross-entropy of one row of logits against `label`.
pub(crate) fn cross_entropy(row: &[f32], label: usize) -> f32 {
    log_sum_exp(row) - row[label]
}

/// Softmax of a row in place.
pub(crate) fn softmax_in_place(row: &mut [f32]) {
    let lse = log_sum_exp(row);
    row.iter_mut().for_each(|v| *v = (*v - lse).exp());
}

/// Sum of the rows' cross-entropies; `grad` gets d(loss)/d(logits) of the
/// loss `scale` × that sum (softmax − one-hot, scaled).
pub(crate) fn cross_entropy_backward(logits: &[f32], labels: &[u32], classes: usize, scale: f32, grad: &mut [f32]) -> f32 {
    let mut total = 0.0;
    for ((row, g), &label) in logits.chunks_exact(classes).zip(grad.chunks_exact_mut(classes)).zip(labels) {
        total += cross_entropy(row, label as usize);
        g.copy_from_slice(row);
        softmax_in_place(g);
        g[label as usize] -= 1.0;
        g.iter_mut().for_each(|v| *v *= scale);
    }
    total
}
