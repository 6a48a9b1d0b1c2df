//! Softmax cross-entropy on rows of logits, optionally with label smoothing
//! (checked against PyTorch in tests/suite/label_smoothing.rs).

/// Log-sum-exp of a row, computed stably.
fn log_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    max + row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln()
}

/// Cross-entropy of one row of logits against `label`.
pub fn cross_entropy(row: &[f32], label: usize) -> f32 {
    log_sum_exp(row) - row[label]
}

/// Softmax of a row in place.
pub fn softmax_in_place(row: &mut [f32]) {
    let lse = log_sum_exp(row);
    row.iter_mut().for_each(|v| *v = (*v - lse).exp());
}

/// Sum of the rows' losses; `grad` gets d(loss)/d(logits) of the loss
/// `scale` × that sum. A row's loss is PyTorch's
/// `CrossEntropyLoss(label_smoothing = ε)`: (1 − ε)·(−log p_label) +
/// ε·mean_k(−log p_k), whose gradient is softmax − ((1 − ε)·one-hot + ε/K).
pub fn cross_entropy_backward(logits: &[f32], labels: &[u32], classes: usize, scale: f32, label_smoothing: f32, grad: &mut [f32]) -> f32 {
    let mut total = 0.0;
    for ((row, g), &label) in logits.chunks_exact(classes).zip(grad.chunks_exact_mut(classes)).zip(labels) {
        let label = label as usize;
        g.copy_from_slice(row);
        softmax_in_place(g);
        // ε = 0 keeps the arithmetic of plain cross-entropy, bit for bit.
        if label_smoothing == 0.0 {
            total += cross_entropy(row, label);
            g[label] -= 1.0;
        } else {
            let eps = label_smoothing;
            let lse = log_sum_exp(row);
            // mean_k(−log p_k) = lse − mean_k(logit_k): no log of a tiny probability.
            let mean = row.iter().sum::<f32>() / classes as f32;
            total += (1.0 - eps) * (lse - row[label]) + eps * (lse - mean);
            let uniform = eps / classes as f32;
            g.iter_mut().for_each(|v| *v -= uniform);
            g[label] -= 1.0 - eps;
        }
        g.iter_mut().for_each(|v| *v *= scale);
    }
    total
}
