//! A [`Description`]'s graph as ONNX nodes: one walk over its nodes, so the
//! zoo's models and a user's own come out of the same code. Each operation
//! maps to standard operators whose attributes reproduce our arithmetic:
//!
//! | ours | ONNX |
//! | --- | --- |
//! | conv2d | `Conv` (bias, zero padding on every side) |
//! | linear | `Gemm` with `transB` (PyTorch's out×in weight) |
//! | batch norm | `BatchNormalization`, inference form: running statistics, eps 1e-5 |
//! | ReLU | `Relu` |
//! | max pool | `MaxPool`, no padding, windows that fit (`ceil_mode` 0) |
//! | average pool | `AveragePool`, zero padding counted in the divisor (`count_include_pad` 1) |
//! | global average pool | `GlobalAveragePool`, then `Flatten` (ours gives C features, ONNX C×1×1) |
//! | flatten | `Flatten` from axis 1 (channel by channel, as PyTorch's `view(n, -1)`) |
//! | addition | `Add` |
//! | concatenation | `Concat` along the channels |
//!
//! Names follow `torch.onnx.export`: a node of a named step is
//! `/incep1/branch1x1/Conv` and writes `/incep1/branch1x1/Conv_output_0`;
//! an unnamed one is `/Relu_7` (its index among the description's nodes).
//! Parameters are read under their `state_dict` names (`conv1.weight`).

use super::proto::attribute_proto::AttributeType;
use super::proto::{AttributeProto, NodeProto};
use crate::model::describe::NodeId;
use crate::model::{Description, LayerKind, Op, BN_EPS};

/// The nodes that compute `description`'s logits from its images: they read
/// `input` and the parameters, and the last of them writes `output`.
pub(crate) fn nodes(description: &Description, input: &str, output: &str) -> Vec<NodeProto> {
    let mut graph = Graph { description, nodes: Vec::new() };
    let mut tensors: Vec<String> = Vec::with_capacity(description.nodes.len());
    for (id, node) in description.nodes.iter().enumerate() {
        let inputs: Vec<String> = node.inputs.iter().map(|&i| tensors[i].clone()).collect();
        let tensor = match node.op {
            Op::Input => input.to_string(),
            op => graph.operation(id, op, inputs),
        };
        tensors.push(tensor);
    }
    // The description's last node holds the logits; nothing reads it.
    if let Some(last) = graph.nodes.last_mut() {
        last.output = vec![output.to_string()];
    }
    graph.nodes
}

struct Graph<'a> {
    description: &'a Description,
    nodes: Vec<NodeProto>,
}

impl Graph<'_> {
    /// Emits the nodes of description node `id` (`op` on the tensors
    /// `inputs`); returns the tensor that holds its result.
    fn operation(&mut self, id: NodeId, op: Op, inputs: Vec<String>) -> String {
        let x = || inputs[0].clone();
        match op {
            Op::Input => unreachable!("the input is the graph's input"),
            Op::Layer(l) => {
                let layer = &self.description.layers[l];
                let param = |suffix: &str| format!("{}.{suffix}", layer.name);
                match layer.kind {
                    LayerKind::Conv2d { kernel, stride, padding, .. } => self.emit(
                        id,
                        "Conv",
                        vec![x(), param("weight"), param("bias")],
                        vec![ints("kernel_shape", &[kernel; 2]), ints("strides", &[stride; 2]), ints("pads", &[padding; 4])],
                    ),
                    LayerKind::Linear { .. } => self.emit(id, "Gemm", vec![x(), param("weight"), param("bias")], vec![int("transB", 1)]),
                    LayerKind::BatchNorm2d { .. } => self.emit(
                        id,
                        "BatchNormalization",
                        vec![x(), param("weight"), param("bias"), param("running_mean"), param("running_var")],
                        vec![float("epsilon", BN_EPS as f32)],
                    ),
                }
            }
            Op::Relu => self.emit(id, "Relu", inputs, vec![]),
            Op::MaxPool { kernel, stride } => self.emit(
                id,
                "MaxPool",
                inputs,
                vec![ints("kernel_shape", &[kernel; 2]), ints("strides", &[stride; 2]), int("ceil_mode", 0)],
            ),
            Op::AvgPool { kernel, stride, padding } => self.emit(
                id,
                "AveragePool",
                inputs,
                vec![
                    ints("kernel_shape", &[kernel; 2]),
                    ints("strides", &[stride; 2]),
                    ints("pads", &[padding; 4]),
                    int("count_include_pad", 1),
                    int("ceil_mode", 0),
                ],
            ),
            Op::GlobalAvgPool => {
                let pooled = self.emit(id, "GlobalAveragePool", inputs, vec![]);
                self.emit(id, "Flatten", vec![pooled], vec![int("axis", 1)])
            }
            Op::Flatten => self.emit(id, "Flatten", inputs, vec![int("axis", 1)]),
            // A residual connection adds two tensors; a sum of more is a chain of additions.
            Op::Add => {
                let mut sum = x();
                for (k, term) in inputs.iter().enumerate().skip(1) {
                    let label = if k == 1 { "Add".to_string() } else { format!("Add_{}", k - 1) };
                    sum = self.emit_as(id, &label, "Add", vec![sum, term.clone()], vec![]);
                }
                sum
            }
            Op::Concat => self.emit(id, "Concat", inputs, vec![int("axis", 1)]),
        }
    }

    /// Adds an `op_type` node for description node `id`, named by the
    /// step's name (or `id`) and its operator; returns the tensor it writes.
    fn emit(&mut self, id: NodeId, op_type: &str, input: Vec<String>, attribute: Vec<AttributeProto>) -> String {
        self.emit_as(id, op_type, op_type, input, attribute)
    }

    /// [`Self::emit`] under `label` instead of the operator's name, for a
    /// second node of one operator in a description node.
    fn emit_as(&mut self, id: NodeId, label: &str, op_type: &str, input: Vec<String>, attribute: Vec<AttributeProto>) -> String {
        // Step names are unique and never hold a slash, so a named step's
        // nodes (two or more slashes) and unnamed ones (one) never clash.
        let name = match self.description.step_name(id) {
            Some(step) => format!("/{}/{label}", step.replace('.', "/")),
            None => format!("/{label}_{id}"),
        };
        let output = format!("{name}_output_0");
        self.nodes.push(NodeProto {
            name: Some(name),
            op_type: Some(op_type.to_string()),
            input,
            output: vec![output.clone()],
            attribute,
            ..Default::default()
        });
        output
    }
}

fn attribute(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto { name: Some(name.to_string()), r#type: Some(kind as i32), ..Default::default() }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto { i: Some(value), ..attribute(name, AttributeType::Int) }
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto { ints: values.iter().map(|&v| v as i64).collect(), ..attribute(name, AttributeType::Ints) }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto { f: Some(value), ..attribute(name, AttributeType::Float) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::describe::Node;
    use crate::model::{lower, ModelSpec};

    /// No step of the JSON format adds more than two tensors, but a
    /// description may: such a sum is exported as a chain of additions.
    #[test]
    fn a_sum_of_three_is_a_chain_of_additions() {
        let spec = r#"{ "format": "googlenet-native/model", "version": 1, "name": "sum", "input": [1, 4, 4],
            "layers": [ { "type": "residual", "body": { "type": "relu" } }, { "type": "flatten" } ] }"#;
        let mut description = lower(&ModelSpec::parse(spec).unwrap()).unwrap();
        // input, relu, add(relu, input), flatten: the addition gets a third term, the ReLU again.
        let add = description.nodes.iter().position(|n| n.op == Op::Add).unwrap();
        description.nodes[add] = Node { op: Op::Add, inputs: vec![1, 0, 1], name: None };
        let nodes = nodes(&description, "x", "y");
        let adds: Vec<(&str, &[String])> = nodes
            .iter()
            .filter(|n| n.op_type.as_deref() == Some("Add"))
            .map(|n| (n.name.as_deref().unwrap(), n.input.as_slice()))
            .collect();
        let relu = "/Relu_1_output_0".to_string();
        assert_eq!(adds, [("/Add_2", &[relu.clone(), "x".to_string()][..]), ("/Add_1_2", &["/Add_2_output_0".to_string(), relu][..])]);
        assert_eq!(nodes.last().unwrap().output, ["y"]);
    }
}
