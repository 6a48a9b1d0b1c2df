//! The CPU engine against PyTorch and against the candle model: same loss,
//! gradients, logits and SGD updates on real MNIST images.

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use common::{max_rel_err, mnist};
use googlenet_core::data::Split;
use googlenet_core::engine::Engine;
use googlenet_core::model::{build_model, load_weights};

fn fixture() -> HashMap<String, Tensor> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pytorch_gradients.safetensors");
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn with_prefix(all: &HashMap<String, Tensor>, prefix: &str) -> HashMap<String, Tensor> {
    all.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_string(), v.clone()))).collect()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest error relative to the reference tensor's largest entry.
fn scaled_err(ours: &[f32], theirs: &[f32]) -> f32 {
    let scale = theirs.iter().fold(0f32, |m, g| m.max(g.abs())).max(f32::MIN_POSITIVE);
    let scaled = |v: &[f32]| v.iter().map(|g| g / scale).collect::<Vec<_>>();
    max_rel_err(&scaled(ours), &scaled(theirs))
}

#[test]
fn gradients_match_pytorch_for_every_chunk_size() {
    let all = fixture();
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    load_weights(model.as_ref(), &with_prefix(&all, "param.")).unwrap();
    let (images, labels) = mnist(Split::Train, 8).gather(&(0..8).collect::<Vec<_>>());
    let expected_loss = all["loss"].to_vec1::<f32>().unwrap()[0];
    let expected = with_prefix(&all, "grad.");
    // Chunks of 1, 3 (uneven) and 8 (the whole share) take different paths.
    for chunk in [1, 3, 8] {
        let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap().with_chunk(chunk);
        let loss = engine.compute_gradients(&images, &labels).unwrap();
        assert!((loss - expected_loss).abs() < 1e-5, "chunk {chunk}: loss {loss} vs PyTorch {expected_loss}");
        let grads: HashMap<&str, &[f32]> = engine.gradients().collect();
        assert_eq!(grads.len(), 34);
        for (name, theirs) in &expected {
            let err = scaled_err(grads[name.as_str()], &values(theirs));
            assert!(err < 1e-4, "chunk {chunk}, {name}: gradient differs from PyTorch by {err:e}");
        }
    }
}

#[test]
fn logits_match_the_candle_model() {
    let model = build_model("googlenet", 3, &Device::Cpu).unwrap();
    let data = mnist(Split::Test, 37);
    let indices: Vec<usize> = (0..37).collect();
    let batch = data.batch(&indices, &Device::Cpu).unwrap();
    let theirs = values(&model.forward(&batch.images).unwrap());
    let (images, _) = data.gather(&indices);
    let ours = Engine::for_model(model.as_ref()).unwrap().unwrap().with_chunk(5).logits(&images, 37).unwrap();
    assert!(scaled_err(&ours, &theirs) < 1e-5);
}

#[test]
fn sgd_steps_match_the_candle_optimizer() {
    use googlenet_core::train::Sgd;
    let model = build_model("googlenet", 4, &Device::Cpu).unwrap();
    let reference = build_model("googlenet", 4, &Device::Cpu).unwrap();
    let data = mnist(Split::Train, 64);
    let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap();
    let mut sgd = Sgd::new(reference.vars(), 0.01, 0.5).unwrap();
    for step in 0..3 {
        let indices: Vec<usize> = (step * 20..step * 20 + 20).collect();
        let (images, labels) = data.gather(&indices);
        engine.train_step(&images, &labels, 0.01, 0.5).unwrap();
        let batch = data.batch(&indices, &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&reference.forward(&batch.images).unwrap(), &batch.labels).unwrap();
        sgd.step(&loss.backward().unwrap()).unwrap();
    }
    engine.store(model.as_ref()).unwrap();
    for (ours, theirs) in model.parameters().iter().zip(reference.parameters()) {
        let err = max_rel_err(&values(ours.var.as_tensor()), &values(theirs.var.as_tensor()));
        assert!(err < 1e-5, "{}: weights after 3 steps differ by {err:e}", ours.name);
    }
}

#[test]
fn rejects_bad_input() {
    let model = build_model("googlenet", 0, &Device::Cpu).unwrap();
    let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap();
    let err = engine.compute_gradients(&[0.0; 783], &[1]).unwrap_err().to_string();
    assert!(err.contains("783"), "{err}");
    let err = engine.compute_gradients(&[0.0; 784], &[10]).unwrap_err().to_string();
    assert!(err.contains("label 10"), "{err}");
    assert!(engine.compute_gradients(&[], &[]).is_err());
}
