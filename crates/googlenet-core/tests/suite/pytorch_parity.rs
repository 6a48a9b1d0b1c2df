//! Loading a PyTorch `state_dict` (the reference's initial weights, from
//! the fixture of scripts/make-parity-fixtures.py): names and shapes are
//! checked, and a failed load changes nothing.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use googlenet_core::model::{build_model, load_weights};

fn fixture() -> HashMap<String, Tensor> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parity/googlenet.safetensors");
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn with_prefix(all: &HashMap<String, Tensor>, prefix: &str) -> HashMap<String, Tensor> {
    all.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_string(), v.clone()))).collect()
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
