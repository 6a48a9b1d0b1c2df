//! A model as a graph: the layers that own parameters, in registration
//! order (the order they appear in the [`ModelSpec`] it is lowered from),
//! and the operations over them. Everything
//! else about a model is derived from this one description: parameter
//! names, shapes and init ([`Description::params`]), shapes as data flows and
//! the errors that name the layer that does not fit ([`Description::infer`]),
//! summaries, the candle lowering ([`super::Network`]) and the CPU engine's
//! plan ([`crate::engine`]).
//!
//! Shapes are per image, as PyTorch lays them out: C×H×W maps, or features.

use std::fmt;

use super::spec::ModelSpec;
use crate::{Error, Result};

/// Index of a layer in [`Description::layers`].
pub type LayerId = usize;
/// Index of a node in [`Description::nodes`]; node 0 is the input.
pub type NodeId = usize;

/// What a layer with parameters computes. Every convolution and linear
/// layer has a bias; batch norm is PyTorch's `BatchNorm2d` (affine, running
/// statistics, momentum 0.1, eps 1e-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Conv2d { in_channels: usize, out_channels: usize, kernel: usize, stride: usize, padding: usize },
    Linear { in_features: usize, out_features: usize },
    BatchNorm2d { channels: usize },
}

/// A layer with parameters, under its PyTorch module name (`incep1.branch1x1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub name: String,
    pub kind: LayerKind,
}

/// One operation of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The images (node 0 only).
    Input,
    /// A layer with parameters, applied once.
    Layer(LayerId),
    Relu,
    MaxPool {
        kernel: usize,
        stride: usize,
    },
    /// Zero padding counted in the divisor, as PyTorch's default
    /// (`count_include_pad=True`).
    AvgPool {
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    /// The mean of each channel: C×H×W to C features.
    GlobalAvgPool,
    /// C×H×W to C·H·W features, channel by channel.
    Flatten,
    /// The element-wise sum of its inputs (a residual connection).
    Add,
    /// Its inputs stacked along the channels, in order.
    Concat,
}

/// What a model takes and gives: enough to check data and images against
/// it (while the model itself may be busy training).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelIo {
    pub name: String,
    /// Channels, height, width of one image.
    pub input: [usize; 3],
    /// Class scores per image.
    pub classes: usize,
    /// The name of each class score (numbered "0", "1", … for a bare description).
    pub class_names: Vec<String>,
}

/// An operation on the outputs of earlier nodes. Named nodes are the steps
/// a trace and a summary show (layers show under their own name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub name: Option<String>,
}

/// The shape of one image's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Channels × height × width.
    Map { c: usize, h: usize, w: usize },
    /// A vector of features.
    Flat(usize),
}

impl Shape {
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Map { c, h, w } => vec![c, h, w],
            Shape::Flat(f) => vec![f],
        }
    }

    pub fn elem_count(&self) -> usize {
        self.dims().iter().product()
    }

    /// With a batch of `n` in front, as an error shows it.
    pub(crate) fn batched(&self, n: usize) -> Vec<usize> {
        let mut dims = vec![n];
        dims.extend(self.dims());
        dims
    }
}

/// How a parameter starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// PyTorch's default for conv and linear weights and biases:
    /// U(−1/√fan_in, 1/√fan_in).
    Uniform {
        fan_in: usize,
    },
    Constant(f32),
}

/// A tensor a layer owns: a trainable parameter or a buffer (running statistics).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// PyTorch's `state_dict` key (`incep1.branch1x1.weight`).
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    pub layer: LayerId,
}

impl ParamSpec {
    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A whole model, lowered from its [`ModelSpec`] (see [`super::lower`]);
/// valid by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    /// What it was lowered from: what files and `describe` write.
    pub spec: ModelSpec,
    /// The name it is created by (`googlenet`).
    pub name: String,
    /// The image size it is built for: channels, height, width.
    pub input: [usize; 3],
    /// Layers in registration order: the order of their parameters in a
    /// `state_dict` and of the draws that initialize them.
    pub layers: Vec<Layer>,
    /// In an order where every node comes after its inputs; the last is the output.
    pub nodes: Vec<Node>,
}

impl Description {
    /// The node that holds the logits.
    pub fn output(&self) -> NodeId {
        self.nodes.len() - 1
    }

    /// The input height and width the model is built for.
    pub fn input_size(&self) -> (usize, usize) {
        (self.input[1], self.input[2])
    }

    /// How many class scores it gives per image: its last layer's outputs
    /// (a description ends in a vector, [`check`]).
    pub fn classes(&self) -> usize {
        self.shapes().ok().and_then(|s| s.last().copied()).map_or(0, |s| s.elem_count())
    }

    /// What it takes and gives, for the checks that run before it does.
    pub fn io(&self) -> ModelIo {
        ModelIo {
            name: self.name.clone(),
            input: self.input,
            classes: self.classes(),
            class_names: crate::data::numbered_classes(self.classes()),
        }
    }

    /// The trainable parameters, in `state_dict` order.
    pub fn params(&self) -> Vec<ParamSpec> {
        self.tensors(false)
    }

    /// The buffers (batch norm running statistics), in `state_dict` order.
    pub fn buffers(&self) -> Vec<ParamSpec> {
        self.tensors(true)
    }

    fn tensors(&self, buffers: bool) -> Vec<ParamSpec> {
        let mut specs = Vec::new();
        for (id, layer) in self.layers.iter().enumerate() {
            let mut push = |suffix: &str, shape: Vec<usize>, init: Init| {
                specs.push(ParamSpec { name: format!("{}.{suffix}", layer.name), shape, init, layer: id })
            };
            match (layer.kind, buffers) {
                (LayerKind::Conv2d { in_channels, out_channels, kernel, .. }, false) => {
                    let fan_in = in_channels * kernel * kernel;
                    push("weight", vec![out_channels, in_channels, kernel, kernel], Init::Uniform { fan_in });
                    push("bias", vec![out_channels], Init::Uniform { fan_in });
                }
                (LayerKind::Linear { in_features, out_features }, false) => {
                    push("weight", vec![out_features, in_features], Init::Uniform { fan_in: in_features });
                    push("bias", vec![out_features], Init::Uniform { fan_in: in_features });
                }
                (LayerKind::BatchNorm2d { channels }, false) => {
                    push("weight", vec![channels], Init::Constant(1.0));
                    push("bias", vec![channels], Init::Constant(0.0));
                }
                (LayerKind::BatchNorm2d { channels }, true) => {
                    push("running_mean", vec![channels], Init::Constant(0.0));
                    push("running_var", vec![channels], Init::Constant(1.0));
                }
                (_, true) => {}
            }
        }
        specs
    }

    /// The node's name, or what it is and where, for errors.
    pub fn label(&self, id: NodeId) -> String {
        let node = &self.nodes[id];
        match (&node.name, node.op) {
            (Some(name), _) => name.clone(),
            (None, Op::Layer(l)) => self.layers[l].name.clone(),
            (None, Op::Input) => "input".into(),
            (None, op) => format!("{} after {}", op, self.label(node.inputs[0])),
        }
    }

    /// The trace's name of a node: its own, or its layer's; `None` for the
    /// steps a trace does not show.
    pub fn step_name(&self, id: NodeId) -> Option<&str> {
        let node = &self.nodes[id];
        match (&node.name, node.op) {
            (Some(name), _) => Some(name),
            (None, Op::Layer(l)) => Some(&self.layers[l].name),
            _ => None,
        }
    }

    /// Every node's output shape for `n` images of `input` (C×H×W), in node
    /// order, reporting each to `on_node` as it is found. Fails on the first
    /// node whose input does not fit, naming it and the shapes.
    pub fn infer(&self, n: usize, input: Shape, on_node: &mut dyn FnMut(NodeId, Shape)) -> Result<Vec<Shape>> {
        let mut shapes: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        for (id, node) in self.nodes.iter().enumerate() {
            let ins: Vec<Shape> = node.inputs.iter().map(|&i| shapes[i]).collect();
            let shape = match node.op {
                Op::Input => input,
                Op::Layer(l) => layer_output(&self.layers[l], ins[0], n)?,
                op => op_output(op, &ins).map_err(|expects| {
                    let got: Vec<Vec<usize>> = ins.iter().map(|s| s.batched(n)).collect();
                    let got = if got.len() == 1 { format!("{:?}", got[0]) } else { format!("{got:?}") };
                    Error::InvalidArgument(format!("layer {} ({op}) takes {expects}, got {got}", self.label(id)))
                })?,
            };
            on_node(id, shape);
            shapes.push(shape);
        }
        Ok(shapes)
    }

    /// The output shapes of every node at the model's own input size.
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        let [c, h, w] = self.input;
        self.infer(1, Shape::Map { c, h, w }, &mut |_, _| {})
    }
}

/// The output shape of `layer` on `x` (with a batch of `n`, for the error),
/// or an error naming the layer and the shapes.
pub(crate) fn layer_output(layer: &Layer, x: Shape, n: usize) -> Result<Shape> {
    let fits = |expects: String| Error::InvalidArgument(format!("layer {} {expects}, got {:?}", layer.name, x.batched(n)));
    match (layer.kind, x) {
        (LayerKind::Conv2d { in_channels, out_channels, kernel, stride, padding }, Shape::Map { c, h, w })
            if c == in_channels && h + 2 * padding >= kernel && w + 2 * padding >= kernel =>
        {
            let out = |len: usize| (len + 2 * padding - kernel) / stride + 1;
            Ok(Shape::Map { c: out_channels, h: out(h), w: out(w) })
        }
        (LayerKind::Conv2d { in_channels, out_channels, kernel, stride, padding }, _) => {
            let stride = if stride == 1 { String::new() } else { format!(", stride {stride}") };
            let min = kernel.saturating_sub(2 * padding).max(1);
            Err(fits(format!(
                "({kernel}×{kernel} conv, {in_channels}→{out_channels} channels, padding {padding}{stride}) takes N×{in_channels}×H×W with H, W ≥ {min}"
            )))
        }
        (LayerKind::Linear { in_features, out_features }, Shape::Flat(f)) if f == in_features => Ok(Shape::Flat(out_features)),
        (LayerKind::Linear { in_features, out_features }, _) => Err(fits(format!("takes N×{in_features} features (out {out_features})"))),
        (LayerKind::BatchNorm2d { channels }, Shape::Map { c, .. }) if c == channels => Ok(x),
        (LayerKind::BatchNorm2d { channels }, _) => Err(fits(format!("(batch norm over {channels} channels) takes N×{channels}×H×W"))),
    }
}

/// The output shape of an operation without parameters, or what it expects.
pub(crate) fn op_output(op: Op, ins: &[Shape]) -> std::result::Result<Shape, String> {
    let map = |s: Shape| match s {
        Shape::Map { c, h, w } => Some((c, h, w)),
        Shape::Flat(_) => None,
    };
    match op {
        Op::Input | Op::Layer(_) => unreachable!("handled by infer"),
        Op::Relu => Ok(ins[0]),
        Op::MaxPool { kernel, stride } | Op::AvgPool { kernel, stride, padding: _ } => {
            let padding = if let Op::AvgPool { padding, .. } = op { padding } else { 0 };
            let min = kernel.saturating_sub(2 * padding).max(1);
            match map(ins[0]) {
                Some((c, h, w)) if h + 2 * padding >= kernel && w + 2 * padding >= kernel => {
                    let out = |len: usize| (len + 2 * padding - kernel) / stride + 1;
                    Ok(Shape::Map { c, h: out(h), w: out(w) })
                }
                Some((c, ..)) => Err(format!("N×{c}×H×W with H, W ≥ {min}")),
                None => Err(format!("N×C×H×W with H, W ≥ {min}")),
            }
        }
        Op::GlobalAvgPool => map(ins[0]).map(|(c, _, _)| Shape::Flat(c)).ok_or_else(|| "N×C×H×W".to_string()),
        Op::Flatten => Ok(Shape::Flat(ins[0].elem_count())),
        Op::Add => {
            if ins.iter().all(|s| *s == ins[0]) {
                Ok(ins[0])
            } else {
                Err("inputs of one shape".into())
            }
        }
        Op::Concat => {
            let maps: Option<Vec<_>> = ins.iter().map(|&s| map(s)).collect();
            match maps {
                Some(maps) if maps.iter().all(|&(_, h, w)| (h, w) == (maps[0].1, maps[0].2)) => {
                    Ok(Shape::Map { c: maps.iter().map(|m| m.0).sum(), h: maps[0].1, w: maps[0].2 })
                }
                _ => Err("N×C×H×W inputs of one height and width".into()),
            }
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Input => write!(f, "input"),
            Op::Layer(_) => write!(f, "layer"),
            Op::Relu => write!(f, "ReLU"),
            Op::MaxPool { kernel, stride } if stride == kernel => write!(f, "{kernel}×{kernel} max pool"),
            Op::MaxPool { kernel, stride } => write!(f, "{kernel}×{kernel} max pool, stride {stride}"),
            Op::AvgPool { kernel, stride, padding } => write!(f, "{kernel}×{kernel} average pool, stride {stride}, padding {padding}"),
            Op::GlobalAvgPool => write!(f, "global average pool"),
            Op::Flatten => write!(f, "flatten"),
            Op::Add => write!(f, "addition"),
            Op::Concat => write!(f, "concatenation"),
        }
    }
}

/// The rules of a description the lowering does not enforce by its
/// construction: nodes in order, arities, every layer applied once, unique
/// step names, and an output of class scores.
pub(crate) fn check(d: &Description) -> Result<()> {
    let invalid = |why: String| Err(Error::InvalidArgument(format!("model '{}': {why}", d.name)));
    let mut uses = vec![0usize; d.layers.len()];
    for (id, node) in d.nodes.iter().enumerate() {
        if node.inputs.iter().any(|&i| i >= id) {
            return invalid(format!("node {id} reads a node that comes after it"));
        }
        let arity_ok = match node.op {
            Op::Input => id == 0 && node.inputs.is_empty(),
            Op::Add | Op::Concat => node.inputs.len() >= 2,
            _ => id > 0 && node.inputs.len() == 1,
        };
        if !arity_ok {
            return invalid(format!("{} has {} inputs", d.label(id), node.inputs.len()));
        }
        if let Op::Layer(l) = node.op {
            uses[l] += 1;
        }
    }
    if let Some(l) = uses.iter().position(|&u| u != 1) {
        return invalid(format!("layer {} is applied {} times (once is allowed)", d.layers[l].name, uses[l]));
    }
    let mut names: Vec<&str> = (0..d.nodes.len()).filter_map(|id| d.step_name(id)).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|p| p[0] == p[1]) {
        return invalid(format!("two steps are called {}", pair[0]));
    }
    match d.shapes()?.last() {
        Some(Shape::Flat(_)) => Ok(()),
        other => invalid(format!("the output must be a vector of class scores, not {:?}", other.map(|s| s.dims()))),
    }
}
