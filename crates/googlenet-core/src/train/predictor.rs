//! Predictions: class scores for images handed over as pixels, in one call
//! ([`predict_logits`], [`predict_probabilities`]) or call after call on one
//! model ([`Predictor`]), which keeps what the CPU engine prepares for a
//! model between calls.
//!
//! Why keep it: making the engine (its plan, a copy of the weights, the
//! batch norms folded into the convolutions, the Winograd filters, the
//! workspaces) costs more than running it on one image; a server or a
//! page that predicts one image at a time would pay it every time.

use candle_core::Device;

use super::evaluate::check_input_shape;
use super::runner::Runner;
use crate::data::{normalize_bytes, ImageShape, Normalization};
use crate::engine::{softmax_in_place, Engine};
use crate::model::Model;
use crate::options::EVAL_BATCH_SIZE;
use crate::{Error, Result};

/// A pixel as callers hand it to [`predict_probabilities`] and
/// [`predict_logits`]: a byte (0..255) or a float already scaled to [0, 1].
/// Bytes are normalized a batch at a time, so a large input is never held
/// as floats whole.
pub trait Pixel: Copy + Send + Sync {
    /// Appends the inputs of `pixels` (whole images, each its channels'
    /// planes of `plane` values one after another) to `out`, normalized as
    /// the model's inputs are.
    fn normalize(pixels: &[Self], normalization: &Normalization, plane: usize, out: &mut Vec<f32>);
}

impl Pixel for u8 {
    fn normalize(pixels: &[u8], normalization: &Normalization, plane: usize, out: &mut Vec<f32>) {
        normalize_bytes(&normalization.tables(), pixels, plane, out);
    }
}

impl Pixel for f32 {
    fn normalize(pixels: &[f32], normalization: &Normalization, plane: usize, out: &mut Vec<f32>) {
        let channels = normalization.channels();
        for (i, channel) in pixels.chunks_exact(plane).enumerate() {
            let c = i % channels;
            out.extend(channel.iter().map(|&x| normalization.unit(c, x)));
        }
    }
}

/// Predictions on one model, call after call, keeping the CPU engine made
/// for it between calls. It serves the model it first ran (another model
/// makes it start again); whoever changes that model's weights or running
/// statistics (training, loading) must call [`Predictor::forget`] first.
#[derive(Default)]
pub struct Predictor {
    /// The engine, and the address of the model it was made for.
    kept: Option<(usize, Box<Engine>)>,
}

impl Predictor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops the engine kept: the next call makes it again from the model.
    pub fn forget(&mut self) {
        self.kept = None;
    }

    /// Whether an engine is kept (for tests).
    pub fn keeps_engine(&self) -> bool {
        self.kept.is_some()
    }

    /// Class probabilities (softmax of the logits) for `count` images of
    /// `shape` made of [`Pixel`]s (bytes, or floats scaled to [0, 1]; each
    /// image's channels one plane after another), run in batches of
    /// [`EVAL_BATCH_SIZE`]; returns count×[`Model::classes`] values.
    pub fn probabilities<P: Pixel>(
        &mut self,
        model: &dyn Model,
        pixels: &[P],
        count: usize,
        shape: ImageShape,
        device: &Device,
    ) -> Result<Vec<f32>> {
        let mut out = self.logits(model, pixels, count, shape, device)?;
        out.chunks_exact_mut(model.classes()).for_each(softmax_in_place);
        Ok(out)
    }

    /// The logits (class scores before softmax, what an exported ONNX
    /// file's `logits` output holds) of `count` images, as
    /// [`Predictor::probabilities`] takes them; count×[`Model::classes`] values.
    pub fn logits<P: Pixel>(
        &mut self,
        model: &dyn Model,
        pixels: &[P],
        count: usize,
        shape: ImageShape,
        device: &Device,
    ) -> Result<Vec<f32>> {
        let io = model.io();
        check_input_shape(&io, shape, None)?;
        if pixels.len() != count * shape.bytes() {
            return Err(Error::InvalidArgument(format!("{} pixel values are not {count} images of {shape}", pixels.len())));
        }
        model.set_training(false);
        let normalization = &model.data_info().normalization;
        let plane = shape.height * shape.width;
        // The address of the model's data, to know it again (not its vtable's).
        let id = model as *const dyn Model as *const () as usize;
        let kept = self.kept.take().filter(|(of, _)| *of == id).map(|(_, engine)| engine);
        let mut runner = Runner::reusing(model, device, kept)?;
        let mut out = Vec::with_capacity(count * io.classes);
        for chunk in pixels.chunks(EVAL_BATCH_SIZE * shape.bytes()) {
            let n = chunk.len() / shape.bytes();
            let mut normalized = Vec::with_capacity(chunk.len());
            P::normalize(chunk, normalization, plane, &mut normalized);
            out.extend(runner.logits(normalized, n)?);
        }
        self.kept = runner.into_engine().map(|engine| (id, engine));
        Ok(out)
    }
}

/// [`Predictor::probabilities`] in one call, keeping nothing.
pub fn predict_probabilities<P: Pixel>(
    model: &dyn Model,
    pixels: &[P],
    count: usize,
    shape: ImageShape,
    device: &Device,
) -> Result<Vec<f32>> {
    Predictor::new().probabilities(model, pixels, count, shape, device)
}

/// [`Predictor::logits`] in one call, keeping nothing.
pub fn predict_logits<P: Pixel>(model: &dyn Model, pixels: &[P], count: usize, shape: ImageShape, device: &Device) -> Result<Vec<f32>> {
    Predictor::new().logits(model, pixels, count, shape, device)
}
