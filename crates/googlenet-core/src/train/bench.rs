//! Steady-state throughput of training and inference: what `bench` commands
//! report. Not a test: nothing here asserts on time.

use std::time::Instant;

use candle_core::Device;

use super::evaluate::{argmax, check_dataset};
use super::predictor::Predictor;
use super::runner::{read_losses, Runner};
use super::FitConfig;
use crate::cpu::{self, Isa};
use crate::data::Dataset;
use crate::engine::peak_gflops;
use crate::model::{summarize, Model};
use crate::options::{check_value, declared_default, Command};
use crate::{runtime, Error, Result};

/// How much to measure. [`Default`]: batch 64, 100 timed batches after 5
/// untimed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    pub batch_size: usize,
    /// Batches timed, for training and again for inference.
    pub batches: usize,
    /// Batches run before timing starts (first-touch allocations, caches),
    /// and single-image predictions before the latency calls.
    pub warmup: usize,
    /// Single-image predictions timed one by one for [`Latency`] (0: none).
    pub latency_calls: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        let whole = |name| declared_default(Command::Bench, name) as usize;
        Self { batch_size: whole("batchSize"), batches: whole("batches"), warmup: whole("warmup"), latency_calls: whole("latencyCalls") }
    }
}

/// Images per second, training (forward, backward, SGD step, batch
/// assembly included, as in `fit`) and inference (forward and arg-max),
/// and what they make of the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchResult {
    pub train_images_per_sec: f64,
    pub infer_images_per_sec: f64,
    /// The model's multiply-accumulates per image (its summary's total).
    pub macs_per_image: u64,
    /// On the CPU: the kernels' instruction set, threads and SGEMM peak.
    pub cpu: Option<CpuFigures>,
    /// One image at a time through `predict`'s path; `None` without latency calls.
    pub latency: Option<Latency>,
}

/// Seconds a single-image prediction took, call by call, through the path
/// `predict` takes ([`Predictor::probabilities`] on the image's bytes,
/// normalization and softmax included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub calls: usize,
    pub median_secs: f64,
    /// The 99th percentile (nearest rank).
    pub p99_secs: f64,
}

impl Latency {
    /// From the calls' seconds (at least one).
    fn of(mut secs: Vec<f64>) -> Self {
        secs.sort_by(f64::total_cmp);
        let rank = |q: f64| secs[((q * secs.len() as f64).ceil() as usize).clamp(1, secs.len()) - 1];
        Self { calls: secs.len(), median_secs: rank(0.5), p99_secs: rank(0.99) }
    }
}

/// The CPU path a benchmark ran on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuFigures {
    pub isa: Isa,
    pub threads: usize,
    /// This machine's single-precision GEMM peak on the same kernels and threads ([`peak_gflops`]).
    pub peak_gflops: f64,
}

impl BenchResult {
    /// Nominal GFLOP/s of training: 3 × 2 FLOPs per multiply-accumulate
    /// (forward, input gradient, weight gradient) per image. Kernels that
    /// need fewer (Winograd) count as if they did not.
    pub fn train_gflops(&self) -> f64 {
        self.train_images_per_sec * self.macs_per_image as f64 * 6.0 / 1e9
    }

    /// Nominal GFLOP/s of inference: 2 FLOPs per multiply-accumulate per image.
    pub fn infer_gflops(&self) -> f64 {
        self.infer_images_per_sec * self.macs_per_image as f64 * 2.0 / 1e9
    }
}

/// Times `model` on consecutive batches of `data` (wrapping around). Trains
/// the model in place with the reference recipe's SGD ([`FitConfig`]'s
/// default). On the CPU it then calibrates the SGEMM peak (half a second).
pub fn benchmark(model: &dyn Model, data: &Dataset, config: &BenchConfig, device: &Device) -> Result<BenchResult> {
    check_value(Command::Bench, "batchSize", config.batch_size)?;
    if config.batches == 0 {
        return Err(Error::InvalidArgument("benchmark batch count must be at least 1".into()));
    }
    check_dataset(&model.io(), data, "the benchmark dataset", None)?;
    let indices = |b: usize| -> Vec<usize> { (0..config.batch_size).map(|i| (b * config.batch_size + i) % data.len()).collect() };
    let recipe = FitConfig::default();
    let mut runner = Runner::new(model, device, Some(config.batch_size))?;
    let timed = |batches: std::ops::Range<usize>, step: &mut dyn FnMut(usize) -> Result<()>| -> Result<f64> {
        let started = Instant::now();
        for b in batches.clone() {
            step(b)?;
        }
        Ok((batches.len() * config.batch_size) as f64 / started.elapsed().as_secs_f64())
    };
    let mut train = |b: usize| -> Result<()> {
        let loss = runner.train_step(data, &indices(b), None, &recipe.optimizer, recipe.lr, recipe.label_smoothing)?;
        // On an accelerator the step only queues work: reading the last
        // loss of each timed range waits until it is done.
        if b + 1 == config.warmup || b + 1 == config.warmup + config.batches {
            read_losses(&[&loss])?;
        }
        Ok(())
    };
    model.set_training(true);
    timed(0..config.warmup, &mut train)?;
    let train_images_per_sec = timed(config.warmup..config.warmup + config.batches, &mut train)?;
    runner.sync(model)?;
    model.set_training(false);
    let classes = model.classes();
    let mut infer = |b: usize| -> Result<()> {
        let logits = runner.logits_of(data, &indices(b))?;
        logits.chunks_exact(classes).map(argmax).for_each(drop);
        Ok(())
    };
    timed(0..config.warmup, &mut infer)?;
    let infer_images_per_sec = timed(config.warmup..config.warmup + config.batches, &mut infer)?;
    let latency = (config.latency_calls > 0).then(|| time_single_images(model, data, config, device)).transpose()?;
    let macs_per_image = summarize(model.description())?.iter().map(|layer| layer.macs).sum();
    let cpu = device.is_cpu().then(|| CpuFigures { isa: cpu::isa(), threads: runtime::threads(), peak_gflops: peak_gflops() });
    Ok(BenchResult { train_images_per_sec, infer_images_per_sec, macs_per_image, cpu, latency })
}

/// [`Latency`] of `config.latency_calls` predictions of one image each
/// (consecutive images of `data`), after `config.warmup` untimed ones.
fn time_single_images(model: &dyn Model, data: &Dataset, config: &BenchConfig, device: &Device) -> Result<Latency> {
    let mut predictor = Predictor::new();
    let shape = data.shape();
    let mut secs = Vec::with_capacity(config.latency_calls);
    for call in 0..config.warmup + config.latency_calls {
        let started = Instant::now();
        let probabilities = predictor.probabilities(model, data.image(call % data.len()), 1, shape, device)?;
        argmax(&probabilities);
        if call >= config.warmup {
            secs.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(Latency::of(secs))
}
