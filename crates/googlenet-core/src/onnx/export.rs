//! A model as an ONNX file: its description's graph ([`super::graph`]),
//! its parameters and BatchNorm statistics as initializers under their
//! `state_dict` names, the input and output contract, and metadata that
//! says how to feed it and what its classes are.

use prost::Message;

use super::graph;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::{dimension, Dimension};
use super::proto::{
    type_proto, GraphProto, ModelProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, Version,
};
use crate::files::write_atomically;
use crate::model::{Model, ModelInfo, Shape};
use crate::{Error, Result};
use candle_core::{DType, Device};

/// The ONNX operator set the files use (the default domain's version 17):
/// every operator here has had its current form since opset 14 or earlier,
/// and ONNX Runtime, TensorRT, OpenVINO and Core ML tools all read it.
pub const OPSET: i64 = 17;
/// The IR version that goes with [`OPSET`] (ONNX's table: opset 17 is IR 8).
const IR_VERSION: Version = Version::IrVersion2021730;
/// The graph's input: N×C×H×W float32 images, normalized (see [`INPUT_DOC`]).
pub const INPUT_NAME: &str = "images";
/// The graph's output: N×classes float32 logits (scores before softmax).
pub const OUTPUT_NAME: &str = "logits";
/// The symbolic name of the batch dimension, which any size fills.
pub const BATCH_DIM: &str = "batch";
/// Who wrote the file (`producer_name`).
pub const PRODUCER: &str = "googlenet-native";

/// Metadata keys (`metadata_props`), for tools that read the file.
pub mod keys {
    /// The mean a pixel scaled to [0, 1] is centred by: a number for grey
    /// images (`0.1307` for MNIST), a JSON array with one per channel for colour.
    pub const MEAN: &str = "mean";
    /// The standard deviation it is divided by, written as the mean is: `0.3081`.
    pub const STD: &str = "std";
    /// The input contract in words.
    pub const NORMALIZATION: &str = "normalization";
    /// The class names, a JSON array of strings, one per logit: `["0", …, "9"]` for digits.
    pub const LABELS: &str = "labels";
    /// The model's name.
    pub const MODEL: &str = "model";
    /// The model's description (docs/model-description.md), as JSON.
    pub const DESCRIPTION: &str = "description";
    /// Epochs the weights were trained for.
    pub const EPOCHS: &str = "epochs";
    /// Test accuracy after the last of them, where evaluated.
    pub const TEST_ACCURACY: &str = "test_accuracy";
}

/// The input contract, as the file's metadata and its input's doc string say it.
const INPUT_DOC: &str = "images[n, c, y, x] = (pixel / 255 - mean[c]) / std[c] for pixel bytes 0..255 \
     (as the training images were; MNIST's digits are light on dark), mean and std from this file's metadata";

/// The ONNX model of `model` with `info` (its version names the producer's).
pub fn onnx_model(model: &dyn Model, info: &ModelInfo) -> Result<ModelProto> {
    let description = model.description();
    let classes = match description.shapes()?.last() {
        Some(&Shape::Flat(classes)) => classes,
        other => return Err(Error::Internal(format!("model {} ends in {other:?}, not class scores", description.name))),
    };
    let [c, h, w] = description.input;
    let graph = GraphProto {
        name: Some(description.name.clone()),
        node: graph::nodes(description, INPUT_NAME, OUTPUT_NAME),
        initializer: initializers(model)?,
        input: vec![value_info(INPUT_NAME, &[c, h, w], INPUT_DOC)],
        output: vec![value_info(OUTPUT_NAME, &[classes], "class scores before softmax, one per label in the metadata")],
        ..Default::default()
    };
    Ok(ModelProto {
        ir_version: Some(IR_VERSION as i64),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }],
        producer_name: Some(PRODUCER.to_string()),
        producer_version: Some(info.version.clone()),
        doc_string: Some(format!("{} ({} classes); input: {INPUT_DOC}", description.name, classes)),
        graph: Some(graph),
        metadata_props: metadata(model, info),
        ..Default::default()
    })
}

/// [`onnx_model`] in the protobuf encoding of an `.onnx` file.
pub fn onnx_bytes(model: &dyn Model, info: &ModelInfo) -> Result<Vec<u8>> {
    Ok(onnx_model(model, info)?.encode_to_vec())
}

/// Writes `model` to `path` as an ONNX file, atomically (as every file
/// here is written: a crash never leaves half a file at `path`).
pub fn export_onnx(model: &dyn Model, info: &ModelInfo, path: &std::path::Path) -> Result<()> {
    write_atomically(path, &onnx_bytes(model, info)?).map(drop)
}

/// Every parameter, then every buffer, in `state_dict` order: float32,
/// little-endian in `raw_data`, under the names a safetensors file has.
fn initializers(model: &dyn Model) -> Result<Vec<TensorProto>> {
    model
        .parameters()
        .iter()
        .chain(model.buffers())
        .map(|p| {
            let values = p.var.as_tensor().to_device(&Device::Cpu)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            Ok(TensorProto {
                name: Some(p.name.clone()),
                dims: p.var.dims().iter().map(|&d| d as i64).collect(),
                data_type: Some(DataType::Float as i32),
                raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
                ..Default::default()
            })
        })
        .collect()
}

/// A float32 tensor of `dims` per image, the batch in front.
fn value_info(name: &str, dims: &[usize], doc: &str) -> ValueInfoProto {
    let batch = Dimension { value: Some(dimension::Value::DimParam(BATCH_DIM.to_string())), ..Default::default() };
    let fixed = dims.iter().map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)), ..Default::default() });
    let tensor = type_proto::Tensor {
        elem_type: Some(DataType::Float as i32),
        shape: Some(TensorShapeProto { dim: std::iter::once(batch).chain(fixed).collect() }),
    };
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }),
        doc_string: Some(doc.to_string()),
        ..Default::default()
    }
}

/// One number per channel: the number itself for one channel, else a JSON array.
fn per_channel(values: &[f32]) -> String {
    match values {
        [one] => one.to_string(),
        _ => serde_json::to_string(values).expect("numbers serialize"),
    }
}

fn metadata(model: &dyn Model, info: &ModelInfo) -> Vec<StringStringEntryProto> {
    let data = model.data_info();
    let mut entries = vec![
        (keys::MEAN, per_channel(data.normalization.mean())),
        (keys::STD, per_channel(data.normalization.std())),
        (keys::NORMALIZATION, INPUT_DOC.to_string()),
        (keys::LABELS, serde_json::to_string(&data.classes).expect("strings serialize")),
        (keys::MODEL, model.name().to_string()),
        (keys::DESCRIPTION, model.description().spec.to_json()),
        (keys::EPOCHS, info.epochs.to_string()),
    ];
    if let Some(accuracy) = info.test_accuracy {
        entries.push((keys::TEST_ACCURACY, accuracy.to_string()));
    }
    entries.into_iter().map(|(key, value)| StringStringEntryProto { key: Some(key.to_string()), value: Some(value) }).collect()
}
