use std::sync::Arc;

use candle_core::Device;
use googlenet_core::data::Dataset;
use googlenet_core::train::{benchmark, BenchConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dataset::NativeDataset;
use crate::description::build;
use crate::device::parse_device;
use crate::errors::{caught, guarded};

#[napi(object)]
pub struct NativeBenchOptions {
    /// `cpu` or `cuda`.
    pub device: String,
    /// Residual units per stage, for the models that take a depth.
    pub depth: Option<u32>,
    pub batch_size: u32,
    pub batches: u32,
    pub warmup: u32,
    /// Single-image predictions timed one by one (0: none).
    pub latency_calls: u32,
}

#[napi(object)]
pub struct NativeBenchResult {
    pub train_images_per_sec: f64,
    pub infer_images_per_sec: f64,
    /// Nominal GFLOP/s: 6 FLOPs per multiply-accumulate per training image.
    pub train_gflops: f64,
    /// Nominal GFLOP/s: 2 FLOPs per multiply-accumulate per inference image.
    pub infer_gflops: f64,
    /// On the CPU only.
    pub cpu: Option<NativeCpuFigures>,
    /// With latency calls only.
    pub latency: Option<NativeLatency>,
}

/// Milliseconds of single-image predictions through `predict`'s path.
#[napi(object)]
pub struct NativeLatency {
    pub calls: u32,
    pub median_ms: f64,
    /// The 99th percentile (nearest rank).
    pub p99_ms: f64,
}

/// The CPU path a benchmark ran on.
#[napi(object)]
pub struct NativeCpuFigures {
    /// `avx512`, `avx2` or `baseline`.
    pub isa: String,
    pub threads: u32,
    pub peak_gflops: f64,
}

pub struct BenchTask {
    model: String,
    depth: Option<u32>,
    device: Device,
    data: Arc<Dataset>,
    config: BenchConfig,
}

impl Task for BenchTask {
    type Output = NativeBenchResult;
    type JsValue = NativeBenchResult;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| {
            let model = build(&self.model, 1, self.depth, Some(&self.data), &self.device)?;
            let r = benchmark(model.as_ref(), &self.data, &self.config, &self.device)?;
            Ok(NativeBenchResult {
                train_images_per_sec: r.train_images_per_sec,
                infer_images_per_sec: r.infer_images_per_sec,
                train_gflops: r.train_gflops(),
                infer_gflops: r.infer_gflops(),
                cpu: r.cpu.map(|c| NativeCpuFigures { isa: c.isa.name().into(), threads: c.threads as u32, peak_gflops: c.peak_gflops }),
                latency: r.latency.map(|l| NativeLatency {
                    calls: l.calls as u32,
                    median_ms: l.median_secs * 1e3,
                    p99_ms: l.p99_secs * 1e3,
                }),
            })
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        caught(|| Ok(output))
    }
}

/// Times steady-state training and inference of a fresh `model` (a zoo
/// name, or a description's JSON; seed 1, `options.depth` for the models
/// that take one) on consecutive batches of `data`, then its latency on
/// single images, off the event loop.
#[napi(catch_unwind, ts_return_type = "Promise<NativeBenchResult>")]
pub fn benchmark_model(model: String, data: &NativeDataset, options: NativeBenchOptions) -> Result<AsyncTask<BenchTask>> {
    Ok(AsyncTask::new(BenchTask {
        model,
        depth: options.depth,
        device: parse_device(&options.device)?,
        data: data.inner.clone(),
        config: BenchConfig {
            batch_size: options.batch_size as usize,
            batches: options.batches as usize,
            warmup: options.warmup as usize,
            latency_calls: options.latency_calls as usize,
        },
    }))
}
