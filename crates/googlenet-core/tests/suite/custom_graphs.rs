//! Graphs no zoo model has, as a user may write them: nested
//! concatenations, a residual whose body is a concatenation, a residual in
//! a residual, batch norm after a concatenation, ReLU between linear
//! layers. The CPU engine plans each (or, for an operation it has no kernel
//! for, declines and candle trains it) and must compute what the candle
//! lowering computes: the same logits and the same weights after SGD steps,
//! batch norm in training mode.

use crate::common::{max_rel_err, mnist};
use candle_core::{Device, Tensor};
use googlenet_core::data::Normalization;
use googlenet_core::data::Split;
use googlenet_core::engine::Engine;
use googlenet_core::model::{build_model_from_spec, ModelSpec};
use googlenet_core::train::{CandleOptimizer, Optimizer};

fn doc(layers: &str) -> ModelSpec {
    ModelSpec::parse(&format!(r#"{{"format":"googlenet-native/model","version":1,"name":"g","input":[1,28,28],"layers":{layers}}}"#))
        .unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Whether the engine plans `spec`; where it does, three SGD steps on real
/// digits leave the engine's weights where candle's autograd leaves them.
fn engine_matches_candle(spec: &ModelSpec) -> bool {
    let model = build_model_from_spec(spec, 9, &Device::Cpu).unwrap();
    let reference = build_model_from_spec(spec, 9, &Device::Cpu).unwrap();
    let Some(mut engine) = Engine::for_model(model.as_ref()).unwrap() else {
        return false;
    };
    let data = mnist(Split::Train, 48);
    let optimizer = Optimizer::default();
    let mut sgd = CandleOptimizer::new(reference.vars(), optimizer).unwrap();
    reference.set_training(true);
    engine.set_training(true);
    for step in 0..3 {
        let indices: Vec<usize> = (step * 16..step * 16 + 16).collect();
        let (images, labels) = data.gather(&indices, &Normalization::mnist(1));
        let ours = engine.train_step(&images, &labels, &optimizer, 0.05).unwrap();
        let batch = data.batch(&indices, &Normalization::mnist(1), &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&reference.forward(&batch.images).unwrap(), &batch.labels).unwrap();
        let theirs = loss.to_scalar::<f32>().unwrap();
        assert!((ours - theirs).abs() < 1e-4 * theirs.max(1.0), "step {step}: loss {ours} against {theirs}");
        sgd.step(&loss.backward().unwrap(), 0.05).unwrap();
    }
    engine.store(model.as_ref()).unwrap();
    for (ours, theirs) in model.parameters().iter().zip(reference.parameters()) {
        let err = max_rel_err(&values(ours.var.as_tensor()), &values(theirs.var.as_tensor()));
        assert!(err < 1e-4, "{}: weights after 3 steps differ by {err:e}", ours.name);
    }
    true
}

const HEAD: &str = r#"{"type":"globalAvgPool"},{"type":"linear","name":"fc","outFeatures":10}"#;

#[test]
fn nested_concatenations() {
    let spec = doc(r#"[{"type":"conv2d","name":"stem","outChannels":6,"kernel":5},{"type":"maxPool","kernel":2},{"type":"relu"},
           {"type":"concat","name":"mix","branches":[
              {"type":"conv2d","name":"a","outChannels":4,"kernel":1},
              [{"type":"avgPool","kernel":3,"stride":1,"padding":1},{"type":"conv2d","name":"b","outChannels":4,"kernel":1}],
              {"type":"concat","branches":[{"type":"conv2d","name":"c","outChannels":3,"kernel":3,"padding":1},
                                             {"type":"conv2d","name":"d","outChannels":5,"kernel":5,"padding":2}]}]},
           {"type":"conv2d","name":"down","outChannels":8,"kernel":3,"stride":2},{"type":"relu"},
           {"type":"flatten"},{"type":"linear","name":"fc","outFeatures":10}]"#);
    assert!(engine_matches_candle(&spec), "the engine plans nested concatenations");
}

#[test]
fn a_residual_around_a_concatenation_and_batch_norm_after_it() {
    let spec = doc(&format!(
        r#"[{{"type":"conv2d","name":"stem","outChannels":8,"kernel":3,"padding":1}},{{"type":"maxPool","kernel":2}},{{"type":"relu"}},
           {{"type":"residual","name":"unit","body":{{"type":"concat","branches":[
               {{"type":"conv2d","name":"a","outChannels":4,"kernel":1}},
               {{"type":"conv2d","name":"b","outChannels":4,"kernel":3,"padding":1}}]}}}},
           {{"type":"batchNorm","name":"bn"}},{{"type":"relu"}},
           {{"type":"residual","name":"outer","body":[
               {{"type":"residual","name":"inner","body":{{"type":"conv2d","name":"c","outChannels":8,"kernel":3,"padding":1}}}},
               {{"type":"relu"}},{{"type":"conv2d","name":"d","outChannels":8,"kernel":1}}]}},
           {HEAD}]"#
    ));
    assert!(engine_matches_candle(&spec), "the engine plans residuals around concatenations");
}

#[test]
fn relu_between_linear_layers_after_a_global_pool() {
    let spec =
        doc(r#"[{"type":"conv2d","name":"stem","outChannels":12,"kernel":3,"stride":2},{"type":"batchNorm","name":"bn"},{"type":"relu"},
            {"type":"globalAvgPool"},{"type":"linear","name":"fc1","outFeatures":16},{"type":"relu"},
            {"type":"linear","name":"fc2","outFeatures":10}]"#);
    assert!(engine_matches_candle(&spec), "the engine plans linear layers with ReLU between them");
}

#[test]
fn what_the_engine_has_no_kernel_for_trains_through_candle() {
    // A 3×3 max pool (stride 3) and a 2×2 average pool: the engine declines, candle differentiates them.
    let spec = doc(&format!(
        r#"[{{"type":"conv2d","name":"stem","outChannels":4,"kernel":3,"padding":1}},{{"type":"maxPool","kernel":3}},
           {{"type":"avgPool","kernel":2}},{{"type":"relu"}},{HEAD}]"#
    ));
    assert!(!engine_matches_candle(&spec));
    let model = build_model_from_spec(&spec, 1, &Device::Cpu).unwrap();
    model.set_training(true);
    let data = mnist(Split::Train, 8);
    let batch = data.batch(&(0..8).collect::<Vec<_>>(), &Normalization::mnist(1), &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&model.forward(&batch.images).unwrap(), &batch.labels).unwrap();
    let grads = loss.backward().unwrap();
    assert!(model.parameters().iter().all(|p| grads.get(p.var.as_tensor()).is_some()), "every parameter gets a gradient");
}

#[test]
fn relu_passes_no_gradient_at_exactly_zero_as_pytorch_does() {
    // Batch norm maps a constant channel to β, which starts at 0: the ReLU
    // after it sees exact zeros. PyTorch's gradient there is 0, so β's
    // gradient is 0; candle's own `relu` would pass it (its mask is x ≥ 0).
    let spec =
        doc(r#"[{"type":"batchNorm","name":"bn"},{"type":"relu"},{"type":"flatten"},{"type":"linear","name":"fc","outFeatures":3}]"#);
    let spec = ModelSpec { input: [1, 4, 4], ..spec };
    let model = build_model_from_spec(&spec, 1, &Device::Cpu).unwrap();
    let mut engine = Engine::for_model(model.as_ref()).unwrap().expect("the engine plans it");
    model.set_training(true);
    engine.set_training(true);
    let images = vec![0.5f32; 2 * 16];
    let labels = [0u32, 2];
    engine.compute_gradients(&images, &labels).unwrap();
    let batch = Tensor::from_slice(&images, (2, 1, 4, 4), &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&model.forward(&batch).unwrap(), &Tensor::new(&labels, &Device::Cpu).unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    let bias = model.parameters().iter().find(|p| p.name == "bn.bias").unwrap();
    assert_eq!(values(grads.get(bias.var.as_tensor()).unwrap()), [0.0], "candle");
    assert_eq!(engine.gradients().find(|(name, _)| *name == "bn.bias").unwrap().1, [0.0], "engine");
}
