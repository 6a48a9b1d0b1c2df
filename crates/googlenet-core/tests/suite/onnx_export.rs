//! ONNX export, read back with prost: every zoo model and a model of one's
//! own come out as one graph of standard operators over the parameters
//! under their `state_dict` names, with the input and output contract, the
//! opset and the metadata. (ONNX Runtime runs the files in
//! test/onnx-export.test.ts; scripts/check-onnx.py runs `onnx.checker`.)

use std::collections::{HashMap, HashSet};

use crate::common::temp_dir;
use candle_core::{Device, Tensor};
use googlenet_core::data::{MNIST_MEAN, MNIST_STD};
use googlenet_core::model::{build_model, build_model_from_spec, LayerKind, Model, ModelInfo, ModelSpec, Op, CATALOG};
use googlenet_core::onnx::proto::attribute_proto::AttributeType;
use googlenet_core::onnx::proto::tensor_proto::DataType;
use googlenet_core::onnx::proto::tensor_shape_proto::dimension::Value as Dim;
use googlenet_core::onnx::proto::{type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, ValueInfoProto};
use googlenet_core::onnx::{export_onnx, keys, onnx_bytes, onnx_model, BATCH_DIM, INPUT_NAME, OPSET, OUTPUT_NAME, PRODUCER};
use prost::Message;

/// The operators the issue allows, and nothing else.
const STANDARD_OPS: &[&str] =
    &["Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Add", "Concat", "Flatten", "Gemm"];

/// A model of one's own (shared with test/onnx-export.test.ts and
/// scripts/onnx-check-prepare.mjs): a residual block with batch norm and a
/// projection shortcut, a concat of a conv and a padded average pool,
/// global average pooling.
const CUSTOM: &str = include_str!("../../../../test/fixtures/onnx-custom-net.json");

fn info() -> ModelInfo {
    ModelInfo { model: String::new(), depth: None, epochs: 3, test_accuracy: Some(0.25), version: "9.8.7".into() }
}

/// Every zoo model at its default depth, and the custom one, with batch
/// norm statistics moved off their initial values by a forward in training.
fn models() -> Vec<Box<dyn Model>> {
    let mut models: Vec<Box<dyn Model>> = CATALOG.iter().map(|e| build_model(e.name, 3, &Device::Cpu).unwrap()).collect();
    models.push(build_model_from_spec(&ModelSpec::parse(CUSTOM).unwrap(), 3, &Device::Cpu).unwrap());
    for model in &models {
        model.set_training(true);
        model.forward(&Tensor::randn(0.5f32, 1.0, (4, 1, 28, 28), &Device::Cpu).unwrap()).unwrap();
        model.set_training(false);
    }
    models
}

fn graph(proto: &ModelProto) -> &GraphProto {
    proto.graph.as_ref().expect("a graph")
}

/// A value's element type and dimensions (a symbolic one as its name).
fn tensor_type(value: &ValueInfoProto) -> (i32, Vec<String>) {
    let Some(type_proto::Value::TensorType(t)) = value.r#type.as_ref().and_then(|t| t.value.as_ref()) else { panic!("a tensor type") };
    let dims = t.shape.as_ref().unwrap().dim.iter().map(|d| match d.value.as_ref().unwrap() {
        Dim::DimValue(v) => v.to_string(),
        Dim::DimParam(p) => p.clone(),
    });
    (t.elem_type.unwrap(), dims.collect())
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> &'a AttributeProto {
    node.attribute.iter().find(|a| a.name.as_deref() == Some(name)).unwrap_or_else(|| panic!("{:?} has no {name}", node.name))
}

fn ints(node: &NodeProto, name: &str) -> Vec<i64> {
    let a = attr(node, name);
    assert_eq!(a.r#type, Some(AttributeType::Ints as i32));
    a.ints.clone()
}

fn int(node: &NodeProto, name: &str) -> i64 {
    let a = attr(node, name);
    assert_eq!(a.r#type, Some(AttributeType::Int as i32));
    a.i.unwrap()
}

fn node<'a>(graph: &'a GraphProto, name: &str) -> &'a NodeProto {
    graph.node.iter().find(|n| n.name.as_deref() == Some(name)).unwrap_or_else(|| panic!("no node {name}"))
}

#[test]
fn the_contract_opset_and_metadata() {
    for model in models() {
        let proto = ModelProto::decode(onnx_bytes(model.as_ref(), &info()).unwrap().as_slice()).unwrap();
        let name = model.name();
        assert_eq!(proto.ir_version, Some(8), "{name}: opset 17 goes with IR version 8");
        assert_eq!(proto.opset_import.len(), 1);
        assert_eq!((proto.opset_import[0].domain.as_deref(), proto.opset_import[0].version), (Some(""), Some(OPSET)));
        assert_eq!((proto.producer_name.as_deref(), proto.producer_version.as_deref()), (Some(PRODUCER), Some("9.8.7")));
        let g = graph(&proto);
        let [c, h, w] = model.description().input;
        assert_eq!(g.input.iter().map(|i| i.name.as_deref().unwrap()).collect::<Vec<_>>(), [INPUT_NAME], "{name}");
        let dims = |d: &[usize]| [BATCH_DIM.to_string()].into_iter().chain(d.iter().map(|v| v.to_string())).collect::<Vec<_>>();
        assert_eq!(tensor_type(&g.input[0]), (DataType::Float as i32, dims(&[c, h, w])), "{name}: input images N×C×H×W");
        assert_eq!(g.output.iter().map(|o| o.name.as_deref().unwrap()).collect::<Vec<_>>(), [OUTPUT_NAME], "{name}");
        assert_eq!(tensor_type(&g.output[0]), (DataType::Float as i32, dims(&[10])), "{name}: output logits N×10");

        let meta: HashMap<&str, &str> =
            proto.metadata_props.iter().map(|e| (e.key.as_deref().unwrap(), e.value.as_deref().unwrap())).collect();
        assert_eq!(meta[keys::MEAN].parse::<f32>().unwrap(), MNIST_MEAN, "{name}");
        assert_eq!(meta[keys::STD].parse::<f32>().unwrap(), MNIST_STD, "{name}");
        let labels: Vec<String> = serde_json::from_str(meta[keys::LABELS]).unwrap();
        assert_eq!(labels, (0..10).map(|d| d.to_string()).collect::<Vec<_>>(), "{name}: labels \"0\"..\"9\"");
        assert_eq!(meta[keys::MODEL], name);
        assert_eq!(meta[keys::DESCRIPTION], model.description().spec.to_json(), "{name}: its description, as a safetensors file has it");
        assert_eq!(ModelSpec::parse(meta[keys::DESCRIPTION]).unwrap(), model.description().spec);
        assert_eq!((meta[keys::EPOCHS], meta[keys::TEST_ACCURACY]), ("3", "0.25"));
        assert!(meta[keys::NORMALIZATION].contains("(pixel / 255 - mean[c]) / std[c]"), "{name}");
    }
}

#[test]
fn initializers_are_the_parameters_and_buffers_under_their_names() {
    for model in models() {
        let proto = onnx_model(model.as_ref(), &info()).unwrap();
        let g = graph(&proto);
        let own: Vec<_> = model.parameters().iter().chain(model.buffers()).collect();
        assert_eq!(
            g.initializer.iter().map(|t| t.name.as_deref().unwrap()).collect::<Vec<_>>(),
            own.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            "{}: state_dict names and order",
            model.name()
        );
        for (tensor, param) in g.initializer.iter().zip(&own) {
            assert_eq!(tensor.data_type, Some(DataType::Float as i32));
            assert_eq!(tensor.dims, param.var.dims().iter().map(|&d| d as i64).collect::<Vec<_>>(), "{}", param.name);
            let values: Vec<f32> =
                tensor.raw_data.as_ref().unwrap().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            assert_eq!(values, param.var.flatten_all().unwrap().to_vec1::<f32>().unwrap(), "{}: the values, bit for bit", param.name);
        }
        // The running statistics are the trained ones, not the initial zeros and ones.
        let stats: Vec<&str> = model.buffers().iter().map(|b| b.name.as_str()).collect();
        for t in g.initializer.iter().filter(|t| stats.contains(&t.name.as_deref().unwrap())) {
            assert!(t.raw_data.as_ref().unwrap().chunks_exact(4).any(|b| ![0.0, 1.0].contains(&f32::from_le_bytes(b.try_into().unwrap()))));
        }
    }
}

#[test]
fn the_graph_is_standard_operators_in_order_one_per_step() {
    for model in models() {
        let description = model.description();
        let proto = onnx_model(model.as_ref(), &info()).unwrap();
        let g = graph(&proto);
        let name = model.name();
        // Every input is the images, a parameter or an earlier node's output; names are unique.
        let mut known: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_deref().unwrap()).collect();
        known.insert(INPUT_NAME);
        let mut node_names = HashSet::new();
        let mut read = HashSet::new();
        for n in &g.node {
            let op = n.op_type.as_deref().unwrap();
            assert!(STANDARD_OPS.contains(&op), "{name}: {op} is not one of the standard operators");
            assert_eq!(n.domain.as_deref().unwrap_or(""), "", "{name}: the default domain");
            assert!(node_names.insert(n.name.clone().unwrap()), "{name}: node {:?} twice", n.name);
            for i in &n.input {
                assert!(known.contains(i.as_str()), "{name}: {:?} reads {i} before it is written", n.name);
                read.insert(i.as_str());
            }
            assert_eq!(n.output.len(), 1);
            assert!(known.insert(&n.output[0]), "{name}: {} written twice", n.output[0]);
        }
        assert_eq!(g.node.last().unwrap().output, [OUTPUT_NAME], "{name}: the last node writes the logits");
        // Every parameter and every node's output (but the logits) is used.
        for t in &g.initializer {
            assert!(read.contains(t.name.as_deref().unwrap()), "{name}: {:?} is never read", t.name);
        }
        for n in &g.node[..g.node.len() - 1] {
            assert!(read.contains(n.output[0].as_str()), "{name}: {:?}'s output is never read", n.name);
        }
        // One ONNX node per step (two for a global average pool: it flattens too).
        let count = |op: &str| g.node.iter().filter(|n| n.op_type.as_deref() == Some(op)).count();
        let layers = |f: fn(&LayerKind) -> bool| description.layers.iter().filter(|l| f(&l.kind)).count();
        let ops = |f: fn(&Op) -> bool| description.nodes.iter().filter(|n| f(&n.op)).count();
        assert_eq!(count("Conv"), layers(|k| matches!(k, LayerKind::Conv2d { .. })), "{name}");
        assert_eq!(count("Gemm"), layers(|k| matches!(k, LayerKind::Linear { .. })), "{name}");
        assert_eq!(count("BatchNormalization"), layers(|k| matches!(k, LayerKind::BatchNorm2d { .. })), "{name}");
        assert_eq!(count("Relu"), ops(|o| *o == Op::Relu), "{name}");
        assert_eq!(count("MaxPool"), ops(|o| matches!(o, Op::MaxPool { .. })), "{name}");
        assert_eq!(count("AveragePool"), ops(|o| matches!(o, Op::AvgPool { .. })), "{name}");
        assert_eq!(count("GlobalAveragePool"), ops(|o| *o == Op::GlobalAvgPool), "{name}");
        assert_eq!(count("Flatten"), ops(|o| matches!(o, Op::Flatten | Op::GlobalAvgPool)), "{name}");
        assert_eq!(count("Add"), ops(|o| *o == Op::Add), "{name}");
        assert_eq!(count("Concat"), ops(|o| *o == Op::Concat), "{name}");
    }
}

#[test]
fn the_attributes_reproduce_our_layers() {
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let proto = onnx_model(model.as_ref(), &info()).unwrap();
    let g = graph(&proto);
    // DESIGN.md §1: a 5×5 conv with padding 2 in the 5×5 branch.
    let conv = node(g, "/incep1/branch5x5_2/Conv");
    assert_eq!(conv.input, ["/incep1/branch5x5_1/Conv_output_0", "incep1.branch5x5_2.weight", "incep1.branch5x5_2.bias"]);
    assert_eq!((ints(conv, "kernel_shape"), ints(conv, "strides"), ints(conv, "pads")), (vec![5, 5], vec![1, 1], vec![2, 2, 2, 2]));
    assert!(conv.attribute.iter().all(|a| a.name.as_deref() != Some("group")), "one group, the default");
    // 2×2 max pools, no padding, windows that fit.
    let pool = node(g, "/pool1/MaxPool");
    assert_eq!((ints(pool, "kernel_shape"), ints(pool, "strides"), int(pool, "ceil_mode")), (vec![2, 2], vec![2, 2], 0));
    // The branch pool: 3×3, stride 1, zero padding 1, divisor always 9.
    let avg = g.node.iter().find(|n| n.op_type.as_deref() == Some("AveragePool")).unwrap();
    assert_eq!((ints(avg, "kernel_shape"), ints(avg, "strides"), ints(avg, "pads")), (vec![3, 3], vec![1, 1], vec![1, 1, 1, 1]));
    assert_eq!((int(avg, "count_include_pad"), int(avg, "ceil_mode")), (1, 0));
    // Branches concatenated along the channels, in order.
    let concat = node(g, "/incep1/Concat");
    assert_eq!(int(concat, "axis"), 1);
    let branches = ["branch1x1", "branch5x5_2", "branch3x3_3", "branch_pool"].map(|b| format!("/incep1/{b}/Conv_output_0"));
    assert_eq!(concat.input, branches);
    // The linear layer: x·Wᵀ + b with PyTorch's out×in weight.
    let fc = node(g, "/fc/Gemm");
    assert_eq!((fc.input[1].as_str(), fc.input[2].as_str(), int(fc, "transB")), ("fc.weight", "fc.bias", 1));
    assert_eq!(int(node(g, "/flatten/Flatten"), "axis"), 1);
}

#[test]
fn batch_norm_is_the_inference_form_with_our_epsilon() {
    let model = build_model("resnet-original", 1, &Device::Cpu).unwrap();
    let proto = onnx_model(model.as_ref(), &info()).unwrap();
    // A step's dotted name (layer1.0.bn1) is its path in the node's name.
    let bn = node(graph(&proto), "/layer1/0/bn1/BatchNormalization");
    let suffixes = ["weight", "bias", "running_mean", "running_var"];
    assert_eq!(bn.input[1..], suffixes.map(|s| format!("layer1.0.bn1.{s}")));
    let eps = attr(bn, "epsilon");
    assert_eq!((eps.r#type, eps.f), (Some(AttributeType::Float as i32), Some(googlenet_core::model::BN_EPS as f32)));
    assert!(bn.attribute.iter().all(|a| a.name.as_deref() != Some("training_mode")), "inference: training_mode 0, the default");
    assert_eq!(bn.output.len(), 1, "inference form: one output, no running statistics updated");
}

#[test]
fn the_file_is_written_atomically_and_decodes() {
    let dir = temp_dir("onnx-export");
    let model = build_model("lenet5", 2, &Device::Cpu).unwrap();
    let path = dir.join("lenet5.onnx");
    export_onnx(model.as_ref(), &info(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, onnx_bytes(model.as_ref(), &info()).unwrap());
    assert_eq!(ModelProto::decode(bytes.as_slice()).unwrap(), onnx_model(model.as_ref(), &info()).unwrap());
    // Renamed into place: nothing else is left beside it.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A folder is refused, not replaced, and the error names it.
    let err = export_onnx(model.as_ref(), &info(), &dir).unwrap_err().to_string();
    assert!(err.contains(dir.to_str().unwrap()) && err.contains("directory"), "{err}");
    let missing = dir.join("no-such-folder").join("x.onnx");
    let err = export_onnx(model.as_ref(), &info(), &missing).unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");
}
