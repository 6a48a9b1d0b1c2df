//! A zoo model made for colour images against PyTorch (the fixture is made
//! by scripts/make-colour-parity-fixture.py from scripts/pytorch_zoo_shapes.py):
//! resnet-original for 3×32×32 images and 10 classes, with PyTorch's initial
//! weights, takes one SGD step of the reference recipe on 16 colour images
//! normalized per channel, and lands on PyTorch's loss, parameters and
//! batch norm statistics. This covers the colour path end to end: planar
//! channels, the per-channel normalization, the 3-channel first
//! convolution, and training.

use std::collections::HashMap;
use std::ops::ControlFlow;

use candle_core::{DType, Device, Tensor};
use googlenet_core::data::{numbered_classes, Dataset, ImageShape, Normalization};
use googlenet_core::model::{catalog, load_weights, lower, DataInfo, Model, Network};
use googlenet_core::train::{fit, FitConfig};

use crate::common::max_rel_err;

const SHAPE: ImageShape = ImageShape { channels: 3, height: 32, width: 32 };

fn fixture() -> HashMap<String, Tensor> {
    let path = format!("{}/tests/fixtures/colour_parity.safetensors", env!("CARGO_MANIFEST_DIR"));
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

/// The tensors under `prefix`, named without it.
fn under(tensors: &HashMap<String, Tensor>, prefix: &str) -> HashMap<String, Tensor> {
    tensors.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|name| (name.to_string(), v.clone()))).collect()
}

fn floats(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_dtype(DType::F32).unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn one_step_on_colour_images_matches_pytorch() {
    let tensors = fixture();
    let normalization = Normalization::new(floats(&tensors["mean"]), floats(&tensors["std"])).unwrap();
    let spec = catalog::find("resnet-original").unwrap().spec_for(Some(1), SHAPE.dims(), 10).unwrap();
    let data_info = DataInfo { classes: numbered_classes(10), normalization };
    let model = Network::new(lower(&spec).unwrap(), 0, &Device::Cpu).unwrap().with_data(data_info).unwrap();
    load_weights(&model, &under(&tensors, "before.")).unwrap();

    let images = tensors["images"].flatten_all().unwrap().to_vec1::<u8>().unwrap();
    let labels: Vec<u8> = tensors["labels"].to_vec1::<i64>().unwrap().into_iter().map(|l| l as u8).collect();
    let data = Dataset::with_classes(images, labels, SHAPE, Some(numbered_classes(10))).unwrap();
    // One batch of all 16 images: the shuffle changes only the order of the batch's sums.
    let config = FitConfig { epochs: 1, batch_size: 16, ..FitConfig::default() };
    let epochs = fit(&model, &data, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap();

    let loss = floats(&tensors["loss"])[0];
    assert!((epochs[0].loss as f32 - loss).abs() < 1e-4, "loss {} against PyTorch's {loss}", epochs[0].loss);
    let expected = under(&tensors, "after.");
    let ours = model.parameters().iter().chain(model.buffers());
    let mut compared = 0;
    for p in ours {
        let theirs = &expected[&p.name];
        let err = max_rel_err(&floats(p.var.as_tensor()), &floats(theirs));
        assert!(err < 1e-4, "{}: relative error {err} after one step", p.name);
        compared += 1;
    }
    assert_eq!(compared, expected.len(), "every parameter and buffer of the fixture was compared");
}
