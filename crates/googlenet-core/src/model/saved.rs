//! Models on disk: safetensors files with PyTorch's names and shapes, so
//! `torch.load_state_dict` reads ours and we read what
//! `safetensors.torch.save_file(model.state_dict(), path)` writes.
//!
//! Besides the tensors (parameters, then BatchNorm buffers with PyTorch's
//! `num_batches_tracked`), the file's metadata says which model it is and
//! how it was trained. Files written elsewhere have no such metadata; the
//! model is then recognized by its tensor names.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::TensorView;

use super::{catalog, load_weights, lower, DataInfo, Model, ModelSpec, Network, CATALOG};
use crate::files::{io_error, open_regular, too_large, write_atomically};
use crate::{Error, Result};

/// The largest model or checkpoint file read: 256 MiB, over ten times a
/// checkpoint of the largest model here (a 16-unit ResNet with its momentum
/// and the training order of a full IDX data set), so a device, a huge file
/// or a header that lies is refused before its body is read.
pub const MAX_MODEL_FILE_BYTES: u64 = 256 << 20;
/// The largest safetensors header read (names, shapes, metadata and a
/// checkpoint's history): 16 MiB.
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// What a saved model's metadata records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelInfo {
    /// The model name (`googlenet`).
    pub model: String,
    /// Residual units per stage, for the ResNets.
    pub depth: Option<usize>,
    /// Epochs the weights were trained for.
    pub epochs: usize,
    /// Test accuracy after the last of them, if evaluated.
    pub test_accuracy: Option<f64>,
    /// The version of googlenet-native that wrote the file.
    pub version: String,
}

const FORMAT: &str = "googlenet-native";
/// The metadata key of the model's description (docs/model-description.md).
const DESCRIPTION: &str = "description";

impl ModelInfo {
    pub(crate) fn to_metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("model".to_string(), self.model.clone()),
            ("epochs".to_string(), self.epochs.to_string()),
            ("version".to_string(), self.version.clone()),
        ]);
        if let Some(d) = self.depth {
            m.insert("depth".into(), d.to_string());
        }
        if let Some(a) = self.test_accuracy {
            m.insert("test_accuracy".into(), a.to_string());
        }
        m
    }

    pub(crate) fn from_metadata(m: &HashMap<String, String>, path: &Path) -> Result<Self> {
        let number = |key: &str| -> Result<Option<f64>> {
            m.get(key)
                .map(|v| v.parse::<f64>().map_err(|_| Error::data(path, format!("metadata '{key}' is not a number: {v:?}"))))
                .transpose()
        };
        Ok(Self {
            model: m.get("model").cloned().unwrap_or_default(),
            depth: number("depth")?.map(|d| d as usize),
            epochs: number("epochs")?.map_or(0, |e| e as usize),
            test_accuracy: number("test_accuracy")?,
            version: m.get("version").cloned().unwrap_or_default(),
        })
    }
}

/// The tensors a file holds for `model`: its parameters and buffers, plus a
/// `num_batches_tracked` per BatchNorm layer, which PyTorch's state_dict has.
pub(crate) fn state_dict(model: &dyn Model) -> Result<Vec<(String, Tensor)>> {
    let mut tensors: Vec<(String, Tensor)> = model
        .parameters()
        .iter()
        .chain(model.buffers())
        .map(|p| Ok((p.name.clone(), p.var.as_tensor().to_device(&Device::Cpu)?)))
        .collect::<Result<_>>()?;
    for buffer in model.buffers().iter().filter_map(|b| b.name.strip_suffix(".running_mean")) {
        tensors.push((format!("{buffer}.num_batches_tracked"), Tensor::zeros((), DType::I64, &Device::Cpu)?));
    }
    Ok(tensors)
}

/// Writes `model` and `info` to `path` as safetensors. The file is written
/// beside the target and renamed into place, so a crash never leaves half a
/// file at `path`.
pub fn save_model(model: &dyn Model, info: &ModelInfo, path: &Path) -> Result<()> {
    write_atomically(path, &model_bytes(model, info)?).map(drop)
}

/// The bytes [`save_model`] writes, for callers with no file system (a
/// browser tab downloads them; [`load_model_bytes`] reads them back).
pub fn model_bytes(model: &dyn Model, info: &ModelInfo) -> Result<Vec<u8>> {
    safetensors_bytes(state_dict(model)?, model_metadata(model, info))
}

/// The metadata of a file holding `model`: `info`, and the model's
/// description, so that any model (the zoo's or a user's) is rebuilt from
/// the file alone.
pub(crate) fn model_metadata(model: &dyn Model, info: &ModelInfo) -> HashMap<String, String> {
    let mut metadata = info.to_metadata();
    metadata.insert(DESCRIPTION.to_string(), model.description().spec.to_json());
    metadata.extend(model.data_info().to_metadata());
    metadata
}

/// Writes `tensors` with `metadata` to `path` as [`safetensors_bytes`], atomically.
pub(crate) fn write_safetensors(path: &Path, tensors: Vec<(String, Tensor)>, metadata: HashMap<String, String>) -> Result<()> {
    write_atomically(path, &safetensors_bytes(tensors, metadata)?).map(drop)
}

/// `tensors` (f32, u32 or i64; others are stored as f32) with `metadata`,
/// as a safetensors file's bytes.
fn safetensors_bytes(tensors: Vec<(String, Tensor)>, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, t)| {
            let shape = t.dims().to_vec();
            let t = t.flatten_all()?.to_device(&Device::Cpu)?;
            let (dtype, bytes): (_, Vec<u8>) = match t.dtype() {
                DType::I64 => (safetensors::Dtype::I64, t.to_vec1::<i64>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
                DType::U32 => (safetensors::Dtype::U32, t.to_vec1::<u32>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
                _ => (safetensors::Dtype::F32, t.to_dtype(DType::F32)?.to_vec1::<f32>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
            };
            Ok((name, dtype, shape, bytes))
        })
        .collect::<Result<_>>()?;
    let views = owned
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            let view = TensorView::new(*dtype, shape.clone(), bytes).map_err(|e| Error::Internal(format!("{name}: {e}")))?;
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::Internal(e.to_string()))
}

/// The bytes of the safetensors file at `path` (`what`: "model file").
/// Only a regular file of at most [`MAX_MODEL_FILE_BYTES`] is read, and its
/// header is read and checked first: the body is read only when the header
/// parses and describes exactly the bytes the file has.
pub(crate) fn read_safetensors_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let (file, len, mut bytes, _) = read_header(path, what)?;
    file.take(len - bytes.len() as u64).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    Ok(bytes)
}

/// The `__metadata__` of the safetensors file at `path`, read without its body.
pub(crate) fn read_safetensors_metadata(path: &Path, what: &str) -> Result<HashMap<String, String>> {
    let (.., header) = read_header(path, what)?;
    Ok(header.metadata().clone().unwrap_or_default())
}

/// Opens the safetensors file at `path` and reads its header (see
/// [`read_safetensors_file`]): the open file, its length, the bytes read so
/// far (the length prefix and the header) and the header parsed.
fn read_header(path: &Path, what: &str) -> Result<(std::fs::File, u64, Vec<u8>, safetensors::tensor::Metadata)> {
    let (mut file, len) = open_regular(path)?;
    if len > MAX_MODEL_FILE_BYTES {
        return Err(too_large(path, MAX_MODEL_FILE_BYTES, &format!("a {what}")));
    }
    let damaged = |why: String| Error::data(path, format!("not a complete safetensors {what} ({why})"));
    let mut bytes = vec![0u8; 8];
    file.read_exact(&mut bytes).map_err(|_| damaged(format!("{len} bytes, too short for a header")))?;
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len == 0 || header_len > MAX_HEADER_BYTES || header_len > len - 8 {
        return Err(damaged(format!("its header length {header_len} does not fit a file of {len} bytes")));
    }
    (&mut file).take(header_len).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    let header: safetensors::tensor::Metadata = serde_json::from_slice(&bytes[8..]).map_err(|e| damaged(format!("header: {e}")))?;
    let described = 8 + header_len + header.data_len() as u64;
    if described != len {
        return Err(damaged(format!("its header describes {described} bytes, the file has {len}")));
    }
    Ok((file, len, bytes, header))
}

/// The metadata and tensors (on the CPU) of safetensors `bytes` read from
/// `path`. Fails with a data error naming the file when they are not a
/// complete safetensors file; `what` says what it should have been ("model file").
pub(crate) fn read_safetensors(bytes: &[u8], path: &Path, what: &str) -> Result<(HashMap<String, String>, HashMap<String, Tensor>)> {
    let damaged = |e: &dyn std::fmt::Display| Error::data(path, format!("not a complete safetensors {what} ({e})"));
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| damaged(&e))?;
    // A shape like [0, 2^40, 2^40] holds no element, which safetensors
    // accepts, but candle's strides (products of the dimensions) overflow.
    let addressable = |shape: &[usize]| shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d.max(1))).is_some();
    if let Some((name, info)) = header.tensors().into_iter().find(|(_, info)| !addressable(&info.shape)) {
        return Err(damaged(&format!("tensor '{name}' has shape {:?}, too large to address", info.shape)));
    }
    let metadata = header.metadata().clone().unwrap_or_default();
    let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| damaged(&e))?;
    Ok((metadata, tensors))
}

/// Reads a model saved by [`save_model`], or a PyTorch `state_dict` saved
/// with safetensors (recognized by its tensor names), onto `device`. A
/// training checkpoint's weights load too (its optimizer state is skipped).
/// Fails with a data error naming the file when it is not a complete
/// safetensors file or its tensors do not fit the model.
pub fn load_model(path: &Path, device: &Device) -> Result<(Box<dyn Model>, ModelInfo)> {
    load_model_bytes(&read_safetensors_file(path, "model file")?, path, device)
}

/// [`load_model`] on the bytes of a file; `path` only names it in errors.
/// Bytes over [`MAX_MODEL_FILE_BYTES`] are refused as such a file is.
pub fn load_model_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<(Box<dyn Model>, ModelInfo)> {
    if bytes.len() as u64 > MAX_MODEL_FILE_BYTES {
        return Err(too_large(path, MAX_MODEL_FILE_BYTES, "a model file"));
    }
    let (metadata, mut tensors) = read_safetensors(bytes, path, "model file")?;
    tensors.retain(|name, _| !is_training_state(name));
    model_from_tensors(path, &metadata, &tensors, device)
}

/// Names under which a checkpoint keeps training state beside the weights.
pub(crate) const OPTIMIZER_PREFIX: &str = "optimizer.";
pub(crate) const TRAINING_PREFIX: &str = "training.";

fn is_training_state(name: &str) -> bool {
    name.starts_with(OPTIMIZER_PREFIX) || name.starts_with(TRAINING_PREFIX)
}

/// The model `tensors` (read from `path`) hold, with its metadata.
pub(crate) fn model_from_tensors(
    path: &Path,
    metadata: &HashMap<String, String>,
    tensors: &HashMap<String, Tensor>,
    device: &Device,
) -> Result<(Box<dyn Model>, ModelInfo)> {
    let ours = metadata.get("format").map(String::as_str) == Some(FORMAT);
    let mut info = if ours { ModelInfo::from_metadata(metadata, path)? } else { ModelInfo::default() };
    let description = match metadata.get(DESCRIPTION).filter(|_| ours) {
        Some(json) => {
            let spec = ModelSpec::parse(json).map_err(|e| Error::data(path, format!("its model description: {e}")))?;
            info.model.clone_from(&spec.name);
            lower(&spec).map_err(|e| Error::data(path, format!("its model description: {e}")))?
        }
        None => {
            // Files from before descriptions were saved, and PyTorch's: a zoo model by name or by its tensors.
            if info.model.is_empty() {
                (info.model, info.depth) = recognize(tensors).map_err(|why| Error::data(path, why))?;
            }
            catalog::describe(&info.model, info.depth).map_err(|e| Error::data(path, e.to_string()))?
        }
    };
    let mut model = Network::new(description, 0, device).map_err(|e| Error::data(path, format!("its model description: {e}")))?;
    // Files written before models kept their data hold MNIST's digits.
    let data = if ours { DataInfo::from_metadata(metadata).map_err(|why| Error::data(path, why))? } else { None };
    if let Some(data) = data {
        model = model.with_data(data).map_err(|e| Error::data(path, e.to_string()))?;
    }
    load_weights(&model, tensors).map_err(|e| Error::data(path, e.to_string()))?;
    Ok((Box::new(model), info))
}

/// The model, and its depth for those that have one, whose parameters have
/// exactly the tensor names of `tensors` (buffers aside). Models that differ
/// only in the order of their operations (three of the ResNet designs) have
/// the same names: such a file is refused rather than guessed.
fn recognize(tensors: &HashMap<String, Tensor>) -> std::result::Result<(String, Option<usize>), String> {
    let is_buffer = |n: &str| n.ends_with(".running_mean") || n.ends_with(".running_var") || n.ends_with(".num_batches_tracked");
    let mut names: Vec<&str> = tensors.keys().map(String::as_str).filter(|n| !is_buffer(n)).collect();
    names.sort_unstable();
    let mut found = Vec::new();
    for entry in CATALOG {
        let depths: Vec<Option<usize>> = match entry.depth {
            None => vec![None],
            Some(rule) => (rule.min..=rule.max).map(Some).collect(),
        };
        for depth in depths {
            let Ok(description) = entry.describe(depth) else { continue };
            let params = description.params();
            if params.len() != names.len() {
                continue;
            }
            let mut own: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            own.sort_unstable();
            if own == names {
                found.push((entry.name.to_string(), depth));
            }
        }
    }
    match found.len() {
        0 => Err("its tensors match none of the models this package knows".into()),
        1 => Ok(found.remove(0)),
        _ => {
            let models: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
            Err(format!(
                "its tensors fit {} alike (they differ only in the order of their operations); save it with metadata format={FORMAT}, model=<name> (and depth) to say which",
                models.join(", ")
            ))
        }
    }
}
