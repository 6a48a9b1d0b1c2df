//! The whole model against PyTorch: with the reference's own initial weights
//! loaded, loss and every parameter's gradient on the first 8 training
//! images match what PyTorch computed (fixture made by
//! scripts/make-gradient-fixture.py).

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use common::{max_rel_err, mnist};
use googlenet_core::data::Split;
use googlenet_core::model::{build_model, load_weights};

fn fixture() -> HashMap<String, Tensor> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pytorch_gradients.safetensors");
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn with_prefix(all: &HashMap<String, Tensor>, prefix: &str) -> HashMap<String, Tensor> {
    all.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_string(), v.clone()))).collect()
}

#[test]
fn loss_and_gradients_match_pytorch() {
    let all = fixture();
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    load_weights(model.as_ref(), &with_prefix(&all, "param.")).unwrap();
    let batch = mnist(Split::Train, 8).batch(&(0..8).collect::<Vec<_>>(), &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&model.forward(&batch.images).unwrap(), &batch.labels).unwrap();
    let expected_loss = all["loss"].to_vec1::<f32>().unwrap()[0];
    assert!((loss.to_scalar::<f32>().unwrap() - expected_loss).abs() < 1e-5);
    let grads = loss.backward().unwrap();
    let expected = with_prefix(&all, "grad.");
    assert_eq!(expected.len(), 34);
    for p in model.parameters() {
        let ours = grads.get(p.var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let theirs = expected[&p.name].flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // Relative to the tensor's largest gradient: tiny entries carry only rounding noise.
        let scale = theirs.iter().fold(0f32, |m, g| m.max(g.abs()));
        let scaled = |v: &[f32]| v.iter().map(|g| g / scale).collect::<Vec<_>>();
        let err = max_rel_err(&scaled(&ours), &scaled(&theirs));
        assert!(err < 1e-4, "{}: gradient differs from PyTorch by {err:e}", p.name);
    }
}

#[test]
fn loading_checks_names_and_shapes() {
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let mut weights = with_prefix(&fixture(), "param.");
    let before = model.parameters()[0].var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    weights.insert("conv9.weight".into(), Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap());
    let err = load_weights(model.as_ref(), &weights).unwrap_err().to_string();
    assert!(err.contains("conv9.weight"), "{err}");
    weights.remove("conv9.weight");
    weights.insert("fc.bias".into(), Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap());
    let err = load_weights(model.as_ref(), &weights).unwrap_err().to_string();
    assert!(err.contains("fc.bias") && err.contains("[3]") && err.contains("[10]"), "{err}");
    weights.remove("fc.bias");
    let err = load_weights(model.as_ref(), &weights).unwrap_err().to_string();
    assert!(err.contains("lack 'fc.bias'"), "{err}");
    // Nothing was changed by the failed loads.
    assert_eq!(model.parameters()[0].var.flatten_all().unwrap().to_vec1::<f32>().unwrap(), before);
}
