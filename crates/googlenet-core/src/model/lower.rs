//! A [`ModelSpec`] (the tree a user or the zoo writes) lowered to a
//! [`Description`] (the graph everything runs from): layers take their
//! input channels and features from the shapes that reach them, names nest
//! as PyTorch nests module names, and a step that does not fit fails here,
//! at construction, naming its JSON path, the layer, the shape it got and
//! the shape it takes. The limits on parameters and activations are
//! checked before anything is allocated.

use std::collections::HashMap;

use super::describe::{check, layer_output, op_output, Description, Layer, LayerKind, Node, NodeId, Op, Shape};
use super::spec::{ModelSpec, Step, StepKind, MAX_PARAMS, MAX_VALUES_PER_STEP};
use crate::{Error, Result};

/// The graph of `spec`, checked.
pub fn lower(spec: &ModelSpec) -> Result<Description> {
    let [c, h, w] = spec.input;
    let mut l = Lowering {
        layers: Vec::new(),
        nodes: vec![Node { op: Op::Input, inputs: Vec::new(), name: None }],
        shapes: vec![Shape::Map { c, h, w }],
        prefix: Vec::new(),
        names: HashMap::new(),
        params: 0,
    };
    l.check_size(0, "input")?;
    let out = l.step(&spec.layers, 0, "layers")?;
    if let shape @ Shape::Map { .. } = l.shapes[out] {
        return Err(invalid(format!(
            "layers: the last step gives {:?} per image; a model ends in a vector of class scores (flatten or globalAvgPool, then linear)",
            shape.dims()
        )));
    }
    let description = Description { spec: spec.clone(), name: spec.name.clone(), input: spec.input, layers: l.layers, nodes: l.nodes };
    check(&description)?;
    Ok(description)
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

struct Lowering {
    layers: Vec<Layer>,
    nodes: Vec<Node>,
    /// Per node, one image's output shape.
    shapes: Vec<Shape>,
    /// The names of the steps being lowered, outermost first.
    prefix: Vec<String>,
    /// Full names taken so far, with the JSON path that took each.
    names: HashMap<String, String>,
    params: usize,
}

impl Lowering {
    /// `name` under the current prefix, dotted as PyTorch names modules.
    fn full_name(&self, name: &str) -> String {
        self.prefix.iter().map(String::as_str).chain(Some(name)).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(".")
    }

    /// Takes `full` for the step at `path`, refusing a name taken before.
    fn claim(&mut self, full: &str, path: &str) -> Result<()> {
        if let Some(first) = self.names.insert(full.to_string(), path.to_string()) {
            return Err(invalid(format!("{path}: the name {full} is already taken (by {first})")));
        }
        Ok(())
    }

    fn check_size(&self, id: NodeId, path: &str) -> Result<()> {
        let values = self.shapes[id].elem_count();
        if values > MAX_VALUES_PER_STEP {
            return Err(invalid(format!(
                "{path}: outputs {values} values per image ({:?}); a step may output at most {MAX_VALUES_PER_STEP}",
                self.shapes[id].dims()
            )));
        }
        Ok(())
    }

    fn node(&mut self, op: Op, inputs: &[NodeId], shape: Shape, name: Option<String>, path: &str) -> Result<NodeId> {
        self.nodes.push(Node { op, inputs: inputs.to_vec(), name });
        self.shapes.push(shape);
        let id = self.nodes.len() - 1;
        self.check_size(id, path)?;
        Ok(id)
    }

    /// Lowers `step` applied to node `x`; returns its output node.
    fn step(&mut self, step: &Step, x: NodeId, path: &str) -> Result<NodeId> {
        let composite = matches!(step.kind, StepKind::Sequential(_) | StepKind::Concat(_) | StepKind::Residual { .. });
        if !composite {
            return self.leaf(step, x, path);
        }
        if let Some(name) = &step.name {
            let full = self.full_name(name);
            self.claim(&full, path)?;
            self.prefix.push(name.clone());
        }
        let out = self.composite(step, x, path);
        if step.name.is_some() {
            // A named block's output shows under the block's name (`incep1`,
            // `layer1.0`), unless its last step shows under a name of its own
            // (a layer, or a named step), which it keeps.
            let full = self.full_name("");
            self.prefix.pop();
            let out = out?;
            let node = &mut self.nodes[out];
            if node.name.is_none() && !matches!(node.op, Op::Layer(_)) {
                node.name = Some(full);
            }
            return Ok(out);
        }
        out
    }

    fn composite(&mut self, step: &Step, x: NodeId, path: &str) -> Result<NodeId> {
        match &step.kind {
            StepKind::Sequential(steps) => {
                // Canonically, a named sequence is written {"type": "sequential", "steps": [...]}, an unnamed one as an array.
                let sub = if step.name.is_some() { format!("{path}.steps") } else { path.to_string() };
                steps.iter().enumerate().try_fold(x, |x, (i, s)| self.step(s, x, &format!("{sub}[{i}]")))
            }
            StepKind::Concat(branches) => {
                let outs = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.step(b, x, &format!("{path}.branches[{i}]")))
                    .collect::<Result<Vec<_>>>()?;
                self.combine(Op::Concat, &outs, path)
            }
            StepKind::Residual { body, shortcut } => {
                let y = self.step(body, x, &format!("{path}.body"))?;
                let s = match shortcut {
                    Some(s) => self.step(s, x, &format!("{path}.shortcut"))?,
                    None => x,
                };
                self.combine(Op::Add, &[y, s], path)
            }
            _ => unreachable!("a composite step"),
        }
    }

    /// A concatenation or addition of `inputs`, their shapes checked.
    fn combine(&mut self, op: Op, inputs: &[NodeId], path: &str) -> Result<NodeId> {
        let ins: Vec<Shape> = inputs.iter().map(|&i| self.shapes[i]).collect();
        let shape = op_output(op, &ins).map_err(|expects| {
            let got: Vec<Vec<usize>> = ins.iter().map(|s| s.batched(1)).collect();
            let what = if op == Op::Add { "the body's and the shortcut's outputs" } else { "the branches' outputs" };
            invalid(format!("{path}: the {op} takes {expects}; {what} are {got:?}"))
        })?;
        self.node(op, inputs, shape, None, path)
    }

    fn leaf(&mut self, step: &Step, x: NodeId, path: &str) -> Result<NodeId> {
        let full = step.name.as_deref().map(|n| self.full_name(n));
        if let Some(full) = &full {
            self.claim(full, path)?;
        }
        let at = |e: Error| match e {
            Error::InvalidArgument(m) => invalid(format!("{path}: {m}")),
            other => other,
        };
        let input = self.shapes[x];
        let layer = |kind: LayerKind| Layer { name: full.clone().expect("the parser names every layer"), kind };
        let map_channels = || match input {
            Shape::Map { c, .. } => Ok(c),
            Shape::Flat(f) => {
                Err(invalid(format!("{path}: layer {} takes N×C×H×W maps, got [1, {f}] features", full.as_deref().unwrap_or_default())))
            }
        };
        let layer = match step.kind {
            StepKind::Conv2d { out_channels, kernel, stride, padding } => {
                Some(layer(LayerKind::Conv2d { in_channels: map_channels()?, out_channels, kernel, stride, padding }))
            }
            StepKind::BatchNorm => Some(layer(LayerKind::BatchNorm2d { channels: map_channels()? })),
            StepKind::Linear { out_features } => match input {
                Shape::Flat(in_features) => Some(layer(LayerKind::Linear { in_features, out_features })),
                Shape::Map { .. } => {
                    return Err(invalid(format!(
                        "{path}: layer {} takes N×F features, got {:?}: flatten or globalAvgPool first",
                        full.as_deref().unwrap_or_default(),
                        input.batched(1)
                    )))
                }
            },
            _ => None,
        };
        if let Some(layer) = layer {
            let shape = layer_output(&layer, input, 1).map_err(at)?;
            self.count_params(&layer, path)?;
            self.layers.push(layer);
            return self.node(Op::Layer(self.layers.len() - 1), &[x], shape, None, path);
        }
        let op = match step.kind {
            StepKind::Relu => Op::Relu,
            StepKind::MaxPool { kernel, stride } => Op::MaxPool { kernel, stride },
            StepKind::AvgPool { kernel, stride, padding } => Op::AvgPool { kernel, stride, padding },
            StepKind::GlobalAvgPool => Op::GlobalAvgPool,
            StepKind::Flatten => Op::Flatten,
            _ => unreachable!("layers and composites are handled above"),
        };
        let shape = op_output(op, &[input]).map_err(|expects| {
            let what = full.as_ref().map_or(String::new(), |n| format!(" {n}"));
            invalid(format!("{path}: the {op}{what} takes {expects}, got {:?}", input.batched(1)))
        })?;
        self.node(op, &[x], shape, full, path)
    }

    /// Adds `layer`'s trainable values to the model's, refusing a model over the limit.
    fn count_params(&mut self, layer: &Layer, path: &str) -> Result<()> {
        let count = match layer.kind {
            LayerKind::Conv2d { in_channels, out_channels, kernel, .. } => {
                in_channels.checked_mul(kernel * kernel).and_then(|n| n.checked_add(1)).and_then(|n| n.checked_mul(out_channels))
            }
            LayerKind::Linear { in_features, out_features } => in_features.checked_add(1).and_then(|n| n.checked_mul(out_features)),
            LayerKind::BatchNorm2d { channels } => Some(2 * channels),
        };
        match count.and_then(|n| n.checked_add(self.params)) {
            Some(total) if total <= MAX_PARAMS => {
                self.params = total;
                Ok(())
            }
            _ => Err(invalid(format!("{path}: layer {} takes the model past {MAX_PARAMS} parameters", layer.name))),
        }
    }
}
