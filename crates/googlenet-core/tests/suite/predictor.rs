//! Predictions call after call on one model ([`Predictor`]) against the
//! one-shot functions: the same logits, bit for bit, from the engine it
//! keeps; new weights after `forget`; another model never served the first
//! one's engine; and a batch's logits equal to its images' one at a time.

use crate::common::{max_rel_err, mnist};
use candle_core::Device;
use googlenet_core::data::{Dataset, ImageShape, Split};
use googlenet_core::model::{build_model, Model};
use googlenet_core::train::{fit, predict_logits, FitConfig, Predictor};

const DIGIT: ImageShape = ImageShape { channels: 1, height: 28, width: 28 };

fn pixels(data: &Dataset, range: std::ops::Range<usize>) -> Vec<u8> {
    range.flat_map(|i| data.image(i).to_vec()).collect()
}

#[test]
fn a_kept_engine_predicts_what_a_fresh_one_does() {
    let data = mnist(Split::Test, 12);
    for name in ["lenet5", "resnet-original", "resnet-full-preact"] {
        let model = build_model(name, 2, &Device::Cpu).unwrap();
        let mut predictor = Predictor::new();
        for i in 0..12 {
            let one = pixels(&data, i..i + 1);
            let kept = predictor.logits(model.as_ref(), &one, 1, DIGIT, &Device::Cpu).unwrap();
            assert!(predictor.keeps_engine(), "{name}: the CPU engine is kept");
            assert_eq!(kept, predict_logits(model.as_ref(), &one, 1, DIGIT, &Device::Cpu).unwrap(), "{name}, image {i}");
        }
        let batch = pixels(&data, 0..12);
        let kept = predictor.logits(model.as_ref(), &batch, 12, DIGIT, &Device::Cpu).unwrap();
        assert_eq!(kept, predict_logits(model.as_ref(), &batch, 12, DIGIT, &Device::Cpu).unwrap(), "{name}, a batch after single images");
    }
}

#[test]
fn a_batch_predicts_what_its_images_do_one_at_a_time() {
    let data = mnist(Split::Test, 21);
    for name in ["lenet5", "residual", "resnet-bn-after-add"] {
        let model = build_model(name, 4, &Device::Cpu).unwrap();
        let mut predictor = Predictor::new();
        let batch = predictor.logits(model.as_ref(), &pixels(&data, 0..21), 21, DIGIT, &Device::Cpu).unwrap();
        let single: Vec<f32> =
            (0..21).flat_map(|i| predictor.logits(model.as_ref(), &pixels(&data, i..i + 1), 1, DIGIT, &Device::Cpu).unwrap()).collect();
        let err = max_rel_err(&single, &batch);
        assert!(err < 1e-5, "{name}: one at a time differs from the batch by {err:e}");
    }
}

#[test]
fn after_training_forget_gives_the_new_weights() {
    let train = mnist(Split::Train, 256);
    let test = pixels(&mnist(Split::Test, 4), 0..4);
    let model = build_model("resnet-original", 6, &Device::Cpu).unwrap();
    let mut predictor = Predictor::new();
    let before = predictor.logits(model.as_ref(), &test, 4, DIGIT, &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 1, batch_size: 32, ..FitConfig::default() };
    fit(model.as_ref(), &train, None, &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    predictor.forget();
    assert!(!predictor.keeps_engine());
    let after = predictor.logits(model.as_ref(), &test, 4, DIGIT, &Device::Cpu).unwrap();
    assert_eq!(after, predict_logits(model.as_ref(), &test, 4, DIGIT, &Device::Cpu).unwrap());
    assert_ne!(after, before, "an epoch of training moves the logits");
}

#[test]
fn another_model_is_not_served_the_first_ones_engine() {
    let test = pixels(&mnist(Split::Test, 3), 0..3);
    let first: Box<dyn Model> = build_model("lenet5", 1, &Device::Cpu).unwrap();
    let second: Box<dyn Model> = build_model("lenet5", 2, &Device::Cpu).unwrap();
    let mut predictor = Predictor::new();
    predictor.logits(first.as_ref(), &test, 3, DIGIT, &Device::Cpu).unwrap();
    let theirs = predictor.logits(second.as_ref(), &test, 3, DIGIT, &Device::Cpu).unwrap();
    assert_eq!(theirs, predict_logits(second.as_ref(), &test, 3, DIGIT, &Device::Cpu).unwrap());
}
