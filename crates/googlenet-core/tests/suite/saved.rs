//! Models on disk: our files round-trip, PyTorch's `state_dict` files load,
//! damaged files fail clearly.

use crate::common::{max_rel_err, mnist, temp_dir};
use candle_core::{Device, Tensor};
use googlenet_core::data::Normalization;
use googlenet_core::data::Split;
use googlenet_core::model::{build_model, build_model_with_depth, load_model, load_model_bytes, model_bytes, save_model, Model, ModelInfo};
use googlenet_core::train::{evaluate, fit, FitConfig};

fn logits(model: &dyn Model, n: usize) -> Vec<f32> {
    let batch = mnist(Split::Test, n).batch(&(0..n).collect::<Vec<_>>(), &Normalization::mnist(1), &Device::Cpu).unwrap();
    model.forward(&batch.images).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn a_saved_model_loads_with_the_same_weights_and_metadata() {
    let dir = temp_dir("saved-roundtrip");
    let model = build_model("googlenet", 5, &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 1, ..FitConfig::default() };
    fit(model.as_ref(), &mnist(Split::Train, 640), None, &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    let info = ModelInfo { model: "googlenet".into(), depth: None, epochs: 1, test_accuracy: Some(0.5), version: "0.1.0".into() };
    let path = dir.join("model.safetensors");
    save_model(model.as_ref(), &info, &path).unwrap();
    // Written by renaming a finished file into place: nothing else is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let (loaded, read) = load_model(&path, &Device::Cpu).unwrap();
    assert_eq!(read, info);
    assert_eq!(logits(loaded.as_ref(), 16), logits(model.as_ref(), 16));
}

/// The browser tab has no file system: it downloads the bytes `model_bytes`
/// gives, and `test --load` reads them as a file.
#[test]
fn model_bytes_are_a_model_file() {
    let dir = temp_dir("saved-bytes");
    let model = build_model_with_depth("resnet", 3, Some(2), &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 1, ..FitConfig::default() };
    fit(model.as_ref(), &mnist(Split::Train, 128), None, &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    model.set_training(false);
    let info = ModelInfo { model: model.name().into(), depth: Some(2), epochs: 1, test_accuracy: None, version: "0.1.0".into() };
    let bytes = model_bytes(model.as_ref(), &info).unwrap();
    let path = dir.join("downloaded.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    for (loaded, read) in [load_model(&path, &Device::Cpu).unwrap(), load_model_bytes(&bytes, &path, &Device::Cpu).unwrap()] {
        assert_eq!(read, info);
        assert_eq!(loaded.description().spec, model.description().spec);
        assert_eq!(logits(loaded.as_ref(), 8), logits(model.as_ref(), 8));
    }
}

#[test]
fn a_resnet_keeps_its_depth_and_running_statistics() {
    let dir = temp_dir("saved-resnet");
    let model = build_model_with_depth("resnet-full-preact", 2, Some(2), &Device::Cpu).unwrap();
    model.set_training(true);
    model.forward(&Tensor::randn(0f32, 1.0, (8, 1, 28, 28), &Device::Cpu).unwrap()).unwrap();
    model.set_training(false);
    let info = ModelInfo { model: "resnet-full-preact".into(), depth: Some(2), ..ModelInfo::default() };
    let path = dir.join("resnet.safetensors");
    save_model(model.as_ref(), &info, &path).unwrap();
    let (loaded, read) = load_model(&path, &Device::Cpu).unwrap();
    assert_eq!(read.depth, Some(2));
    let stats = |m: &dyn Model| m.buffers().iter().map(|b| b.var.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect::<Vec<_>>();
    assert_eq!(stats(loaded.as_ref()), stats(model.as_ref()));
    assert_eq!(logits(loaded.as_ref(), 4), logits(model.as_ref(), 4));
    // PyTorch's state_dict has a num_batches_tracked per BatchNorm layer.
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    assert!(tensors.contains_key("layer1.0.bn1.num_batches_tracked"));
}

#[test]
fn a_pytorch_state_dict_loads_and_classifies_as_pytorch_did() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let (model, info) = load_model(format!("{fixtures}/pytorch_state_dict.safetensors").as_ref(), &Device::Cpu).unwrap();
    assert_eq!(info.model, "googlenet", "recognized by its tensor names");
    let expected = candle_core::safetensors::load(format!("{fixtures}/pytorch_state_dict_expected.safetensors"), &Device::Cpu).unwrap();
    let theirs = expected["logits"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(max_rel_err(&logits(model.as_ref(), 16), &theirs) < 1e-4);
    let correct = expected["correct"].to_vec1::<i64>().unwrap()[0] as usize;
    let result = evaluate(model.as_ref(), &mnist(Split::Test, 1000), 256, &Device::Cpu).unwrap();
    assert_eq!(result.correct, correct);
}

/// The other direction: a file written by `train --save` (the fixture
/// `cli_model.safetensors`), loaded into the PyTorch reference with
/// `load_state_dict(strict=True)` by `scripts/check-pytorch-load.py
/// --write-expected`, gave PyTorch's logits; ours of the same file match.
#[test]
fn a_model_saved_by_the_cli_gives_pytorch_the_same_logits() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let (model, info) = load_model(format!("{fixtures}/cli_model.safetensors").as_ref(), &Device::Cpu).unwrap();
    assert_eq!((info.model.as_str(), info.epochs), ("googlenet", 1));
    let pytorch = candle_core::safetensors::load(format!("{fixtures}/cli_model_pytorch_expected.safetensors"), &Device::Cpu).unwrap();
    let theirs = pytorch["logits"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(max_rel_err(&logits(model.as_ref(), 16), &theirs) < 1e-4);
    let correct = pytorch["correct"].to_vec1::<i64>().unwrap()[0] as usize;
    assert_eq!(evaluate(model.as_ref(), &mnist(Split::Test, 1000), 256, &Device::Cpu).unwrap().correct, correct);
}

#[test]
fn damaged_or_foreign_files_fail_naming_the_file() {
    let dir = temp_dir("saved-damaged");
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let path = dir.join("lenet5.safetensors");
    save_model(model.as_ref(), &ModelInfo { model: "lenet5".into(), ..ModelInfo::default() }, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_model(&cut, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("cut.safetensors") && err.contains("not a complete safetensors model file"), "{err}");
    std::fs::write(&cut, [0u8; 16]).unwrap();
    let err = load_model(&cut, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("not a complete safetensors model file"), "{err}");
    let err = load_model(&dir.join("missing.safetensors"), &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("missing.safetensors"), "{err}");
    // Tensors of no known model.
    let foreign = dir.join("foreign.safetensors");
    candle_core::safetensors::save(
        &std::collections::HashMap::from([("w".to_string(), Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap())]),
        &foreign,
    )
    .unwrap();
    let err = load_model(&foreign, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("match none of the models"), "{err}");
}

/// A plain `state_dict` file (no metadata) of `model` at `depth`.
fn bare_state_dict(model: &str, depth: Option<usize>, path: &std::path::Path) -> Box<dyn Model> {
    let model = build_model_with_depth(model, 2, depth, &Device::Cpu).unwrap();
    let tensors: std::collections::HashMap<String, Tensor> =
        model.parameters().iter().chain(model.buffers()).map(|p| (p.name.clone(), p.var.as_tensor().clone())).collect();
    candle_core::safetensors::save(&tensors, path).unwrap();
    model
}

#[test]
fn a_bare_state_dict_is_recognized_with_its_depth_or_refused_when_ambiguous() {
    let dir = temp_dir("saved-recognize");
    let path = dir.join("deep.safetensors");
    let model = bare_state_dict("resnet-full-preact", Some(3), &path);
    let (loaded, info) = load_model(&path, &Device::Cpu).unwrap();
    assert_eq!((info.model.as_str(), info.depth), ("resnet-full-preact", Some(3)));
    model.set_training(false);
    assert_eq!(logits(loaded.as_ref(), 8), logits(model.as_ref(), 8));
    // Three of the ResNet designs have the same tensors: no guessing.
    bare_state_dict("resnet-bn-after-add", None, &path);
    let err = load_model(&path, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("resnet-original, resnet-bn-after-add, resnet-relu-before-add") && err.contains("model=<name>"), "{err}");
}
