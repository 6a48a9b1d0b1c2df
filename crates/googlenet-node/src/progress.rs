use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use googlenet_core::train::{BatchProgress, EpochSummary, EvalResult};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

/// Lets JS stop a running fit: `cancel()` sets a flag the training loop
/// checks after every batch.
#[napi]
#[derive(Default)]
pub struct CancelToken {
    pub(crate) flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask a running fit to stop at the next batch.
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    #[napi(getter, catch_unwind)]
    pub fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

#[napi(object)]
pub struct NativeEvalResult {
    pub correct: u32,
    pub total: u32,
    pub accuracy: f64,
    pub loss: f64,
    /// The predicted class of every image, when asked for.
    pub predictions: Option<Buffer>,
}

impl From<EvalResult> for NativeEvalResult {
    fn from(r: EvalResult) -> Self {
        Self { correct: r.correct as u32, total: r.total as u32, accuracy: r.accuracy, loss: r.loss, predictions: None }
    }
}

/// What one epoch did: `loss` is the mean training loss, `seconds` the
/// training time without evaluation, `test` the validation result.
#[napi(object)]
pub struct NativeEpochSummary {
    pub epoch: u32,
    pub loss: f64,
    pub seconds: f64,
    pub train_images_per_sec: f64,
    pub test: Option<NativeEvalResult>,
    pub eval_seconds: Option<f64>,
}

impl From<&EpochSummary> for NativeEpochSummary {
    fn from(s: &EpochSummary) -> Self {
        Self {
            epoch: s.epoch as u32,
            loss: s.loss,
            seconds: s.seconds,
            train_images_per_sec: s.train_images_per_sec,
            test: s.test.map(Into::into),
            eval_seconds: s.eval_seconds,
        }
    }
}

/// `kind` is `batch` after every training batch (`loss` is that batch's
/// mean) or `epoch` after each epoch (`summary` set).
#[napi(object)]
pub struct NativeProgressEvent {
    pub kind: String,
    pub epoch: u32,
    pub batch: u32,
    pub batches: u32,
    pub loss: f64,
    pub images_seen: u32,
    pub elapsed_seconds: f64,
    pub summary: Option<NativeEpochSummary>,
}

impl From<BatchProgress> for NativeProgressEvent {
    fn from(p: BatchProgress) -> Self {
        Self {
            kind: "batch".into(),
            epoch: p.epoch as u32,
            batch: p.batch as u32,
            batches: p.batches as u32,
            loss: p.loss as f64,
            images_seen: p.images_seen as u32,
            elapsed_seconds: p.elapsed_secs,
            summary: None,
        }
    }
}

impl From<&EpochSummary> for NativeProgressEvent {
    fn from(s: &EpochSummary) -> Self {
        let images = (s.train_images_per_sec * s.seconds).round() as u32;
        Self {
            kind: "epoch".into(),
            epoch: s.epoch as u32,
            batch: 0,
            batches: 0,
            loss: s.loss,
            images_seen: images,
            elapsed_seconds: s.seconds,
            summary: Some(s.into()),
        }
    }
}
