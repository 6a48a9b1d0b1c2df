//! The CPU engine against the candle model: same logits and SGD updates on
//! real MNIST images (against PyTorch: tests/suite/zoo_parity.rs).

use crate::common::{max_rel_err, mnist};
use candle_core::{Device, Tensor};
use googlenet_core::data::Normalization;
use googlenet_core::data::Split;
use googlenet_core::engine::Engine;
use googlenet_core::model::build_model;

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
fn logits_match_the_candle_model() {
    let model = build_model("googlenet", 3, &Device::Cpu).unwrap();
    let data = mnist(Split::Test, 37);
    let indices: Vec<usize> = (0..37).collect();
    let batch = data.batch(&indices, &Normalization::mnist(1), &Device::Cpu).unwrap();
    let theirs = values(&model.forward(&batch.images).unwrap());
    let (images, _) = data.gather(&indices, &Normalization::mnist(1));
    let ours = Engine::for_model(model.as_ref()).unwrap().unwrap().with_chunk(5).logits(&images, 37).unwrap();
    assert!(scaled_err(&ours, &theirs) < 1e-5);
}

#[test]
fn sgd_steps_match_the_candle_optimizer() {
    use googlenet_core::train::{CandleOptimizer, Optimizer};
    let model = build_model("googlenet", 4, &Device::Cpu).unwrap();
    let reference = build_model("googlenet", 4, &Device::Cpu).unwrap();
    let data = mnist(Split::Train, 64);
    let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap();
    let mut sgd = CandleOptimizer::new(reference.vars(), Optimizer::default()).unwrap();
    for step in 0..3 {
        let indices: Vec<usize> = (step * 20..step * 20 + 20).collect();
        let (images, labels) = data.gather(&indices, &Normalization::mnist(1));
        engine.train_step(&images, &labels, &Optimizer::default(), 0.01).unwrap();
        let batch = data.batch(&indices, &Normalization::mnist(1), &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&reference.forward(&batch.images).unwrap(), &batch.labels).unwrap();
        sgd.step(&loss.backward().unwrap(), 0.01).unwrap();
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

/// An engine that predicted, trained, then predicts again folds its batch
/// norms anew (it keeps them folded between predictions): the second
/// prediction is a fresh engine's on the trained weights, bit for bit.
#[test]
fn predicting_after_training_uses_the_trained_weights() {
    use googlenet_core::train::Optimizer;
    let model = build_model("resnet-original", 5, &Device::Cpu).unwrap();
    let data = mnist(Split::Train, 48);
    let all: Vec<usize> = (0..48).collect();
    let (images, labels) = data.gather(&all, &Normalization::mnist(1));
    let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap();
    let before = engine.logits(&images[..8 * 784], 8).unwrap();
    assert_eq!(engine.logits(&images[..8 * 784], 8).unwrap(), before, "a second prediction on unchanged weights");
    engine.set_training(true);
    engine.train_step(&images, &labels, &Optimizer::default(), 0.05).unwrap();
    engine.set_training(false);
    let after = engine.logits(&images[..8 * 784], 8).unwrap();
    engine.store(model.as_ref()).unwrap();
    let fresh = Engine::for_model(model.as_ref()).unwrap().unwrap().logits(&images[..8 * 784], 8).unwrap();
    assert_eq!(after, fresh);
    assert_ne!(after, before, "a step at lr 0.05 moves the logits");
}

/// One image is split across the engine's threads (channels or bands of
/// rows per step, see src/engine/split.rs): with 2, 3 and 4 threads its
/// logits are one thread's, on every zoo model and on real digits.
#[test]
fn one_image_across_threads_gives_one_threads_logits() {
    let pool = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let data = mnist(Split::Test, 4);
    let (images, _) = data.gather(&[0, 1, 2, 3], &Normalization::mnist(1));
    let image_len = images.len() / 4;
    for entry in googlenet_core::model::CATALOG {
        let model = build_model(entry.name, 5, &Device::Cpu).unwrap();
        let mut engine = Engine::for_model(model.as_ref()).unwrap().unwrap();
        let one = |engine: &mut Engine, threads: usize, image: &[f32]| pool(threads).install(|| engine.logits(image, 1).unwrap());
        for image in images.chunks_exact(image_len) {
            let alone = one(&mut engine, 1, image);
            for threads in [2, 3, 4] {
                let split = one(&mut engine, threads, image);
                let err = scaled_err(&split, &alone);
                assert!(err < 1e-5, "{}: one image on {threads} threads is {err} from one thread's logits", entry.name);
            }
        }
    }
}
