//! Checkpoints on disk: a safetensors file holding the model's weights
//! (PyTorch names, so `Model.load` and PyTorch read them like a saved
//! model) plus the optimizer's buffers (`optimizer.momentum.<parameter>`
//! for SGD, `optimizer.exp_avg.…` and `optimizer.exp_avg_sq.…` for Adam)
//! and the training order, with the recipe (optimizer and schedule
//! settings included), the optimizer's step count and the rest of
//! [`TrainState`] in the metadata. A checkpoint written before there was a
//! choice of optimizer reads as SGD at a constant rate.
//!
//! A folder of checkpoints holds one file per point reached,
//! `checkpoint-e0003.safetensors` after 3 epochs and
//! `checkpoint-e0003-b00412.safetensors` for a run stopped 412 batches into
//! the fourth; resuming takes the furthest. Every file is written beside
//! its final name and renamed into place.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::runner::check_optimizer_buffers;
use super::{EpochSummary, FitConfig, RecipeSettings, TrainState};
use crate::model::saved::{
    model_from_tensors, model_metadata, read_safetensors, read_safetensors_file, read_safetensors_metadata, state_dict, write_safetensors,
    OPTIMIZER_PREFIX, TRAINING_PREFIX,
};
use crate::model::{Model, ModelInfo};
use crate::{Error, Result};

const ORDER: &str = "training.order";
const KIND: &str = "checkpoint";

/// A checkpoint read back: what the model is, the recipe it follows and
/// where the run stands.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub info: ModelInfo,
    pub config: FitConfig,
    pub state: TrainState,
    /// The file it was read from.
    pub path: PathBuf,
}

/// The file name for `state` (see the module documentation).
pub fn checkpoint_file_name(state: &TrainState) -> String {
    match state.batches_done {
        0 => format!("checkpoint-e{:04}.safetensors", state.epochs_done),
        b => format!("checkpoint-e{:04}-b{b:05}.safetensors", state.epochs_done),
    }
}

/// The progress the checkpoint file at `path` stands for by its name:
/// (whole epochs, batches of the next one); `None` for other names.
pub fn checkpoint_progress(path: &Path) -> Option<(usize, usize)> {
    path.file_name()?.to_str().and_then(progress_of)
}

/// The progress a checkpoint file name stands for: (epochs, batches).
fn progress_of(name: &str) -> Option<(usize, usize)> {
    let stem = name.strip_prefix("checkpoint-e")?.strip_suffix(".safetensors")?;
    let (epochs, batches) = match stem.split_once("-b") {
        Some((e, b)) => (e, b.parse().ok()?),
        None => (stem, 0),
    };
    Some((epochs.parse().ok()?, batches))
}

/// Writes a checkpoint of `model` (holding the weights of `state`) into
/// `dir`, creating the folder if needed; returns the file's path.
pub fn save_checkpoint(dir: &Path, model: &dyn Model, info: &ModelInfo, config: &FitConfig, state: &TrainState) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let path = dir.join(checkpoint_file_name(state));
    let mut tensors = state_dict(model)?;
    tensors.extend(state.optimizer.iter().map(|(name, t)| (format!("{OPTIMIZER_PREFIX}{name}"), t.clone())));
    tensors.push((ORDER.to_string(), Tensor::from_slice(&state.order, state.order.len(), &Device::Cpu)?));
    let info = ModelInfo { epochs: state.epochs_done, test_accuracy: state.test_accuracy, ..info.clone() };
    let mut metadata = model_metadata(model, &info);
    metadata.extend([
        ("kind".to_string(), KIND.to_string()),
        ("epochs_planned".to_string(), config.epochs.to_string()),
        ("batch_size".to_string(), config.batch_size.to_string()),
        ("seed".to_string(), config.seed.to_string()),
        ("optimizer_step".to_string(), state.optimizer_step.to_string()),
        ("batches_done".to_string(), state.batches_done.to_string()),
        ("rng_word_pos".to_string(), state.rng_word_pos.to_string()),
        ("epoch_loss_sum".to_string(), state.epoch_loss_sum.to_string()),
        ("history".to_string(), state.history.iter().map(EpochSummary::to_json).collect::<Vec<_>>().join("\n")),
    ]);
    metadata.extend(config.settings().entries().into_iter().filter_map(|(_, key, value)| Some((key.to_string(), value?))));
    write_safetensors(&path, tensors, metadata)?;
    Ok(path)
}

/// The checkpoint files in `dir` with the progress their names stand for.
fn checkpoints_in(dir: &Path) -> Result<Vec<((usize, usize), PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        if let Some(progress) = entry.file_name().to_str().and_then(progress_of) {
            found.push((progress, entry.path()));
        }
    }
    Ok(found)
}

/// The furthest checkpoint in `dir`.
/// Fails when `dir` cannot be read or holds no checkpoint.
pub fn latest_checkpoint(dir: &Path) -> Result<PathBuf> {
    let best = checkpoints_in(dir)?.into_iter().max_by_key(|(progress, _)| *progress);
    best.map(|(_, path)| path).ok_or_else(|| Error::data(dir, "holds no checkpoint (checkpoint-e*.safetensors)"))
}

/// Makes `dir` ready for a new run's checkpoints. A folder that holds
/// another run's checkpoints is refused (a new run would overwrite some of
/// them and leave others, and resuming would then mix two runs), unless
/// `start_over` asks to delete them first. The error names the folder and
/// the run found there. Without `start_over` it changes nothing, so it also
/// serves to check a folder before work starts.
pub fn prepare_checkpoint_dir(dir: &Path, start_over: bool) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(Error::InvalidArgument(format!("{}: not a folder, so it cannot hold checkpoints", dir.display())))
        }
        Ok(_) => {}
        // A folder still to be made holds nothing.
        Err(_) => return Ok(()),
    }
    let found = checkpoints_in(dir)?;
    let Some((_, furthest)) = found.iter().max_by_key(|(progress, _)| *progress) else { return Ok(()) };
    if start_over {
        for (_, path) in &found {
            std::fs::remove_file(path).map_err(|source| Error::Io { path: path.clone(), source })?;
        }
        return Ok(());
    }
    let run = match read_safetensors_metadata(furthest, "checkpoint file") {
        Ok(m) => format!(
            "{} checkpoint(s) of a {} run, the furthest {}",
            found.len(),
            m.get("model").map_or("model's", String::as_str),
            file_name(furthest)
        ),
        Err(_) => format!("{} checkpoint file(s), the furthest {}", found.len(), file_name(furthest)),
    };
    Err(Error::InvalidArgument(format!(
        "{}: holds {run}; resume that run, start over (deleting them), or choose another folder",
        dir.display()
    )))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Reads a checkpoint: `path` is a checkpoint file, or a folder whose
/// furthest checkpoint is taken. The model is built on `device`.
/// Fails with a data error naming the file when it is damaged or not a
/// checkpoint.
pub fn load_checkpoint(path: &Path, device: &Device) -> Result<(Box<dyn Model>, Checkpoint)> {
    let path = if path.is_dir() { latest_checkpoint(path)? } else { path.to_path_buf() };
    load_checkpoint_bytes(&read_safetensors_file(&path, "checkpoint file")?, &path, device)
}

/// [`load_checkpoint`] on the bytes of a checkpoint file; `path` names it
/// in errors and in [`Checkpoint::path`].
pub fn load_checkpoint_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<(Box<dyn Model>, Checkpoint)> {
    let path = path.to_path_buf();
    let (metadata, mut tensors) = read_safetensors(bytes, &path, "checkpoint file")?;
    if metadata.get("kind").map(String::as_str) != Some(KIND) {
        return Err(Error::data(&path, "is a model file, not a training checkpoint (write one with --checkpoint-dir)"));
    }
    let field = |key: &str| -> Result<&String> {
        metadata.get(key).ok_or_else(|| Error::data(&path, format!("checkpoint metadata lacks '{key}'")))
    };
    fn parse<T: std::str::FromStr>(path: &Path, key: &str, value: &str) -> Result<T> {
        value.parse().map_err(|_| Error::data(path, format!("checkpoint metadata '{key}' is not a valid number: {value:?}")))
    }
    let number = |key: &str| -> Result<usize> { parse(&path, key, field(key)?) };
    let real = |key: &str| -> Result<f64> { parse(&path, key, field(key)?) };
    let settings = RecipeSettings::from_metadata(|key| metadata.get(key)).map_err(|why| Error::data(&path, why))?;
    if settings.get("lr").is_none() {
        field("lr")?;
    }
    let (epochs, batch_size, seed) = (number("epochs_planned")?, number("batch_size")?, parse(&path, "seed", field("seed")?)?);
    let config =
        FitConfig::from_settings(epochs, batch_size, seed, &settings).map_err(|e| Error::data(&path, format!("checkpoint recipe: {e}")))?;
    // Written since there was a choice of optimizer; before, SGD kept no count.
    let optimizer_step = metadata.get("optimizer_step").map_or(Ok(0), |v| parse(&path, "optimizer_step", v))?;
    let order = tensors.remove(ORDER).ok_or_else(|| Error::data(&path, format!("checkpoint lacks '{ORDER}'")))?;
    let order = order
        .to_dtype(candle_core::DType::U32)
        .and_then(|t| t.flatten_all()?.to_vec1::<u32>())
        .map_err(|e| Error::data(&path, e.to_string()))?;
    let mut optimizer: Vec<(String, Tensor)> =
        tensors.iter().filter_map(|(name, t)| name.strip_prefix(OPTIMIZER_PREFIX).map(|n| (n.to_string(), t.clone()))).collect();
    optimizer.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(unknown) = tensors.keys().find(|n| n.starts_with(TRAINING_PREFIX)) {
        return Err(Error::data(&path, format!("checkpoint holds unknown training state '{unknown}'")));
    }
    tensors.retain(|name, _| !name.starts_with(OPTIMIZER_PREFIX));
    let (model, info) = model_from_tensors(&path, &metadata, &tensors, device)?;
    check_optimizer_buffers(model.as_ref(), &config.optimizer, &optimizer).map_err(|e| Error::data(&path, format!("checkpoint's {e}")))?;
    let history = field("history")?
        .lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| {
            EpochSummary::from_json(l)
                .map_err(|why| Error::data(&path, format!("checkpoint metadata 'history' is damaged: epoch line {} {why}", i + 1)))
        })
        .collect::<Result<Vec<_>>>()?;
    let state = TrainState {
        epochs_done: info.epochs,
        batches_done: number("batches_done")?,
        rng_word_pos: parse(&path, "rng_word_pos", field("rng_word_pos")?)?,
        order,
        optimizer,
        optimizer_step,
        epoch_loss_sum: real("epoch_loss_sum")?,
        test_accuracy: info.test_accuracy,
        history,
    };
    Ok((model, Checkpoint { info, config, state, path }))
}
