use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use candle_core::Device;
use googlenet_core::data::{Dataset, ImageShape};
use googlenet_core::model::{load_model, load_model_bytes, model_bytes, save_model, DataInfo, Model, ModelInfo, ModelIo};
use googlenet_core::onnx::export_onnx;
use googlenet_core::train::{
    check_dataset, check_input_shape, evaluate_with_predictions, fit_from, load_checkpoint, prepare_checkpoint_dir, save_checkpoint,
    Checkpoint, FitConfig, Pixel, TrainEvent, TrainState, EVAL_BATCH_SIZE,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::checkpoint::NativeCheckpointInfo;
use crate::claim::{Claim, ModelSlot};
use crate::dataset::NativeDataset;
use crate::description::build;
use crate::device::parse_device;
use crate::errors::{caught, guarded, range_checked};
use crate::image::image_shape;
use crate::progress::{CancelToken, NativeEpochSummary, NativeEvalResult, NativeProgressEvent};
use crate::recipe::fit_config;
use crate::saved::NativeModelInfo;

type ProgressCallback = ThreadsafeFunction<NativeProgressEvent, (), NativeProgressEvent, Status, false>;

/// Per channel, the mean and standard deviation a pixel scaled to [0, 1]
/// is normalized with, as decimal text writes them (0.1307).
#[napi(object)]
pub struct NativeNormalization {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

#[napi(object)]
pub struct ParameterInfo {
    pub name: String,
    pub shape: Vec<u32>,
}

/// The largest batch size for training, evaluation and benchmarks.
#[napi]
pub const MAX_BATCH_SIZE: u32 = googlenet_core::train::MAX_BATCH_SIZE as u32;

/// Where `fit` writes a checkpoint after every epoch (and when stopped),
/// with the metadata of the model files it holds.
#[napi(object)]
pub struct NativeCheckpointOptions {
    pub dir: String,
    pub info: NativeModelInfo,
    /// Delete another run's checkpoints found in `dir` (a new run refuses such a folder otherwise).
    pub start_over: Option<bool>,
}

/// A model held in Rust; training and inference run on libuv's thread pool.
#[napi]
pub struct NativeModel {
    slot: Arc<ModelSlot>,
    param_count: u32,
    /// Its name, the images it takes and the class scores it gives.
    io: ModelIo,
    /// Its class names and input normalization.
    data: DataInfo,
    /// Its description, as canonical JSON.
    description: String,
    /// The metadata of the file the model was loaded from.
    loaded: Option<ModelInfo>,
    /// The checkpoint the model was loaded from, kept for `fit` to resume.
    checkpoint: Option<Checkpoint>,
}

#[napi]
impl NativeModel {
    /// `name`: a model name (`googlenet`) or a description's JSON (the format
    /// of docs/model-description.md); `seed` fixes the initial weights;
    /// `device`: `cpu` (the default) or `cuda`; `depth`: units per stage of
    /// a ResNet; `data`: the training set it is made for (a zoo model takes
    /// its image shape and classes, a description must fit them; the model
    /// keeps its class names and pixel statistics).
    /// An unknown name, a depth the model does not take or a description
    /// that breaks a rule or does not fit its input or the data throws a
    /// `RangeError` with the core's message (naming the JSON path at fault).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        name: String,
        seed: u32,
        device: Option<String>,
        depth: Option<u32>,
        data: Option<&NativeDataset>,
    ) -> Result<Self> {
        let device = parse_device(device.as_deref().unwrap_or("cpu"))?;
        let data = data.map(|d| d.inner.clone());
        let model = range_checked(&env, guarded(|| build(&name, seed as u64, depth, data.as_deref(), &device)))?;
        Ok(Self::wrap(model, device, None))
    }

    fn wrap(model: Box<dyn Model>, device: Device, loaded: Option<ModelInfo>) -> Self {
        let (io, param_count, data) = (model.io(), model.param_count() as u32, model.data_info().clone());
        let description = model.description().spec.to_json();
        Self { slot: ModelSlot::new(model, device), io, data, param_count, description, loaded, checkpoint: None }
    }

    /// The names of its classes, one per class score.
    #[napi(getter, catch_unwind)]
    pub fn class_names(&self) -> Vec<String> {
        self.data.classes.clone()
    }

    /// Channels, height and width of the images it takes.
    #[napi(getter, catch_unwind)]
    pub fn input_shape(&self) -> Vec<u32> {
        self.io.input.iter().map(|&d| d as u32).collect()
    }

    /// How it normalizes a pixel scaled to [0, 1], per channel: (x − mean) / std.
    #[napi(getter, catch_unwind)]
    pub fn normalization(&self) -> NativeNormalization {
        let decimal = |v: &f32| v.to_string().parse::<f64>().expect("a float's text parses");
        let n = &self.data.normalization;
        NativeNormalization { mean: n.mean().iter().map(decimal).collect(), std: n.std().iter().map(decimal).collect() }
    }

    /// The model's description, as canonical JSON.
    #[napi(getter, catch_unwind)]
    pub fn description(&self) -> String {
        self.description.clone()
    }

    /// Checks that the model can run on `dataset` (not empty, grey images of
    /// its size, labels within its class scores): a `RangeError` with the
    /// core's message names `name` (the argument) and where the images came from.
    #[napi(catch_unwind)]
    pub fn check_data(&self, env: Env, dataset: &NativeDataset, name: String) -> Result<()> {
        let source = dataset.source();
        range_checked(&env, guarded(|| check_dataset(&self.io, &dataset.inner, &name, source.as_deref())))
    }

    /// Checks that the model takes images of `channels`×`height`×`width`: a `RangeError` otherwise.
    #[napi(catch_unwind)]
    pub fn check_image_shape(&self, env: Env, channels: u32, height: u32, width: u32) -> Result<()> {
        let shape = ImageShape { channels: channels as usize, height: height as usize, width: width as usize };
        range_checked(&env, guarded(|| check_input_shape(&self.io, shape, None)))
    }

    /// Reads a training checkpoint (a file, or a folder's furthest one)
    /// onto `device`; `fit` with `resume` continues the run it records.
    #[napi(factory, catch_unwind)]
    pub fn load_checkpoint(path: String, device: Option<String>) -> Result<Self> {
        let device = parse_device(device.as_deref().unwrap_or("cpu"))?;
        let (model, checkpoint) = guarded(|| load_checkpoint(Path::new(&path), &device))?;
        let mut native = Self::wrap(model, device, Some(checkpoint.info.clone()));
        native.checkpoint = Some(checkpoint);
        Ok(native)
    }

    /// What the checkpoint the model was loaded from records, if it was.
    #[napi(getter, catch_unwind)]
    pub fn checkpoint_info(&self) -> Option<NativeCheckpointInfo> {
        self.checkpoint.as_ref().map(NativeCheckpointInfo::from)
    }

    /// Reads a model file written by `save` (or a PyTorch `state_dict` saved
    /// with safetensors) onto `device` (`cpu` by default).
    #[napi(factory, catch_unwind)]
    pub fn load(path: String, device: Option<String>) -> Result<Self> {
        let device = parse_device(device.as_deref().unwrap_or("cpu"))?;
        let (model, info) = guarded(|| load_model(Path::new(&path), &device))?;
        Ok(Self::wrap(model, device, Some(info)))
    }

    /// [`load`](Self::load) on a file's bytes, for hosts with no file system
    /// (a browser tab): `name` stands for the file in errors.
    #[napi(factory, catch_unwind)]
    pub fn from_bytes(bytes: Uint8Array, name: String, device: Option<String>) -> Result<Self> {
        let device = parse_device(device.as_deref().unwrap_or("cpu"))?;
        let (model, info) = guarded(|| load_model_bytes(&bytes, Path::new(&name), &device))?;
        Ok(Self::wrap(model, device, Some(info)))
    }

    /// The bytes [`save`](Self::save) writes, for hosts with no file system.
    /// A Uint8Array, not a Buffer: browsers have no Buffer.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self, info: NativeModelInfo) -> Result<Uint8Array> {
        let claim = Claim::take(&self.slot)?;
        guarded(|| model_bytes(claim.model().as_ref(), &info.into())).map(Uint8Array::from)
    }

    /// The metadata of the file the model came from, if it was loaded.
    #[napi(getter, catch_unwind)]
    pub fn loaded_info(&self) -> Option<NativeModelInfo> {
        self.loaded.clone().map(NativeModelInfo::from)
    }

    /// Writes the weights (and BatchNorm statistics) with `info` to `path`
    /// as safetensors, atomically. Refused while the model is busy (from
    /// the moment a fit, evaluate or predict call returns its promise).
    #[napi(catch_unwind)]
    pub fn save(&self, path: String, info: NativeModelInfo) -> Result<()> {
        let claim = Claim::take(&self.slot)?;
        guarded(|| save_model(claim.model().as_ref(), &info.into(), Path::new(&path)))
    }

    /// Writes the model to `path` as an ONNX file (input `images`, output
    /// `logits`; `info` goes into its metadata), atomically. Refused while
    /// the model is busy.
    #[napi(catch_unwind)]
    pub fn export_onnx(&self, path: String, info: NativeModelInfo) -> Result<()> {
        let claim = Claim::take(&self.slot)?;
        guarded(|| export_onnx(claim.model().as_ref(), &info.into(), Path::new(&path)))
    }

    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.io.name.clone()
    }

    /// Class scores per image: its last layer's outputs (the length of
    /// each row of `predict` and `logits`).
    #[napi(getter, catch_unwind)]
    pub fn classes(&self) -> u32 {
        self.io.classes as u32
    }

    #[napi(getter, catch_unwind)]
    pub fn param_count(&self) -> u32 {
        self.param_count
    }

    /// Names and shapes of the trainable tensors, in PyTorch's order.
    /// Refused while the model is busy.
    #[napi(catch_unwind)]
    pub fn parameters(&self) -> Result<Vec<ParameterInfo>> {
        let claim = Claim::take(&self.slot)?;
        let model = claim.model();
        Ok(model
            .parameters()
            .iter()
            .map(|p| ParameterInfo { name: p.name.clone(), shape: p.var.dims().iter().map(|&d| d as u32).collect() })
            .collect())
    }

    /// Trains in place; rejects with code `Cancelled` when `cancel` fires.
    /// `resume`: continue the run of the checkpoint the model was loaded
    /// from (its shuffle state, order and momentum) instead of starting one;
    /// `checkpoint`: write a checkpoint there after every epoch and when
    /// stopped.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<NativeEpochSummary>>")]
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &self,
        env: Env,
        train: &NativeDataset,
        validation: Option<&NativeDataset>,
        #[napi(ts_arg_type = "Record<string, unknown>")] options: Object,
        #[napi(ts_arg_type = "((event: NativeProgressEvent) => void) | undefined | null")] on_progress: Option<ProgressCallback>,
        cancel: Option<&CancelToken>,
        resume: Option<bool>,
        checkpoint: Option<NativeCheckpointOptions>,
    ) -> Result<AsyncTask<FitTask>> {
        let config = fit_config(&env, &options)?;
        let start = match (resume.unwrap_or(false), &self.checkpoint) {
            (false, _) => None,
            (true, Some(c)) => {
                // Refused here, as a RangeError, before the task starts.
                range_checked(
                    &env,
                    guarded(|| {
                        config.check_continues(&c.config)?;
                        c.state.check_resumable(&config, train.inner.len())
                    }),
                )?;
                Some(c.state.clone())
            }
            (true, None) => return Err(Error::new(Status::InvalidArg, "resume needs a model loaded from a checkpoint")),
        };
        Ok(AsyncTask::new(FitTask {
            claim: Claim::take(&self.slot)?,
            train: train.inner.clone(),
            validation: validation.map(|v| v.inner.clone()),
            config,
            on_progress,
            cancel: cancel.map(|c| c.flag.clone()),
            start,
            checkpoint: checkpoint.map(|c| (c.dir.into(), c.info.into(), c.start_over.unwrap_or(false))),
        }))
    }

    /// Accuracy and mean loss on `data`; with `keep_predictions`, also the
    /// predicted class of every image.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeEvalResult>")]
    pub fn evaluate(
        &self,
        data: &NativeDataset,
        batch_size: Option<u32>,
        keep_predictions: Option<bool>,
    ) -> Result<AsyncTask<EvaluateTask>> {
        Ok(AsyncTask::new(EvaluateTask {
            claim: Claim::take(&self.slot)?,
            data: data.inner.clone(),
            batch_size: batch_size.unwrap_or(EVAL_BATCH_SIZE as u32),
            keep_predictions: keep_predictions.unwrap_or(false),
        }))
    }

    /// `pixels`: count images of `shape` (`[channels, height, width]`, each
    /// image's channels one plane after another), bytes (0..255) or floats
    /// in [0, 1]. Bytes stay bytes until the core normalizes them a batch at
    /// a time. Resolves to count×classes softmax probabilities, row-major.
    #[napi(catch_unwind, ts_return_type = "Promise<Float32Array>")]
    pub fn predict(&self, pixels: Either<Uint8Array, Float32Array>, count: u32, shape: Vec<u32>) -> Result<AsyncTask<PredictTask>> {
        PredictTask::new(&self.slot, pixels, count, image_shape(&shape)?, Scores::Probabilities)
    }

    /// The logits of `predict`'s images: count×classes scores before
    /// softmax, row-major, as an exported ONNX file's `logits` output gives them.
    #[napi(catch_unwind, ts_return_type = "Promise<Float32Array>")]
    pub fn logits(&self, pixels: Either<Uint8Array, Float32Array>, count: u32, shape: Vec<u32>) -> Result<AsyncTask<PredictTask>> {
        PredictTask::new(&self.slot, pixels, count, image_shape(&shape)?, Scores::Logits)
    }

    /// Internal, for the tests only (not in the TypeScript API): panics on
    /// purpose, in this call (`call`) or in a task that holds the model's
    /// claim and lock (`task`), to prove that a panic reaches JS as an Error
    /// and leaves the model usable. The core has no input known to panic.
    #[napi(catch_unwind, ts_args_type = "during: 'call' | 'task'", ts_return_type = "Promise<void>")]
    pub fn debug_panic(&self, during: String) -> Result<AsyncTask<PanicTask>> {
        match during.as_str() {
            "call" => panic!("debugPanic('call')"),
            "task" => Ok(AsyncTask::new(PanicTask { claim: Claim::take(&self.slot)? })),
            other => Err(Error::new(Status::InvalidArg, format!("unknown debugPanic place '{other}' (expected call or task)"))),
        }
    }
}

/// How long an epoch event may wait for the JS listener before training
/// goes on regardless (a listener that throws never acknowledges).
const EPOCH_EVENT_WAIT: Duration = Duration::from_secs(10);

/// Queues an epoch event and waits until JS has run the listener, so every
/// progress event reaches JS before the fit promise settles (the event queue
/// and the promise's completion are separate libuv handles with no order).
fn deliver_and_wait(callback: &ProgressCallback, event: NativeProgressEvent) {
    let (done, delivered) = mpsc::channel();
    let status = callback.call_with_return_value(event, ThreadsafeFunctionCallMode::Blocking, move |_, _| {
        let _ = done.send(());
        Ok(())
    });
    if status == Status::Ok {
        let _ = delivered.recv_timeout(EPOCH_EVENT_WAIT);
    }
}

pub struct FitTask {
    claim: Claim,
    train: Arc<Dataset>,
    validation: Option<Arc<Dataset>>,
    config: FitConfig,
    on_progress: Option<ProgressCallback>,
    cancel: Option<Arc<AtomicBool>>,
    /// The state to resume from.
    start: Option<TrainState>,
    /// Where to write checkpoints, the model metadata they carry, and
    /// whether a new run may delete another run's checkpoints there.
    checkpoint: Option<(std::path::PathBuf, ModelInfo, bool)>,
}

impl Task for FitTask {
    type Output = Vec<NativeEpochSummary>;
    type JsValue = Vec<NativeEpochSummary>;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| {
            if let (Some((dir, _, start_over)), None) = (&self.checkpoint, &self.start) {
                prepare_checkpoint_dir(dir, *start_over)?;
            }
            let model = self.claim.model();
            // A checkpoint that cannot be written stops training with its error.
            let mut save_error = None;
            let mut on_event = |event: TrainEvent| {
                match (event, &self.on_progress) {
                    (TrainEvent::Checkpoint(state), _) => {
                        if let Some((dir, info, _)) = &self.checkpoint {
                            if let Err(e) = save_checkpoint(dir, model.as_ref(), info, &self.config, state) {
                                save_error.get_or_insert(e);
                            }
                        }
                    }
                    // NonBlocking: a slow JS listener must never stall training.
                    (TrainEvent::Batch(p), Some(callback)) => {
                        callback.call(p.into(), ThreadsafeFunctionCallMode::NonBlocking);
                    }
                    (TrainEvent::Epoch(s), Some(callback)) => deliver_and_wait(callback, s.into()),
                    (_, None) => {}
                }
                match &self.cancel {
                    _ if save_error.is_some() => ControlFlow::Break(()),
                    Some(flag) if flag.load(Ordering::SeqCst) => ControlFlow::Break(()),
                    _ => ControlFlow::Continue(()),
                }
            };
            let (train, validation, device) = (&self.train, self.validation.as_deref(), self.claim.device());
            let result = fit_from(model.as_ref(), train, validation, &self.config, device, self.start.as_ref(), &mut on_event);
            if let Some(e) = save_error {
                return Err(e);
            }
            Ok(result?.iter().map(NativeEpochSummary::from).collect())
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        caught(|| Ok(output))
    }
}

pub struct EvaluateTask {
    claim: Claim,
    data: Arc<Dataset>,
    batch_size: u32,
    keep_predictions: bool,
}

impl Task for EvaluateTask {
    type Output = (NativeEvalResult, Vec<u8>);
    type JsValue = NativeEvalResult;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| {
            let model = self.claim.model();
            let (result, predictions) =
                evaluate_with_predictions(model.as_ref(), &self.data, self.batch_size as usize, self.claim.device())?;
            Ok((result.into(), predictions))
        })
    }

    fn resolve(&mut self, _env: Env, (result, predictions): Self::Output) -> Result<Self::JsValue> {
        caught(|| Ok(if self.keep_predictions { NativeEvalResult { predictions: Some(predictions.into()), ..result } } else { result }))
    }
}

/// Pixels as JS handed them over.
enum Pixels {
    Bytes(Vec<u8>),
    Floats(Vec<f32>),
}

/// What a prediction gives for each image.
#[derive(Clone, Copy)]
enum Scores {
    Probabilities,
    Logits,
}

pub struct PredictTask {
    claim: Claim,
    pixels: Pixels,
    count: usize,
    shape: ImageShape,
    scores: Scores,
}

impl PredictTask {
    fn new(
        slot: &Arc<ModelSlot>,
        pixels: Either<Uint8Array, Float32Array>,
        count: u32,
        shape: ImageShape,
        scores: Scores,
    ) -> Result<AsyncTask<Self>> {
        Ok(AsyncTask::new(Self {
            claim: Claim::take_to_predict(slot)?,
            pixels: match pixels {
                Either::A(bytes) => Pixels::Bytes(bytes.to_vec()),
                Either::B(floats) => Pixels::Floats(floats.to_vec()),
            },
            count: count as usize,
            shape,
            scores,
        }))
    }

    fn run<P: Pixel>(&self, pixels: &[P]) -> googlenet_core::Result<Vec<f32>> {
        let (model, device, mut predictor) = (self.claim.model(), self.claim.device(), self.claim.predictor());
        match self.scores {
            Scores::Probabilities => predictor.probabilities(model.as_ref(), pixels, self.count, self.shape, device),
            Scores::Logits => predictor.logits(model.as_ref(), pixels, self.count, self.shape, device),
        }
    }
}

impl Task for PredictTask {
    type Output = Vec<f32>;
    type JsValue = Float32Array;

    fn compute(&mut self) -> Result<Self::Output> {
        guarded(|| match &self.pixels {
            Pixels::Bytes(p) => self.run(p),
            Pixels::Floats(p) => self.run(p),
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        caught(|| Ok(Float32Array::new(output)))
    }
}

pub struct PanicTask {
    claim: Claim,
}

impl Task for PanicTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        guarded(|| {
            // Panicking with the lock held poisons it, as a bug in training would.
            let _model = self.claim.model();
            panic!("debugPanic('task')")
        })
    }

    fn resolve(&mut self, _env: Env, output: ()) -> Result<()> {
        caught(|| Ok(output))
    }
}
