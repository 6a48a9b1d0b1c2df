//! Softmax cross-entropy on rows of logits, optionally with label smoothing.

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

/// Sum of the rows' losses; `grad` gets d(loss)/d(logits) of the loss
/// `scale` × that sum. A row's loss is PyTorch's
/// `CrossEntropyLoss(label_smoothing = ε)`: (1 − ε)·(−log p_label) +
/// ε·mean_k(−log p_k), whose gradient is softmax − ((1 − ε)·one-hot + ε/K).
pub(crate) fn cross_entropy_backward(
    logits: &[f32],
    labels: &[u32],
    classes: usize,
    scale: f32,
    label_smoothing: f32,
    grad: &mut [f32],
) -> f32 {
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

#[cfg(test)]
mod tests {
    //! The engine's smoothed loss against PyTorch's: the fixtures of
    //! scripts/make-loss-fixtures.py (the candle path's loss is checked
    //! against the same ones in tests/label_smoothing.rs).
    use std::path::PathBuf;

    use candle_core::{DType, Device, Tensor};

    use super::*;

    /// PyTorch's float64 figures, from the same f32 logits, are the
    /// reference: within it, f32 arithmetic in another order.
    const TOLERANCE: f64 = 1e-6;

    struct Case {
        name: String,
        label_smoothing: f64,
        logits: Vec<f32>,
        labels: Vec<u32>,
        classes: usize,
        loss64: f64,
        grad64: Vec<f64>,
        loss32: f32,
        grad32: Vec<f32>,
    }

    fn cases() -> Vec<Case> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/label_smoothing");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        let cases: Vec<Case> = paths
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).unwrap();
                let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
                let label_smoothing = header.metadata().as_ref().unwrap()["label_smoothing"].parse().unwrap();
                let t: std::collections::HashMap<String, Tensor> =
                    candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap().into_iter().collect();
                let flat = |key: &str, dtype| t[key].flatten_all().unwrap().to_dtype(dtype).unwrap();
                Case {
                    name: path.file_stem().unwrap().to_string_lossy().into_owned(),
                    label_smoothing,
                    logits: flat("logits", DType::F32).to_vec1().unwrap(),
                    labels: flat("labels", DType::U32).to_vec1().unwrap(),
                    classes: t["logits"].dims()[1],
                    loss64: t["loss64"].to_scalar().unwrap(),
                    grad64: flat("grad64", DType::F64).to_vec1().unwrap(),
                    loss32: t["loss"].to_scalar().unwrap(),
                    grad32: flat("grad", DType::F32).to_vec1().unwrap(),
                }
            })
            .collect();
        assert_eq!(cases.len(), 12, "one fixture per case of the script");
        cases
    }

    #[test]
    fn the_loss_and_its_gradient_are_pytorchs() {
        let mut worst = (0.0f64, 0.0f64);
        for case in cases() {
            let rows = case.labels.len();
            let mut grad = vec![0.0; case.logits.len()];
            let sum =
                cross_entropy_backward(&case.logits, &case.labels, case.classes, 1.0 / rows as f32, case.label_smoothing as f32, &mut grad);
            let loss = sum as f64 / rows as f64;
            let loss_err = (loss - case.loss64).abs() / case.loss64.abs();
            // A gradient entry is at most 1/rows in size; tiny ones are judged against that scale.
            let scale = case.grad64.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            let grad_err = grad.iter().zip(&case.grad64).map(|(&a, &b)| (a as f64 - b).abs() / b.abs().max(scale)).fold(0.0, f64::max);
            assert!(loss_err <= TOLERANCE, "{}: loss {loss}, PyTorch's {} (relative error {loss_err:e})", case.name, case.loss64);
            assert!(grad_err <= TOLERANCE, "{}: gradient off by {grad_err:e} (relative)", case.name);
            worst = (worst.0.max(loss_err), worst.1.max(grad_err));
        }
        println!("worst relative error against PyTorch's float64: loss {:e}, gradient {:e}", worst.0, worst.1);
    }

    #[test]
    fn without_smoothing_the_arithmetic_is_plain_cross_entropys() {
        for case in cases().into_iter().filter(|c| c.label_smoothing == 0.0) {
            let rows = case.labels.len();
            let scale = 1.0 / rows as f32;
            let mut grad = vec![0.0; case.logits.len()];
            let total = cross_entropy_backward(&case.logits, &case.labels, case.classes, scale, 0.0, &mut grad);
            // What the loss computed before it could smooth.
            let (mut expected_total, mut expected) = (0.0f32, case.logits.clone());
            for (row, (g, &label)) in case.logits.chunks_exact(case.classes).zip(expected.chunks_exact_mut(case.classes).zip(&case.labels))
            {
                expected_total += cross_entropy(row, label as usize);
                softmax_in_place(g);
                g[label as usize] -= 1.0;
                g.iter_mut().for_each(|v| *v *= scale);
            }
            assert_eq!(total.to_bits(), expected_total.to_bits(), "{}", case.name);
            assert!(grad.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "{}", case.name);
            // And PyTorch's float32 figures are within f32 rounding of it.
            assert!((total / rows as f32 - case.loss32).abs() <= 1e-6 * case.loss32.abs(), "{}", case.name);
            assert!(grad.iter().zip(&case.grad32).all(|(a, b)| (a - b).abs() <= 1e-6 * scale), "{}", case.name);
        }
    }
}
