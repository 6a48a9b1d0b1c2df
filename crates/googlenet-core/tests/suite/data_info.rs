//! Models made for their data: a zoo model takes the data's image shape and
//! class count, a description must fit them, and the class names and pixel
//! statistics travel with the model into its files, evaluation and ONNX.

use std::ops::ControlFlow;

use candle_core::Device;
use googlenet_core::data::{Dataset, ImageShape, Normalization};
use googlenet_core::model::{build_model, build_model_for_data, catalog, load_model, save_model, ModelInfo, ModelSource};
use googlenet_core::onnx::{keys, onnx_model};
use googlenet_core::train::{evaluate, fit, predict_logits, FitConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::temp_dir;

/// `n` colour images of 3×`side`×`side` in `classes` classes: each class a
/// plain colour of its own, with noise, so a model can learn them.
fn colour_set(n: usize, side: usize, classes: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let labels: Vec<u8> = (0..n).map(|i| (i % classes) as u8).collect();
    let mut pixels = Vec::with_capacity(n * 3 * side * side);
    for &label in &labels {
        for c in 0..3 {
            let base = ((label as usize * 53 + c * 97) % 200) as u8;
            pixels.extend((0..side * side).map(|_| base.saturating_add(rng.random_range(0..40))));
        }
    }
    let names = (0..classes).map(|c| format!("colour {c}")).collect();
    Dataset::with_classes(pixels, labels, ImageShape { channels: 3, height: side, width: side }, Some(names)).unwrap()
}

#[test]
fn every_zoo_model_is_made_for_colour_images_and_twenty_classes() {
    let data = colour_set(40, 32, 20);
    for entry in catalog::CATALOG {
        let model = build_model_for_data(ModelSource::Zoo { name: entry.name, depth: None }, 0, &data, &Device::Cpu).unwrap();
        assert_eq!(model.description().input, [3, 32, 32], "{}", entry.name);
        assert_eq!(model.classes(), 20, "{}", entry.name);
        assert_eq!(model.data_info().classes, data.classes(), "{}", entry.name);
        assert_eq!(&model.data_info().normalization, data.normalization(), "{}", entry.name);
    }
}

#[test]
fn a_description_that_does_not_fit_the_data_is_refused_naming_both() {
    let data = colour_set(8, 32, 20);
    let mnist_spec = catalog::find("lenet5").unwrap().spec(None).unwrap();
    let message = build_model_for_data(ModelSource::Spec(&mnist_spec), 0, &data, &Device::Cpu).err().unwrap().to_string();
    assert_eq!(
        message,
        "model \"lenet5\" takes 28x28 grey images and gives 10 class scores, but the data has 32x32 3-channel images in 20 classes"
    );
    // Too small for the model's convolutions: lowering names the layer.
    let tiny = colour_set(4, 8, 2);
    let message =
        build_model_for_data(ModelSource::Zoo { name: "googlenet", depth: None }, 0, &tiny, &Device::Cpu).err().unwrap().to_string();
    assert!(message.starts_with("model \"googlenet\" cannot be made for 8x8 3-channel images, too small for its layers: "), "{message}");
    assert!(message.contains("conv2"), "{message}");
}

#[test]
fn a_colour_model_trains_and_keeps_its_classes_and_statistics_in_its_file() {
    let train = colour_set(240, 16, 3);
    let model = build_model_for_data(ModelSource::Zoo { name: "lenet5", depth: None }, 1, &train, &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 3, batch_size: 16, lr: 0.05, ..FitConfig::default() };
    fit(model.as_ref(), &train, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap();
    let accuracy = evaluate(model.as_ref(), &train, 64, &Device::Cpu).unwrap().accuracy;
    assert!(accuracy > 0.9, "plain colours are easy to tell apart: {accuracy}");

    let path = temp_dir("data-info").join("colour.safetensors");
    save_model(model.as_ref(), &ModelInfo { model: "lenet5".into(), epochs: 3, ..ModelInfo::default() }, &path).unwrap();
    let (loaded, _) = load_model(&path, &Device::Cpu).unwrap();
    assert_eq!(loaded.data_info(), model.data_info());
    assert_eq!(loaded.description().input, [3, 16, 16]);
    let images: Vec<u8> = (0..4).flat_map(|i| train.image(i).to_vec()).collect();
    let ours = predict_logits(model.as_ref(), &images, 4, train.shape(), &Device::Cpu).unwrap();
    assert_eq!(predict_logits(loaded.as_ref(), &images, 4, train.shape(), &Device::Cpu).unwrap(), ours);

    // ONNX: the class names and one mean and std per channel.
    let proto = onnx_model(loaded.as_ref(), &ModelInfo::default()).unwrap();
    let meta = |key: &str| proto.metadata_props.iter().find(|p| p.key.as_deref() == Some(key)).and_then(|p| p.value.clone()).unwrap();
    assert_eq!(serde_json::from_str::<Vec<String>>(&meta(keys::LABELS)).unwrap(), ["colour 0", "colour 1", "colour 2"]);
    let mean: Vec<f32> = serde_json::from_str(&meta(keys::MEAN)).unwrap();
    assert_eq!(mean, train.normalization().mean());
}

#[test]
fn models_made_without_data_keep_mnist_digits() {
    let model = build_model("googlenet", 0, &Device::Cpu).unwrap();
    assert_eq!(model.data_info().classes, (0..10).map(|d| d.to_string()).collect::<Vec<_>>());
    assert_eq!(model.data_info().normalization, Normalization::mnist(1));
}

#[test]
fn data_with_other_class_names_is_refused_numbered_data_is_checked_by_label() {
    let train = colour_set(12, 16, 3);
    let model = build_model_for_data(ModelSource::Zoo { name: "lenet5", depth: None }, 0, &train, &Device::Cpu).unwrap();
    let renamed = (0..3).map(|c| format!("other {c}")).collect();
    let pixels: Vec<u8> = (0..12).flat_map(|i| train.image(i).to_vec()).collect();
    let other = Dataset::with_classes(pixels.clone(), train.labels().to_vec(), train.shape(), Some(renamed)).unwrap();
    let message = evaluate(model.as_ref(), &other, 4, &Device::Cpu).unwrap_err().to_string();
    assert_eq!(
        message,
        "dataset has the classes [other 0, other 1, other 2], model \"lenet5\" was made for [colour 0, colour 1, colour 2]"
    );
    let numbered = Dataset::with_classes(pixels, train.labels().to_vec(), train.shape(), None).unwrap();
    assert_eq!(evaluate(model.as_ref(), &numbered, 4, &Device::Cpu).unwrap().total, 12);
}
