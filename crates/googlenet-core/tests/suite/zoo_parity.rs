//! Every zoo model against PyTorch (fixtures made by
//! scripts/make-parity-fixtures.py from scripts/pytorch_zoo.py): with
//! PyTorch's initial weights loaded, the CPU engine's and the candle
//! lowering's loss and every parameter gradient on the first 8 training
//! images match, with batch norm in training (batch statistics, running
//! statistics moved) and in evaluation (running statistics).

use googlenet_core::data::Normalization;
use std::collections::HashMap;

use crate::common::{max_rel_err, mnist};
use candle_core::{Device, Tensor};
use googlenet_core::data::Split;
use googlenet_core::engine::Engine;
use googlenet_core::model::{build_model_with_depth, catalog, load_weights, Description, LayerKind, Model, Op};

const FIXTURES: [&str; 10] = [
    "googlenet",
    "lenet5",
    "residual",
    "resnet-original",
    "resnet-bn-after-add",
    "resnet-relu-before-add",
    "resnet-relu-only-preact",
    "resnet-full-preact",
    "resnet-original-depth2",
    "resnet-full-preact-depth2",
];

struct Fixture {
    tensors: HashMap<String, Tensor>,
    model: Box<dyn Model>,
}

impl Fixture {
    /// The fixture's model with PyTorch's initial parameters and buffers.
    fn load(name: &str) -> Fixture {
        let path = format!("{}/tests/fixtures/parity/{name}.safetensors", env!("CARGO_MANIFEST_DIR"));
        let tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
        let (model, depth) = match name.strip_suffix("-depth2") {
            Some(model) => (model, Some(2)),
            None => (name, None),
        };
        let model = build_model_with_depth(model, 1, depth, &Device::Cpu).unwrap();
        let fixture = Fixture { tensors, model };
        fixture.set_weights("buffer.");
        fixture
    }

    fn with_prefix(&self, prefix: &str) -> HashMap<String, Tensor> {
        self.tensors.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_string(), v.clone()))).collect()
    }

    /// The initial parameters, with the buffers under `buffers`.
    fn set_weights(&self, buffers: &str) {
        let mut weights = self.with_prefix("param.");
        weights.extend(self.with_prefix(buffers));
        load_weights(self.model.as_ref(), &weights).unwrap();
    }

    fn has_batch_norm(&self) -> bool {
        !self.model.buffers().is_empty()
    }

    fn loss(&self, mode: &str) -> f32 {
        self.tensors[&format!("{mode}.loss")].to_vec1::<f32>().unwrap()[0]
    }
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn largest(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, g| m.max(g.abs()))
}

/// Largest error relative to the reference tensor's largest entry (tiny
/// entries carry only rounding noise), or to `floor` if that is larger.
fn scaled_err_above(ours: &[f32], theirs: &[f32], floor: f32) -> f32 {
    let scale = largest(theirs).max(floor).max(f32::MIN_POSITIVE);
    let scaled = |v: &[f32]| v.iter().map(|g| g / scale).collect::<Vec<_>>();
    max_rel_err(&scaled(ours), &scaled(theirs))
}

fn scaled_err(ours: &[f32], theirs: &[f32]) -> f32 {
    scaled_err_above(ours, theirs, 0.0)
}

fn check_gradients(what: &str, fixture: &Fixture, mode: &str, loss: f32, grads: &HashMap<String, Vec<f32>>) {
    let expected = fixture.loss(mode);
    assert!((loss - expected).abs() < 1e-5, "{what} ({mode}): loss {loss} vs PyTorch {expected}");
    let theirs = fixture.with_prefix(&format!("{mode}.grad."));
    assert_eq!(grads.len(), theirs.len(), "{what}: one gradient per parameter");
    // A conv's bias before a batch norm in training gets a gradient of
    // exactly zero (the batch mean is subtracted) but for rounding, in
    // PyTorch as here: those, and any tensor whose gradients are all below
    // 1e-3 of the model's largest (a bias reaching a batch norm through an
    // addition), are compared with the model's largest gradient (to 1e-4 of it).
    let model_largest = theirs.values().map(|t| largest(&values(t))).fold(0f32, f32::max);
    let zeros = if mode == "train" { biases_before_batch_norm(fixture.model.description()) } else { Vec::new() };
    for (name, t) in &theirs {
        let t = values(t);
        let zero = zeros.contains(name) || largest(&t) < 1e-3 * model_largest;
        let err = scaled_err_above(&grads[name], &t, if zero { model_largest } else { 0.0 });
        assert!(err < 1e-4, "{what} ({mode}), {name}: gradient differs from PyTorch by {err:e}");
    }
}

/// The biases of convolutions read only by a batch norm.
fn biases_before_batch_norm(d: &Description) -> Vec<String> {
    let layer = |id: usize| match d.nodes[id].op {
        Op::Layer(l) => Some(&d.layers[l]),
        _ => None,
    };
    (0..d.nodes.len())
        .filter(|&id| layer(id).is_some_and(|l| matches!(l.kind, LayerKind::Conv2d { .. })))
        .filter(|&id| {
            let readers: Vec<usize> = (0..d.nodes.len()).filter(|&r| d.nodes[r].inputs.contains(&id)).collect();
            matches!(readers[..], [r] if layer(r).is_some_and(|l| matches!(l.kind, LayerKind::BatchNorm2d { .. })))
        })
        .map(|id| format!("{}.bias", layer(id).unwrap().name))
        .collect()
}

/// The modes a fixture has: training, and evaluation for batch norm models.
fn modes(fixture: &Fixture) -> &'static [&'static str] {
    if fixture.has_batch_norm() {
        &["train", "eval"]
    } else {
        &["train"]
    }
}

/// Sets up `mode`: evaluation runs on the running statistics PyTorch had
/// after its training pass.
fn prepare(fixture: &Fixture, mode: &str) {
    fixture.set_weights(if mode == "eval" { "train.buffer." } else { "buffer." });
    fixture.model.set_training(mode == "train");
}

fn check_running_statistics(what: &str, fixture: &Fixture) {
    for (name, expected) in fixture.with_prefix("train.buffer.") {
        let ours = fixture.model.buffers().iter().find(|b| b.name == name).unwrap();
        let err = max_rel_err(&values(ours.var.as_tensor()), &values(&expected));
        assert!(err < 1e-5, "{what}: running statistic {name} differs from PyTorch by {err:e}");
    }
}

#[test]
fn the_engine_matches_pytorch_on_every_zoo_model() {
    let (images, labels) = mnist(Split::Train, 8).gather(&(0..8).collect::<Vec<_>>(), &Normalization::mnist(1));
    for name in FIXTURES {
        let fixture = Fixture::load(name);
        for &mode in modes(&fixture) {
            // Threads meet at each batch norm: 1 and 3 threads (uneven
            // shares) give the same sums; chunks of 1 and 3 take other paths.
            for (threads, chunk) in [(1, 8), (3, 3), (2, 1)] {
                prepare(&fixture, mode);
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let what = format!("{name}, engine, {threads} threads, chunk {chunk}");
                let mut engine = Engine::for_model(fixture.model.as_ref()).unwrap().expect("every zoo model has a plan").with_chunk(chunk);
                engine.set_training(mode == "train");
                let loss = pool.install(|| engine.compute_gradients(&images, &labels)).unwrap();
                let grads = engine.gradients().map(|(n, g)| (n.to_string(), g.to_vec())).collect();
                check_gradients(&what, &fixture, mode, loss, &grads);
                if mode == "train" {
                    engine.store(fixture.model.as_ref()).unwrap();
                    check_running_statistics(&what, &fixture);
                }
            }
        }
    }
}

#[test]
fn the_candle_lowering_matches_pytorch_on_every_zoo_model() {
    let batch = mnist(Split::Train, 8).batch(&(0..8).collect::<Vec<_>>(), &Normalization::mnist(1), &Device::Cpu).unwrap();
    for name in FIXTURES {
        let fixture = Fixture::load(name);
        for &mode in modes(&fixture) {
            prepare(&fixture, mode);
            let logits = fixture.model.forward(&batch.images).unwrap();
            let loss = candle_nn::loss::cross_entropy(&logits, &batch.labels).unwrap();
            let store = loss.backward().unwrap();
            let grads =
                fixture.model.parameters().iter().map(|p| (p.name.clone(), values(store.get(p.var.as_tensor()).unwrap()))).collect();
            check_gradients(&format!("{name}, candle"), &fixture, mode, loss.to_scalar::<f32>().unwrap(), &grads);
            if mode == "train" {
                check_running_statistics(&format!("{name}, candle"), &fixture);
            }
        }
    }
}

#[test]
fn engine_and_candle_give_the_same_logits_in_evaluation() {
    let data = mnist(Split::Test, 37);
    let indices: Vec<usize> = (0..37).collect();
    let batch = data.batch(&indices, &Normalization::mnist(1), &Device::Cpu).unwrap();
    let (images, _) = data.gather(&indices, &Normalization::mnist(1));
    for entry in catalog::CATALOG {
        let model = build_model_with_depth(entry.name, 3, entry.depth.map(|_| 3), &Device::Cpu).unwrap();
        let theirs = values(&model.forward(&batch.images).unwrap());
        let ours = Engine::for_model(model.as_ref()).unwrap().unwrap().with_chunk(5).logits(&images, 37).unwrap();
        let err = scaled_err(&ours, &theirs);
        assert!(err < 1e-5, "{}: engine logits differ from candle's by {err:e}", entry.name);
    }
}
