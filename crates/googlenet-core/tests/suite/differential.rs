//! The differential test: random valid descriptions (tests/suite/common/random_model.rs),
//! each run by the CPU engine and by the candle lowering on crops of real
//! digits, batches of 1 to 9. For every description:
//!
//! - the engine plans it, or declines with a reason (and candle runs it);
//! - where it plans it, its logits equal candle's (evaluation mode), a
//!   batch's logits equal its images' one at a time, and one training
//!   step's loss and every parameter's gradient equal candle's autograd
//!   (batch norm in training mode);
//! - candle's own logits of a batch equal its images' one at a time.
//!
//! With `DIFFERENTIAL_ONNX_DIR` set, each case's ONNX export, input and
//! candle's logits are written there, and test/differential-onnx.test.ts
//! checks them with ONNX Runtime (`npm test` runs both; `npm run
//! differential` runs a longer sweep).
//!
//! `DIFFERENTIAL_CASES` (default [`CASES`]) and `DIFFERENTIAL_SEED` (default
//! [`SEED`]) set the budget and the seed; a failure names the case, its
//! seed and its description's JSON, which `train --model-file` reads.

use std::path::{Path, PathBuf};

use crate::common::mnist;
use crate::common::random_model::RandomModels;
use candle_core::{Device, Tensor};
use googlenet_core::data::{Dataset, Normalization, Split};
use googlenet_core::engine::Engine;
use googlenet_core::model::{build_model_from_spec, LayerKind, Model, ModelInfo, ModelSpec};
use googlenet_core::onnx::onnx_bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Descriptions checked by `cargo test` (about 3 s on 2 cores).
const CASES: usize = 2_000;
const SEED: u64 = 20_261_206;
/// Logits and losses: |ours − theirs| ≤ TOLERANCE · max(1, |theirs|).
const TOLERANCE: f32 = 1e-4;
/// Gradients: |ours − theirs| ≤ GRAD_TOLERANCE · the parameter's largest
/// |gradient| + GRAD_FLOOR · the model's largest. The engine's Winograd and
/// GEMM orders differ from candle's in the last bits, and a chain of batch
/// norms' backward passes (each subtracts means) magnifies that in the
/// smallest gradients; a conv's bias before a batch norm has a gradient of
/// 0 up to that rounding. A wrong gradient is off by far more.
const GRAD_TOLERANCE: f32 = 1e-2;
const GRAD_FLOOR: f32 = 2e-3;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name} must be a number, got {v}"))).unwrap_or(default)
}

/// `n` images of c×h×w normalized floats: crops of `digits` (MNIST test digits) at
/// random offsets, each channel its own digit; labels below `classes`.
/// A little noise keeps crops of background from being exactly constant
/// (ties at ReLU's 0 still arise, after a ReLU or a batch norm, and are
/// checked: both sides follow PyTorch there).
fn images(rng: &mut ChaCha8Rng, digits: &Dataset, [c, h, w]: [usize; 3], n: usize, classes: usize) -> (Vec<f32>, Vec<u32>) {
    let mut out = Vec::with_capacity(n * c * h * w);
    for _ in 0..n * c {
        let digit = digits.image(rng.random_range(0..digits.len()));
        let (top, left) = (rng.random_range(0..=28 - h), rng.random_range(0..=28 - w));
        for y in 0..h {
            for &p in &digit[(top + y) * 28 + left..][..w] {
                out.push(Normalization::mnist(1).byte(0, p) + rng.random_range(-0.05..0.05));
            }
        }
    }
    (out, (0..n).map(|_| rng.random_range(0..classes as u32)).collect())
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// The first element where `ours` and `theirs` differ by more than
/// `allowed(theirs)`: its index and both values. A NaN on either side is
/// one (hence "not within", rather than "beyond").
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn mismatch(ours: &[f32], theirs: &[f32], allowed: impl Fn(f32) -> f32) -> Option<(usize, f32, f32)> {
    assert_eq!(ours.len(), theirs.len(), "lengths");
    ours.iter().zip(theirs).position(|(a, b)| !((a - b).abs() <= allowed(*b))).map(|i| (i, ours[i], theirs[i]))
}

/// Logits and losses: relative, or absolute below 1.
fn close(theirs: f32) -> f32 {
    TOLERANCE * theirs.abs().max(1.0)
}

/// What one case found.
enum Outcome {
    Planned,
    Declined(String),
}

struct Case {
    index: usize,
    spec: ModelSpec,
    classes: usize,
    n: usize,
    images: Vec<f32>,
    labels: Vec<u32>,
}

impl Case {
    fn fail(&self, what: String) -> String {
        format!("case {} (n = {}): {what}\n  description: {}", self.index, self.n, self.spec.to_json())
    }

    fn tensor(&self, images: &[f32], n: usize) -> Tensor {
        let [c, h, w] = self.spec.input;
        Tensor::from_slice(images, (n, c, h, w), &Device::Cpu).unwrap()
    }

    fn image_len(&self) -> usize {
        self.spec.input.iter().product()
    }

    fn candle_logits(&self, model: &dyn Model, images: &[f32], n: usize) -> Vec<f32> {
        values(&model.forward(&self.tensor(images, n)).unwrap())
    }

    /// Runs every check; returns what the engine did, or what went wrong.
    fn check(&self, onnx_dir: Option<&Path>) -> Result<Outcome, String> {
        let model = build_model_from_spec(&self.spec, self.index as u64, &Device::Cpu)
            .map_err(|e| self.fail(format!("the generator made a description the lowering refuses: {e}")))?;
        self.trained_batch_norms(model.as_ref());
        let (n, len) = (self.n, self.image_len());
        model.set_training(false);
        let theirs = self.candle_logits(model.as_ref(), &self.images, n);
        if theirs.len() != n * self.classes {
            return Err(self.fail(format!("candle gives {} logits for {n} images of {} classes", theirs.len(), self.classes)));
        }
        for i in 0..n {
            let one = self.candle_logits(model.as_ref(), &self.images[i * len..][..len], 1);
            if let Some((k, a, b)) = mismatch(&one, &theirs[i * self.classes..][..self.classes], close) {
                return Err(self.fail(format!("candle: image {i} alone gives logit {k} = {a}, in the batch {b}")));
            }
        }
        if let Some(dir) = onnx_dir {
            self.write_onnx_case(model.as_ref(), &theirs, dir);
        }
        let Some(mut engine) = Engine::for_model(model.as_ref()).unwrap() else {
            return match Engine::declines(model.description()) {
                Some(reason) => Ok(Outcome::Declined(reason)),
                None => Err(self.fail("the engine declined without a reason".into())),
            };
        };
        engine.set_training(false);
        let ours = engine.logits(&self.images, n).unwrap();
        if let Some((k, a, b)) = mismatch(&ours, &theirs, close) {
            return Err(self.fail(format!("evaluation logit {k}: engine {a}, candle {b}")));
        }
        for i in 0..n {
            let one = engine.logits(&self.images[i * len..][..len], 1).unwrap();
            if let Some((k, a, b)) = mismatch(&one, &ours[i * self.classes..][..self.classes], close) {
                return Err(self.fail(format!("engine: image {i} alone gives logit {k} = {a}, in the batch {b}")));
            }
        }
        self.check_gradients(model.as_ref(), &mut engine)?;
        Ok(Outcome::Planned)
    }

    /// Batch norms as training leaves them rather than as they start (γ 1,
    /// β 0, mean 0, variance 1): evaluation then folds real statistics, and
    /// no output is β = 0 exactly. At β = 0 a batch norm's mean over one
    /// image's map is 0 up to rounding, and a ReLU after it would take the
    /// rounding's sign, which the engine and candle need not share.
    fn trained_batch_norms(&self, model: &dyn Model) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.index as u64);
        for p in model.parameters().iter().chain(model.buffers()) {
            let layer = p.name.rsplit_once('.').unwrap().0;
            if !model.description().layers.iter().any(|l| l.name == layer && matches!(l.kind, LayerKind::BatchNorm2d { .. })) {
                continue;
            }
            let range = match p.name.rsplit_once('.').unwrap().1 {
                "weight" => 0.5..1.5,
                "running_var" => 0.5..2.0,
                _ => -0.5..0.5,
            };
            let values: Vec<f32> = (0..p.var.elem_count()).map(|_| rng.random_range(range.clone())).collect();
            p.var.set(&Tensor::from_vec(values, p.var.shape(), &Device::Cpu).unwrap()).unwrap();
        }
    }

    /// One training step's loss and gradients, engine against candle's autograd.
    fn check_gradients(&self, model: &dyn Model, engine: &mut Engine) -> Result<(), String> {
        model.set_training(true);
        engine.set_training(true);
        let labels = Tensor::from_slice(&self.labels, self.n, &Device::Cpu).unwrap();
        let (ours, logits) = match (engine.compute_gradients(&self.images, &self.labels), model.forward(&self.tensor(&self.images, self.n)))
        {
            (Ok(ours), Ok(logits)) => (ours, logits),
            // Both refuse what PyTorch refuses: batch norm over one value per channel.
            (Err(_), Err(_)) => return Ok(()),
            (ours, theirs) => return Err(self.fail(format!("training step: engine {:?}, candle {:?}", ours.err(), theirs.err()))),
        };
        let loss = candle_nn::loss::cross_entropy(&logits, &labels).unwrap();
        let theirs = loss.to_scalar::<f32>().unwrap();
        if mismatch(&[ours], &[theirs], close).is_some() {
            return Err(self.fail(format!("training loss: engine {ours}, candle {theirs}")));
        }
        let grads = loss.backward().unwrap();
        let engine_grads: Vec<(String, Vec<f32>)> = engine.gradients().map(|(name, g)| (name.to_string(), g.to_vec())).collect();
        let largest = |g: &[f32]| g.iter().fold(0f32, |m, g| m.max(g.abs()));
        let model_scale = engine_grads.iter().map(|(_, g)| largest(g)).fold(0f32, f32::max);
        for p in model.parameters() {
            let theirs = grads.get(p.var.as_tensor()).map(values).unwrap_or_else(|| vec![0.0; p.var.elem_count()]);
            let (_, ours) = engine_grads
                .iter()
                .find(|(name, _)| *name == p.name)
                .ok_or_else(|| self.fail(format!("the engine has no gradient of {}", p.name)))?;
            let scale = largest(&theirs);
            if let Some((k, a, b)) = mismatch(ours, &theirs, |_| GRAD_TOLERANCE * scale + GRAD_FLOOR * model_scale) {
                return Err(self.fail(format!("gradient of {}[{k}]: engine {a}, candle {b} (largest {scale})", p.name)));
            }
        }
        Ok(())
    }

    /// `case-K.onnx`, `case-K.json` (input shape, batch, classes, the
    /// description), `case-K.input.bin` and `case-K.logits.bin` (f32, little-endian).
    fn write_onnx_case(&self, model: &dyn Model, logits: &[f32], dir: &Path) {
        let info = ModelInfo { model: "random".into(), depth: None, epochs: 0, test_accuracy: None, version: "differential".into() };
        let stem = dir.join(format!("case-{}", self.index));
        let bytes = onnx_bytes(model, &info).unwrap_or_else(|e| panic!("{}", self.fail(format!("ONNX export failed: {e}"))));
        std::fs::write(stem.with_extension("onnx"), bytes).unwrap();
        let floats = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        std::fs::write(stem.with_extension("input.bin"), floats(&self.images)).unwrap();
        std::fs::write(stem.with_extension("logits.bin"), floats(logits)).unwrap();
        let [c, h, w] = self.spec.input;
        let json = format!(r#"{{"n":{},"input":[{c},{h},{w}],"classes":{},"description":{}}}"#, self.n, self.classes, self.spec.to_json());
        std::fs::write(stem.with_extension("json"), json).unwrap();
    }
}

#[test]
fn engine_candle_and_batches_agree_on_random_descriptions() {
    let (cases, seed) = (env_or("DIFFERENTIAL_CASES", CASES), env_or("DIFFERENTIAL_SEED", SEED));
    let onnx_dir = std::env::var_os("DIFFERENTIAL_ONNX_DIR").map(PathBuf::from);
    if let Some(dir) = &onnx_dir {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
    }
    let digits = mnist(Split::Test, 64);
    let mut models = RandomModels::new(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let (mut planned, mut declined, mut failures) = (0, Vec::new(), Vec::new());
    for index in 0..cases {
        let (spec, classes) = models.next_spec();
        let n = rng.random_range(1..=9);
        let (images, labels) = images(&mut rng, &digits, spec.input, n, classes);
        let case = Case { index, spec, classes, n, images, labels };
        match case.check(onnx_dir.as_deref()) {
            Ok(Outcome::Planned) => planned += 1,
            Ok(Outcome::Declined(reason)) => declined.push(reason),
            Err(failure) => failures.push(failure),
        }
    }
    println!("differential: seed {seed}, {cases} descriptions: {planned} planned by the engine, {} declined", declined.len());
    // Reasons name the step ("conv1 (3×3 max pool) has no engine kernel"): counted by what it is.
    let mut kinds: Vec<&str> = declined.iter().map(|r| r.rsplit_once(" (").map_or(r.as_str(), |(_, kind)| kind)).collect();
    kinds.sort_unstable();
    for kind in kinds.chunk_by(|a, b| a == b) {
        println!("  declined {} times: ({}", kind.len(), kind[0]);
    }
    assert!(failures.is_empty(), "{} of {cases} cases failed (seed {seed}):\n{}", failures.len(), failures.join("\n"));
    assert!(planned * 2 > cases, "the engine planned only {planned} of {cases} descriptions");
}
