//! A model's own class count, not MNIST's 10, wherever its logits are read
//! (evaluation, prediction, benchmarks), and the data checked against it
//! (labels within its classes, grey images of its size) before any work.

use crate::common::mnist;
use candle_core::Device;
use googlenet_core::data::ImageShape;
use googlenet_core::data::Split;
use googlenet_core::model::{build_model_from_spec, Model, ModelSpec};
use googlenet_core::train::{benchmark, evaluate, fit, predict_logits, predict_probabilities, BenchConfig, FitConfig};

/// A small conv net on `input` with `classes` outputs.
fn model(classes: usize, input: [usize; 3]) -> Box<dyn Model> {
    let [c, h, w] = input;
    let spec = ModelSpec::parse(&format!(
        r#"{{"format":"googlenet-native/model","version":1,"name":"net{classes}","input":[{c},{h},{w}],"layers":[
            {{"type":"conv2d","name":"c1","outChannels":6,"kernel":5}},{{"type":"maxPool","kernel":2}},{{"type":"relu"}},
            {{"type":"flatten"}},{{"type":"linear","name":"fc","outFeatures":{classes}}}]}}"#
    ))
    .unwrap();
    build_model_from_spec(&spec, 3, &Device::Cpu).unwrap()
}

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

#[test]
fn twelve_outputs_are_read_twelve_at_a_time() {
    let m = model(12, [1, 28, 28]);
    assert_eq!(m.classes(), 12);
    let train = mnist(Split::Train, 512);
    let test = mnist(Split::Test, 200);
    let config = FitConfig { epochs: 1, batch_size: 32, ..FitConfig::default() };
    fit(m.as_ref(), &train, Some(&test), &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();

    let pixels: Vec<u8> = (0..test.len()).flat_map(|i| test.image(i).to_vec()).collect();
    let logits = predict_logits(m.as_ref(), &pixels, test.len(), ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    assert_eq!(logits.len(), test.len() * 12);
    let correct = logits.chunks_exact(12).zip(test.labels()).filter(|(row, &label)| argmax(row) == label as usize).count();
    let result = evaluate(m.as_ref(), &test, 64, &Device::Cpu).unwrap();
    assert_eq!(result.correct, correct, "evaluate counts what the logits say, 12 scores per image");
    assert!(result.accuracy > 0.5, "one epoch on 512 digits learns them: {}", result.accuracy);

    let probabilities =
        predict_probabilities(m.as_ref(), &pixels, test.len(), ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    for row in probabilities.chunks_exact(12) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "each image's 12 probabilities sum to 1");
    }
}

#[test]
fn fewer_outputs_than_the_data_has_labels_are_refused_before_any_work() {
    let m = model(3, [1, 28, 28]);
    let data = mnist(Split::Test, 100);
    let config = FitConfig { epochs: 1, ..FitConfig::default() };
    let fitted = fit(m.as_ref(), &data, None, &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(()));
    let message = fitted.unwrap_err().to_string();
    assert!(message.contains("gives 3 class scores") && message.contains("label 9"), "{message}");
    let message = evaluate(m.as_ref(), &data, 64, &Device::Cpu).unwrap_err().to_string();
    assert!(message.contains("needs at least 10 outputs"), "{message}");
    // Prediction has no labels: three scores per image, which sum to 1.
    let probabilities =
        predict_probabilities(m.as_ref(), data.image(0), 1, ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    assert_eq!(probabilities.len(), 3);
    assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn a_benchmark_checks_the_model_against_its_data() {
    let data = mnist(Split::Test, 64);
    let config = BenchConfig { batch_size: 8, batches: 1, warmup: 0, latency_calls: 0 };
    let message = benchmark(model(10, [1, 112, 112]).as_ref(), &data, &config, &Device::Cpu).unwrap_err().to_string();
    assert!(message.contains("takes 112x112 images (got 28x28"), "{message}");
    let message = benchmark(model(10, [3, 28, 28]).as_ref(), &data, &config, &Device::Cpu).unwrap_err().to_string();
    assert!(message.contains("takes colour (3 channels) images"), "{message}");
}

#[test]
fn a_model_for_colour_images_is_refused_grey_ones() {
    let m = model(10, [3, 28, 28]);
    let data = mnist(Split::Test, 4);
    let message = predict_logits(m.as_ref(), data.image(0), 1, ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert_eq!(message, "model \"net10\" takes colour (3 channels) images; the images are greyscale (1 channel)");
    assert!(evaluate(m.as_ref(), &data, 4, &Device::Cpu).is_err());
}
