//! Label smoothing in the training loss, as PyTorch's
//! `CrossEntropyLoss(label_smoothing = ε)`: the engine's loss kernel, and
//! the candle path's loss with its autograd gradient, against the fixtures
//! of scripts/make-loss-fixtures.py, and
//! one training step with ε = 0.1 on the engine and on candle, directly
//! and through `fit`, must leave the same weights, other than ε = 0's.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::common::{max_rel_err, mnist};
use candle_core::{DType, Device, Tensor, Var};
use googlenet_core::data::Normalization;
use googlenet_core::data::{Dataset, Split};
use googlenet_core::engine::{cross_entropy, cross_entropy_backward, softmax_in_place, Engine};
use googlenet_core::model::{build_model_from_spec, Model, ModelSpec};
use googlenet_core::train::{cross_entropy_loss, fit, CandleOptimizer, FitConfig, Optimizer};

/// Relative to PyTorch's float64 figures from the same f32 logits.
const TOLERANCE: f64 = 1e-6;

struct Case {
    name: String,
    label_smoothing: f64,
    tensors: HashMap<String, Tensor>,
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
            let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap().into_iter().collect();
            Case { name: path.file_stem().unwrap().to_string_lossy().into_owned(), label_smoothing, tensors }
        })
        .collect();
    assert_eq!(cases.len(), 12, "one fixture per case of the script");
    cases
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.flatten_all().unwrap().to_dtype(DType::F64).unwrap().to_vec1().unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// The relative errors of a loss and its gradient against `case`'s
/// PyTorch float64 figures, asserted within [`TOLERANCE`].
fn against_pytorch(case: &Case, loss: f64, grad: &[f64]) -> (f64, f64) {
    let theirs = case.tensors["loss64"].to_scalar::<f64>().unwrap();
    let loss_err = (loss - theirs).abs() / theirs.abs();
    let expected = f64s(&case.tensors["grad64"]);
    // A gradient entry is at most 1/rows in size; tiny ones are judged against that scale.
    let scale = expected.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let grad_err = grad.iter().zip(&expected).map(|(a, b)| (a - b).abs() / b.abs().max(scale)).fold(0.0, f64::max);
    assert!(loss_err <= TOLERANCE, "{}: loss {loss}, PyTorch's {theirs} (relative error {loss_err:e})", case.name);
    assert!(grad_err <= TOLERANCE, "{}: gradient off by {grad_err:e} (relative)", case.name);
    (loss_err, grad_err)
}

/// The worst of the errors `errors` gives for each case, printed.
fn worst_of(path: &str, errors: impl Fn(&Case) -> (f64, f64)) {
    let worst = cases().iter().map(errors).fold((0.0f64, 0.0f64), |w, e| (w.0.max(e.0), w.1.max(e.1)));
    println!("{path}: worst relative error against PyTorch's float64: loss {:e}, gradient {:e}", worst.0, worst.1);
}

/// A case's logits, labels and class count, as the engine takes them.
fn engine_inputs(case: &Case) -> (Vec<f32>, Vec<u32>, usize) {
    let t = &case.tensors;
    let labels = t["labels"].flatten_all().unwrap().to_dtype(DType::U32).unwrap().to_vec1().unwrap();
    (values(&t["logits"]), labels, t["logits"].dims()[1])
}

#[test]
fn the_engine_loss_and_its_gradient_are_pytorchs() {
    worst_of("engine", |case| {
        let (logits, labels, classes) = engine_inputs(case);
        let rows = labels.len();
        let mut grad = vec![0.0; logits.len()];
        let sum = cross_entropy_backward(&logits, &labels, classes, 1.0 / rows as f32, case.label_smoothing as f32, &mut grad);
        against_pytorch(case, sum as f64 / rows as f64, &grad.iter().map(|&g| g as f64).collect::<Vec<_>>())
    });
}

#[test]
fn without_smoothing_the_engine_arithmetic_is_plain_cross_entropys() {
    for case in cases().into_iter().filter(|c| c.label_smoothing == 0.0) {
        let (logits, labels, classes) = engine_inputs(&case);
        let scale = 1.0 / labels.len() as f32;
        let mut grad = vec![0.0; logits.len()];
        let total = cross_entropy_backward(&logits, &labels, classes, scale, 0.0, &mut grad);
        // What the loss computed before it could smooth.
        let (mut expected_total, mut expected) = (0.0f32, logits.clone());
        for (row, (g, &label)) in logits.chunks_exact(classes).zip(expected.chunks_exact_mut(classes).zip(&labels)) {
            expected_total += cross_entropy(row, label as usize);
            softmax_in_place(g);
            g[label as usize] -= 1.0;
            g.iter_mut().for_each(|v| *v *= scale);
        }
        assert_eq!(total.to_bits(), expected_total.to_bits(), "{}", case.name);
        assert!(grad.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "{}", case.name);
    }
}

#[test]
fn the_candle_loss_and_its_autograd_gradient_are_pytorchs() {
    worst_of("candle", |case| {
        let t = &case.tensors;
        let logits = Var::from_tensor(&t["logits"]).unwrap();
        let labels = t["labels"].to_dtype(DType::U32).unwrap();
        let loss = cross_entropy_loss(logits.as_tensor(), &labels, case.label_smoothing).unwrap();
        let grads = loss.backward().unwrap();
        against_pytorch(case, loss.to_scalar::<f32>().unwrap() as f64, &f64s(grads.get(logits.as_tensor()).unwrap()))
    });
}

#[test]
fn without_smoothing_the_candle_loss_is_candles_cross_entropy() {
    for case in cases().into_iter().filter(|c| c.label_smoothing == 0.0) {
        let (logits, labels) = (&case.tensors["logits"], case.tensors["labels"].to_dtype(DType::U32).unwrap());
        let ours = cross_entropy_loss(logits, &labels, 0.0).unwrap().to_scalar::<f32>().unwrap();
        let plain = candle_nn::loss::cross_entropy(logits, &labels).unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(ours.to_bits(), plain.to_bits(), "{}", case.name);
    }
}

fn doc(layers: &str) -> ModelSpec {
    ModelSpec::parse(&format!(r#"{{"format":"googlenet-native/model","version":1,"name":"g","input":[1,28,28],"layers":{layers}}}"#))
        .unwrap()
}

/// A small network the engine plans (batch norm included, so the whole
/// batch's statistics take part).
fn planned() -> ModelSpec {
    doc(r#"[{"type":"conv2d","name":"stem","outChannels":6,"kernel":5},{"type":"maxPool","kernel":2},{"type":"relu"},
            {"type":"conv2d","name":"c2","outChannels":8,"kernel":3,"padding":1},{"type":"batchNorm","name":"bn"},{"type":"relu"},
            {"type":"globalAvgPool"},{"type":"linear","name":"fc","outFeatures":10}]"#)
}

/// One the engine declines (a 3×3 max pool, a 2×2 average pool): on the
/// CPU, `fit` trains it through candle.
fn declined() -> ModelSpec {
    doc(r#"[{"type":"conv2d","name":"stem","outChannels":4,"kernel":3,"padding":1},{"type":"maxPool","kernel":3},
            {"type":"avgPool","kernel":2},{"type":"relu"},{"type":"globalAvgPool"},{"type":"linear","name":"fc","outFeatures":10}]"#)
}

const SEED: u64 = 9;
const LR: f64 = 0.05;
const BATCH: usize = 16;

fn weights(model: &dyn Model) -> Vec<(String, Vec<f32>)> {
    model.parameters().iter().map(|p| (p.name.clone(), values(p.var.as_tensor()))).collect()
}

/// The largest relative difference between two models' weights.
fn weight_diff(a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)]) -> f32 {
    a.iter()
        .zip(b)
        .map(|((na, va), (nb, vb))| {
            assert_eq!(na, nb);
            max_rel_err(va, vb)
        })
        .fold(0.0, f32::max)
}

/// The weights after one SGD step on `data` (all of it, one batch) through
/// candle's autograd of the smoothed loss.
fn candle_step(spec: &ModelSpec, data: &Dataset, label_smoothing: f64) -> Vec<(String, Vec<f32>)> {
    let model = build_model_from_spec(spec, SEED, &Device::Cpu).unwrap();
    model.set_training(true);
    let mut sgd = CandleOptimizer::new(model.vars(), Optimizer::default()).unwrap();
    let batch = data.batch(&(0..data.len()).collect::<Vec<_>>(), &Normalization::mnist(1), &Device::Cpu).unwrap();
    let loss = cross_entropy_loss(&model.forward(&batch.images).unwrap(), &batch.labels, label_smoothing).unwrap();
    sgd.step(&loss.backward().unwrap(), LR).unwrap();
    weights(model.as_ref())
}

/// The weights after one SGD step on the engine.
fn engine_step(spec: &ModelSpec, data: &Dataset, label_smoothing: f32) -> Vec<(String, Vec<f32>)> {
    let model = build_model_from_spec(spec, SEED, &Device::Cpu).unwrap();
    let mut engine = Engine::for_model(model.as_ref()).unwrap().expect("the engine plans it");
    engine.set_training(true);
    engine.set_label_smoothing(label_smoothing);
    let (images, labels) = data.gather(&(0..data.len()).collect::<Vec<_>>(), &Normalization::mnist(1));
    engine.train_step(&images, &labels, &Optimizer::default(), LR as f32).unwrap();
    engine.store(model.as_ref()).unwrap();
    weights(model.as_ref())
}

/// The weights after `fit`'s one epoch of one batch, on whichever path the
/// CPU takes for `spec`.
fn fit_step(spec: &ModelSpec, data: &Dataset, label_smoothing: f64) -> Vec<(String, Vec<f32>)> {
    let model = build_model_from_spec(spec, SEED, &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 1, batch_size: data.len(), lr: LR, label_smoothing, ..FitConfig::default() };
    fit(model.as_ref(), data, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap();
    weights(model.as_ref())
}

/// Engine and candle agree to within this after one step (f32 sums in
/// other orders; 1.5e-8 measured), while ε = 0.1 moves the weights by
/// 7.5e-4 from ε = 0's (fc's bias: lr·ε·(a class's share of the batch − 1/K)).
const PATHS_AGREE: f32 = 1e-6;

#[test]
fn a_smoothed_step_leaves_the_same_weights_on_the_engine_and_on_candle() {
    let data = mnist(Split::Train, BATCH);
    let spec = planned();
    let (engine, candle) = (engine_step(&spec, &data, 0.1), candle_step(&spec, &data, 0.1));
    let diff = weight_diff(&engine, &candle);
    assert!(diff < PATHS_AGREE, "engine and candle differ by {diff:e} with ε = 0.1");
    let plain = engine_step(&spec, &data, 0.0);
    let smoothing = weight_diff(&engine, &plain);
    assert!(smoothing > 100.0 * PATHS_AGREE, "ε = 0.1 moved the weights by only {smoothing:e} from ε = 0's");
    println!("engine against candle with ε = 0.1: {diff:e}; ε = 0.1 against ε = 0: {smoothing:e}");
}

#[test]
fn fit_smooths_the_labels_on_both_paths() {
    let data = mnist(Split::Train, BATCH);
    for (spec, path) in [(planned(), "engine"), (declined(), "candle")] {
        let trained = fit_step(&spec, &data, 0.1);
        // fit shuffles the batch: the same sums, in another order.
        let diff = weight_diff(&trained, &candle_step(&spec, &data, 0.1));
        assert!(diff < PATHS_AGREE, "{path}: fit's step differs from candle's by {diff:e} with ε = 0.1");
        let smoothing = weight_diff(&trained, &fit_step(&spec, &data, 0.0));
        assert!(smoothing > 100.0 * PATHS_AGREE, "{path}: ε = 0.1 moved the weights by only {smoothing:e} from ε = 0's");
        println!("{path}: fit against candle with ε = 0.1: {diff:e}; ε = 0.1 against ε = 0: {smoothing:e}");
    }
}

#[test]
fn the_option_is_declared_checked_and_kept_by_checkpoints() {
    use googlenet_core::options::Value;
    use googlenet_core::train::RecipeSettings;
    let given = |value: Value| FitConfig::from_given(&vec![("labelSmoothing".to_string(), value)]);
    assert_eq!(given(Value::Number(0.1)).unwrap().label_smoothing, 0.1);
    assert_eq!(FitConfig::default().label_smoothing, 0.0, "off by default, as in PyTorch");
    for bad in [1.5, -0.1, f64::NAN] {
        let err = given(Value::Number(bad)).unwrap_err().to_string();
        assert!(err.starts_with("labelSmoothing must be a finite number in [0, 1]"), "{err}");
    }
    // The checkpoint's metadata keeps it under its key, and reads it back.
    let config = given(Value::Number(0.25)).unwrap();
    let entries = config.settings().entries();
    let (_, key, text) = entries.iter().find(|(name, _, _)| *name == "labelSmoothing").unwrap();
    assert_eq!((key.as_str(), text.as_deref()), ("label_smoothing", Some("0.25")));
    let metadata: HashMap<String, String> = entries.iter().filter_map(|(_, k, v)| Some((k.clone(), v.clone()?))).collect();
    let back = RecipeSettings::from_metadata(|k| metadata.get(k)).unwrap();
    let again = FitConfig::from_settings(config.epochs, config.batch_size, config.seed, &back).unwrap();
    assert_eq!(again, config);
    // A resumed run may not change it.
    let other = given(Value::Number(0.1)).unwrap();
    let err = other.check_continues(&config).unwrap_err().to_string();
    assert!(err.contains("labelSmoothing 0.1 differs from the checkpoint's 0.25"), "{err}");
}
