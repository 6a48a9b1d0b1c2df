use candle_core::Device;

use super::runner::Runner;
use crate::data::{numbered_classes, Dataset, ImageShape};
use crate::engine::cross_entropy;
use crate::model::{Model, ModelIo};
use crate::options::{check_value, Command};
use crate::{Error, Result};

/// Accuracy and mean cross-entropy of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalResult {
    pub correct: usize,
    pub total: usize,
    pub accuracy: f64,
    pub loss: f64,
}

/// Refuses images of `shape` for the model `io` describes; `from`, where
/// they came from, is named in the message.
pub fn check_input_shape(io: &ModelIo, shape: ImageShape, from: Option<&str>) -> Result<()> {
    let [channels, height, width] = io.input;
    let from = from.map(|f| format!(" from {f}")).unwrap_or_default();
    let kind = |c: usize| match c {
        1 => "greyscale (1 channel)".to_string(),
        3 => "colour (3 channels)".to_string(),
        c => format!("{c}-channel"),
    };
    if channels != shape.channels {
        return Err(Error::InvalidArgument(format!(
            "model \"{}\" takes {} images; the images{from} are {}",
            io.name,
            kind(channels),
            kind(shape.channels)
        )));
    }
    if (height, width) != (shape.height, shape.width) {
        return Err(Error::InvalidArgument(format!(
            "model \"{}\" takes {height}x{width} images (got {}x{}{from})",
            io.name, shape.height, shape.width
        )));
    }
    Ok(())
}

/// Refuses a dataset the model `io` describes cannot run on: an empty one,
/// one of another image size, or one with labels beyond the model's class
/// scores. `name` (the argument) and `source` (where its images came from)
/// are named in the message.
pub fn check_dataset(io: &ModelIo, data: &Dataset, name: &str, source: Option<&str>) -> Result<()> {
    let what = source.map_or_else(|| name.to_string(), |s| format!("{name} ({s})"));
    if data.is_empty() {
        return Err(Error::InvalidArgument(format!("{what} must not be empty")));
    }
    check_input_shape(io, data.shape(), source)?;
    check_class_names(io, data, &what)?;
    let top = data.max_label() as usize;
    if top >= io.classes {
        return Err(Error::InvalidArgument(format!(
            "model \"{}\" gives {} class scores (labels 0..{}), but {what} has label {top}: its last layer needs at least {} outputs",
            io.name,
            io.classes,
            io.classes.saturating_sub(1),
            top + 1
        )));
    }
    Ok(())
}

/// Refuses data whose classes have names other than the model's (the
/// first classes of the model, in order: a test split may lack the last).
/// Data whose classes are only numbered ("0", "1", …: arrays, IDX files)
/// is checked by its labels alone.
fn check_class_names(io: &ModelIo, data: &Dataset, what: &str) -> Result<()> {
    let names = data.classes();
    if names == numbered_classes(names.len()) || io.class_names.starts_with(names) {
        return Ok(());
    }
    let list = |names: &[String]| {
        let shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
        let more = names.len().saturating_sub(shown.len());
        format!("{}{}", shown.join(", "), if more > 0 { format!(", … ({more} more)") } else { String::new() })
    };
    Err(Error::InvalidArgument(format!(
        "{what} has the classes [{}], model \"{}\" was made for [{}]",
        list(names),
        io.name,
        list(&io.class_names)
    )))
}

/// Runs the model over `data` in batches of `batch_size` (no gradients kept).
pub fn evaluate(model: &dyn Model, data: &Dataset, batch_size: usize, device: &Device) -> Result<EvalResult> {
    Ok(evaluate_with_predictions(model, data, batch_size, device)?.0)
}

/// [`evaluate`], plus the predicted class of every image in dataset order
/// (what a confusion matrix or a list of mistakes is made from).
pub fn evaluate_with_predictions(model: &dyn Model, data: &Dataset, batch_size: usize, device: &Device) -> Result<(EvalResult, Vec<u8>)> {
    let io = model.io();
    check_dataset(&io, data, "dataset", None)?;
    check_value(Command::Evaluate, "batchSize", batch_size)?;
    model.set_training(false);
    let mut runner = Runner::new(model, device, None)?;
    let (mut correct, mut loss_sum) = (0usize, 0f64);
    let mut predictions = Vec::with_capacity(data.len());
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let logits = runner.logits_of(data, chunk)?;
        for (row, &i) in logits.chunks_exact(io.classes).zip(chunk) {
            let (label, predicted) = (data.labels()[i] as usize, argmax(row));
            loss_sum += cross_entropy(row, label) as f64;
            correct += usize::from(predicted == label);
            predictions.push(predicted as u8);
        }
    }
    let total = data.len();
    let accuracy = if total == 0 { 0.0 } else { correct as f64 / total as f64 };
    let loss = if total == 0 { 0.0 } else { loss_sum / total as f64 };
    Ok((EvalResult { correct, total, accuracy, loss }, predictions))
}

/// Index of the largest value (the first, on ties).
pub(crate) fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}
