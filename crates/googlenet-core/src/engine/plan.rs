//! A [`Description`] turned into the engine's plan: where every activation
//! lives, the steps that compute them (forward and backward), and the
//! order of the parameters in the flat buffer. The fusions are found here,
//! from the graph, for any model:
//!
//! - 1×1 convolutions (stride 1) that read the same activation run as one
//!   GEMM, their weights side by side in the flat buffer;
//! - a 3×3 average pool (stride 1, padding 1) read only by such a
//!   convolution moves after it: both are linear and the pool's divisor is
//!   constant, so pool(W·x) + b = W·pool(x) + b, and the conv joins the
//!   GEMM of the pool's input;
//! - a 2×2 max pool read only by a ReLU runs as one kernel with it;
//! - a branch read only by a concatenation writes straight into its rows.
//!
//! Activations are channel-major per chunk of n images (C×n×H×W), so a
//! range of channels is a contiguous range of floats; feature vectors are
//! image-major, n×F (what a linear layer's GEMM reads and writes), so a
//! step over features must never take them for an F×n map.
//!
//! A model with an operation the engine has no kernel for gets no plan but
//! the reason, and runs through candle: the engine computes a description
//! exactly as candle does, or not at all.

use super::conv::{ConvLayer, Method};
use super::params::Slot;
use crate::model::describe::{Description, LayerKind, NodeId, Op, ParamSpec, Shape};

/// Where an activation lives: rows `start..start + rows` (channels, or
/// features) of a tensor whose every row holds `plane` floats per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub tensor: usize,
    pub start: usize,
    pub rows: usize,
    pub plane: usize,
}

impl Loc {
    /// The floats of this activation for a chunk of `n` images.
    pub fn range(&self, n: usize) -> std::ops::Range<usize> {
        self.start * n * self.plane..(self.start + self.rows) * n * self.plane
    }

    pub fn len(&self, n: usize) -> usize {
        self.rows * n * self.plane
    }

    /// The floats of its channels `window` (a range of its rows) for a
    /// chunk of `n` images.
    pub fn window(&self, n: usize, window: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        (self.start + window.start) * n * self.plane..(self.start + window.end) * n * self.plane
    }
}

/// How a step's backward pass treats the gradient of one of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grad {
    /// No gradient flows there (the images).
    None,
    /// This step is the only one that writes it.
    Write,
    /// Others write it too: add.
    Add,
}

pub(crate) enum Kind {
    Conv(ConvLayer),
    /// A 3×3 average pool (stride 1, padding 1) of a moved 1×1 conv's
    /// rows, then that conv's bias (at `bias` in the flat buffer).
    PoolBias {
        h: usize,
        w: usize,
        bias: usize,
    },
    AvgPool3x3 {
        h: usize,
        w: usize,
    },
    MaxPool2x2Relu {
        h: usize,
        w: usize,
    },
    Relu,
    /// γ then β at `offset`; `index` numbers the model's batch norms.
    /// `relu`: the ReLU that alone reads it is computed in its passes (its
    /// output is the ReLU's; the backward pass masks the gradient first).
    BatchNorm {
        index: usize,
        offset: usize,
        relu: bool,
    },
    GlobalAvgPool,
    Flatten,
    Linear {
        slot: Slot,
        in_features: usize,
        out_features: usize,
        /// Where its weights, transposed to in × out, lie in the buffer of
        /// filters, when the forward pass multiplies by them there (see
        /// [`Kind::linear_by_transpose`]).
        transposed: Option<usize>,
    },
    Add,
    /// A concatenation's member that is not written in place.
    Copy,
}

pub(crate) struct Step {
    pub kind: Kind,
    pub inputs: Vec<Loc>,
    pub output: Loc,
    pub grads: Vec<Grad>,
}

/// One batch norm layer: its channels and where its running statistics
/// sit among the model's buffers (mean at `buffer`, variance after it).
pub(crate) struct BatchNormSpec {
    pub channels: usize,
    pub buffer: usize,
}

/// A convolution followed by a batch norm that reads only it: in
/// evaluation the batch norm is an affine map per channel, so the pair is
/// one convolution with scaled weights and a shifted bias (steps `conv`
/// and `batch_norm`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fold {
    pub conv: usize,
    pub batch_norm: usize,
}

pub(crate) struct Plan {
    /// Floats per image of each tensor.
    pub tensor_lens: Vec<usize>,
    pub steps: Vec<Step>,
    /// Parameter names in the flat buffer's order.
    pub layout: Vec<String>,
    pub input: Loc,
    pub logits: Loc,
    pub classes: usize,
    /// Tensors whose gradient must start at zero (summed from several
    /// steps, or partly written by none).
    pub zeroed_grads: Vec<usize>,
    pub batch_norms: Vec<BatchNormSpec>,
    /// The conv and batch norm pairs inference runs as one conv.
    pub folds: Vec<Fold>,
    /// Floats of the Winograd convs' transformed filters, all together.
    pub filters_len: usize,
}

/// The groups of 1×1 convolutions run as one GEMM, found from the graph.
struct HeadGroup {
    /// The activation they all read (for a moved conv, its pool's input).
    input: NodeId,
    /// The conv nodes; moved ones (read through a pool) last.
    members: Vec<NodeId>,
    moved: usize,
}

fn pointwise(kind: LayerKind) -> bool {
    matches!(kind, LayerKind::Conv2d { kernel: 1, stride: 1, padding: 0, .. })
}

struct PlanBuilder<'a> {
    d: &'a Description,
    shapes: Vec<Shape>,
    readers: Vec<Vec<NodeId>>,
    /// Where each node's output lives (None: not materialized).
    locs: Vec<Option<Loc>>,
    tensor_lens: Vec<usize>,
    /// Offsets of each parameter in the flat buffer, by name.
    layout: Vec<(String, usize)>,
    layout_len: usize,
    /// The description's parameters, derived once.
    params: Vec<ParamSpec>,
}

impl PlanBuilder<'_> {
    fn new_tensor(&mut self, rows: usize, plane: usize) -> Loc {
        self.tensor_lens.push(rows * plane);
        Loc { tensor: self.tensor_lens.len() - 1, start: 0, rows, plane }
    }

    fn shape_loc(&mut self, node: NodeId) -> Loc {
        match self.shapes[node] {
            Shape::Map { c, h, w } => self.new_tensor(c, h * w),
            Shape::Flat(f) => self.new_tensor(f, 1),
        }
    }

    fn place(&mut self, names: impl IntoIterator<Item = String>) -> usize {
        let start = self.layout_len;
        for name in names {
            let len = self.params.iter().find(|p| p.name == name).expect("named by the description").elem_count();
            self.layout.push((name, self.layout_len));
            self.layout_len += len;
        }
        start
    }

    fn layer_of(&self, node: NodeId) -> Option<(&str, LayerKind)> {
        match self.d.nodes[node].op {
            Op::Layer(l) => Some((&self.d.layers[l].name, self.d.layers[l].kind)),
            _ => None,
        }
    }
}

impl Plan {
    /// The plan for `d`, or why the engine declines it (an operation it
    /// has no kernel for): candle runs such a model instead.
    pub fn new(d: &Description) -> Result<Plan, String> {
        let shapes = d.shapes().map_err(|e| e.to_string())?;
        let mut readers = vec![Vec::new(); d.nodes.len()];
        for (id, node) in d.nodes.iter().enumerate() {
            node.inputs.iter().for_each(|&i| readers[i].push(id));
        }
        let mut b = PlanBuilder {
            d,
            shapes,
            readers,
            locs: vec![None; d.nodes.len()],
            tensor_lens: Vec::new(),
            layout: Vec::new(),
            layout_len: 0,
            params: d.params(),
        };
        let groups = head_groups(&b);
        let group_of = |node: NodeId| groups.iter().position(|g| g.members.contains(&node));
        // A pool moved after its conv is not computed where it stands.
        let moved_pool =
            |node: NodeId| groups.iter().any(|g| g.members[g.members.len() - g.moved..].iter().any(|&m| d.nodes[m].inputs[0] == node));

        // Concatenations first: members read only by them (and computed by
        // a step of their own) are written in place.
        let mut in_place = vec![false; d.nodes.len()];
        for (id, node) in d.nodes.iter().enumerate() {
            if node.op != Op::Concat {
                continue;
            }
            let out = b.shape_loc(id);
            b.locs[id] = Some(out);
            let mut start = 0;
            for &m in &node.inputs {
                let rows = b.shapes[m].dims()[0];
                // Convolutions write their output themselves (a plain head
                // writes its group's tensor, so it is copied).
                let plain_head = group_of(m).is_some_and(|g| !groups[g].members[groups[g].members.len() - groups[g].moved..].contains(&m));
                let conv = b.layer_of(m).is_some_and(|(_, kind)| matches!(kind, LayerKind::Conv2d { .. }));
                if b.readers[m].len() == 1 && conv && !plain_head && b.locs[m].is_none() {
                    b.locs[m] = Some(Loc { start, rows, ..out });
                    in_place[m] = true;
                }
                start += rows;
            }
        }

        let mut steps = Vec::new();
        let mut batch_norms = Vec::new();
        let mut folds = Vec::new();
        let mut done_groups = vec![false; groups.len()];
        // ReLUs their batch norm computes.
        let mut fused_relu = vec![false; d.nodes.len()];
        // The GEMM rows of moved convs, before their pool.
        let mut raw_rows: Vec<(NodeId, Loc)> = Vec::new();
        let buffer_names: Vec<String> = d.buffers().into_iter().map(|p| p.name).collect();
        for (id, node) in d.nodes.iter().enumerate() {
            let input_loc = |b: &PlanBuilder, i: usize| b.locs[node.inputs[i]].expect("inputs are placed first");
            let out_loc = |b: &mut PlanBuilder| match b.locs[id] {
                Some(loc) => loc,
                None => {
                    let loc = b.shape_loc(id);
                    b.locs[id] = Some(loc);
                    loc
                }
            };
            match node.op {
                Op::Input => {
                    let loc = out_loc(&mut b);
                    b.locs[0] = Some(loc);
                }
                Op::Layer(_) if group_of(id).is_some() => {
                    let g = &groups[group_of(id).unwrap()];
                    if !done_groups[group_of(id).unwrap()] {
                        done_groups[group_of(id).unwrap()] = true;
                        let (step, raw) = group_step(&mut b, g);
                        steps.push(step);
                        raw_rows.extend(raw);
                    }
                    let moved_at = g.members.len() - g.moved;
                    if g.members[moved_at..].contains(&id) {
                        // The pool of this moved conv, then its bias.
                        let (name, _) = b.layer_of(id).unwrap();
                        let bias = b.layout.iter().find(|(n, _)| *n == format!("{name}.bias")).unwrap().1;
                        let raw = raw_rows.iter().find(|(m, _)| *m == id).expect("placed by its group").1;
                        let Shape::Map { h, w, .. } = b.shapes[id] else { unreachable!("a conv outputs a map") };
                        let out = out_loc(&mut b);
                        steps.push(Step { kind: Kind::PoolBias { h, w, bias }, inputs: vec![raw], output: out, grads: vec![Grad::Write] });
                    }
                }
                Op::Layer(l) => {
                    let layer = &d.layers[l];
                    let x = input_loc(&b, 0);
                    let out = out_loc(&mut b);
                    let names = |suffixes: [&str; 2]| suffixes.map(|s| format!("{}.{s}", layer.name));
                    let kind = match (layer.kind, b.shapes[node.inputs[0]]) {
                        (LayerKind::Conv2d { in_channels, out_channels, kernel, stride, padding }, Shape::Map { h, w, .. }) => {
                            let offset = b.place(names(["weight", "bias"]));
                            let len = out_channels * (in_channels * kernel * kernel + 1);
                            Kind::Conv(ConvLayer {
                                slot: Slot { offset, len },
                                c_in: in_channels,
                                c_out: out_channels,
                                k: kernel,
                                stride,
                                pad: padding,
                                h,
                                w,
                                bias_rows: out_channels,
                                method: Method::Gemm,
                            })
                        }
                        (LayerKind::Linear { in_features, out_features }, Shape::Flat(_)) => {
                            let offset = b.place(names(["weight", "bias"]));
                            Kind::Linear {
                                slot: Slot { offset, len: out_features * (in_features + 1) },
                                in_features,
                                out_features,
                                transposed: None,
                            }
                        }
                        (LayerKind::BatchNorm2d { channels }, Shape::Map { .. }) => {
                            let offset = b.place(names(["weight", "bias"]));
                            let mean = format!("{}.running_mean", layer.name);
                            let buffer = buffer_names.iter().position(|n| *n == mean).expect("a batch norm has running statistics");
                            batch_norms.push(BatchNormSpec { channels, buffer });
                            // A plain conv read only by this batch norm: in
                            // evaluation both are one affine map.
                            let conv = steps.len().checked_sub(1).filter(|&c: &usize| {
                                let s: &Step = &steps[c];
                                matches!(&s.kind, Kind::Conv(conv) if conv.bias_rows == conv.c_out)
                                    && s.output == x
                                    && b.readers[node.inputs[0]].len() == 1
                                    && matches!(d.nodes[node.inputs[0]].op, Op::Layer(_))
                            });
                            if let Some(conv) = conv {
                                folds.push(Fold { conv, batch_norm: steps.len() });
                            }
                            // A ReLU that alone reads it, and is not placed
                            // elsewhere (a concatenation's rows), is done in
                            // its passes: two fewer passes over memory.
                            let relu = match b.readers[id][..] {
                                [r] if d.nodes[r].op == Op::Relu && b.locs[r].is_none() => {
                                    fused_relu[r] = true;
                                    true
                                }
                                _ => false,
                            };
                            Kind::BatchNorm { index: batch_norms.len() - 1, offset, relu }
                        }
                        (kind, shape) => {
                            return Err(format!("layer {} ({kind:?}) has no engine kernel for input {:?}", layer.name, shape.dims()))
                        }
                    };
                    steps.push(Step { kind, inputs: vec![x], output: out, grads: vec![Grad::Write] });
                }
                Op::Relu if fused_pool(&b, node.inputs[0]) || fused_relu[id] => {
                    // Its max pool or batch norm computed it.
                    b.locs[id] = b.locs[node.inputs[0]];
                }
                Op::AvgPool { .. } if moved_pool(id) => {}
                Op::Flatten if matches!(b.shapes[node.inputs[0]], Shape::Flat(_)) => {
                    // Features are already n×F: flattening them again changes nothing.
                    b.locs[id] = b.locs[node.inputs[0]];
                }
                op => {
                    let inputs: Vec<Loc> = (0..node.inputs.len()).map(|i| input_loc(&b, i)).collect();
                    let out = out_loc(&mut b);
                    let declined = || format!("{} ({op}) has no engine kernel", d.label(id));
                    let map = |s: Shape| match s {
                        Shape::Map { h, w, .. } => Ok((h, w)),
                        Shape::Flat(_) => Err(declined()),
                    };
                    let kind = match op {
                        Op::Relu => Kind::Relu,
                        Op::MaxPool { kernel: 2, stride: 2 } if fused_pool(&b, id) => {
                            let (h, w) = map(b.shapes[node.inputs[0]])?;
                            Kind::MaxPool2x2Relu { h, w }
                        }
                        Op::AvgPool { kernel: 3, stride: 1, padding: 1 } => {
                            let (h, w) = map(b.shapes[node.inputs[0]])?;
                            Kind::AvgPool3x3 { h, w }
                        }
                        Op::GlobalAvgPool => Kind::GlobalAvgPool,
                        Op::Flatten => Kind::Flatten,
                        Op::Add => Kind::Add,
                        Op::Concat => {
                            // Members not written in place are copied in.
                            for (i, &m) in node.inputs.iter().enumerate() {
                                if !in_place[m] {
                                    let rows_before: usize = node.inputs[..i].iter().map(|&p| b.shapes[p].dims()[0]).sum();
                                    let member = Loc { start: rows_before, rows: b.shapes[m].dims()[0], ..out };
                                    steps.push(Step {
                                        kind: Kind::Copy,
                                        inputs: vec![inputs[i]],
                                        output: member,
                                        grads: vec![Grad::Write],
                                    });
                                }
                            }
                            continue;
                        }
                        _ => return Err(declined()),
                    };
                    let grads = vec![Grad::Write; inputs.len()];
                    steps.push(Step { kind, inputs, output: out, grads });
                }
            }
        }
        // Parameters no step placed would never be trained (lowering makes none).
        if b.layout.len() != b.params.len() {
            return Err(format!("{} of its parameters are read by no step", b.params.len() - b.layout.len()));
        }
        let input = b.locs[0].expect("the input is placed");
        let logits = b.locs[d.output()].expect("the output is placed");
        let zeroed_grads = mark_gradients(&mut steps, input.tensor, &b.tensor_lens);
        let layout = b.layout.into_iter().map(|(name, _)| name).collect();
        let classes = logits.rows;
        let filters_len = place_filters(&mut steps);
        Ok(Plan { tensor_lens: b.tensor_lens, steps, layout, input, logits, classes, zeroed_grads, batch_norms, folds, filters_len })
    }

    /// Whether batch norm makes training need the whole batch at once.
    pub fn has_batch_norm(&self) -> bool {
        !self.batch_norms.is_empty()
    }
}

/// Chooses each conv's method and gives those with filters of their own
/// their place in the buffer of them; returns that buffer's length.
fn place_filters(steps: &mut [Step]) -> usize {
    let mut len = 0;
    for step in steps {
        match &mut step.kind {
            Kind::Conv(conv) => {
                conv.method = conv.choose_method(len);
                len += conv.filters_len();
            }
            Kind::Linear { in_features, out_features, transposed, .. } if Kind::linear_by_transpose(*out_features) => {
                *transposed = Some(len);
                len += *in_features * *out_features;
            }
            _ => {}
        }
    }
    len
}

impl Kind {
    /// Whether a linear layer of `out_features` multiplies its input by its
    /// weights transposed in the buffer of filters, by `narrow_gemm`'s
    /// kernels (whole vectors of outputs: a multiple of 8), instead of by
    /// the `gemm` crate, which packs the 4 to 8 rows of a chunk and the
    /// whole weight matrix again on every call (a fifth of lenet5's
    /// prediction time went there).
    pub fn linear_by_transpose(out_features: usize) -> bool {
        out_features.is_multiple_of(8)
    }
}

/// Whether node `pool` is a 2×2 max pool read only by a ReLU.
fn fused_pool(b: &PlanBuilder, pool: NodeId) -> bool {
    b.d.nodes[pool].op == (Op::MaxPool { kernel: 2, stride: 2 }) && matches!(b.readers[pool][..], [r] if b.d.nodes[r].op == Op::Relu)
}

/// The 1×1 convolution groups of the graph (see the module's comment).
fn head_groups(b: &PlanBuilder) -> Vec<HeadGroup> {
    let d = b.d;
    let mut groups: Vec<HeadGroup> = Vec::new();
    for (id, node) in d.nodes.iter().enumerate() {
        let Some((_, kind)) = b.layer_of(id) else { continue };
        if !pointwise(kind) {
            continue;
        }
        let x = node.inputs[0];
        let moved = d.nodes[x].op == (Op::AvgPool { kernel: 3, stride: 1, padding: 1 }) && b.readers[x].len() == 1;
        let input = if moved { d.nodes[x].inputs[0] } else { x };
        let group = match groups.iter_mut().find(|g| g.input == input) {
            Some(g) => g,
            None => {
                groups.push(HeadGroup { input, members: Vec::new(), moved: 0 });
                groups.last_mut().unwrap()
            }
        };
        if moved {
            group.members.push(id);
            group.moved += 1;
        } else {
            group.members.insert(group.members.len() - group.moved, id);
        }
    }
    // A lone conv is a plain conv, unless it is moved (its pool needs the group step).
    groups.retain(|g| g.members.len() > 1 || g.moved == 1);
    groups
}

/// The one GEMM of a head group: its weights side by side, then its
/// biases; the members' outputs are consecutive rows of one tensor (placed
/// for plain members, returned for moved ones, whose pool comes next).
fn group_step(b: &mut PlanBuilder, g: &HeadGroup) -> (Step, Vec<(NodeId, Loc)>) {
    let names: Vec<&str> = g.members.iter().map(|&m| b.layer_of(m).unwrap().0).collect();
    let mut ordered: Vec<String> = names.iter().map(|n| format!("{n}.weight")).collect();
    ordered.extend(names.iter().map(|n| format!("{n}.bias")));
    let offset = b.place(ordered);
    let d = b.d;
    let rows_of = |m: NodeId| match d.nodes[m].op {
        Op::Layer(l) => match d.layers[l].kind {
            LayerKind::Conv2d { out_channels, .. } => out_channels,
            _ => unreachable!("a head is a conv"),
        },
        _ => unreachable!("a head is a layer"),
    };
    let total: usize = g.members.iter().map(|&m| rows_of(m)).sum();
    let Shape::Map { c, h, w } = b.shapes[g.input] else { unreachable!("a conv reads a map") };
    let out = b.new_tensor(total, h * w);
    let plain = g.members.len() - g.moved;
    let mut start = 0;
    let mut raw = Vec::new();
    for (i, &m) in g.members.iter().enumerate() {
        let loc = Loc { start, rows: rows_of(m), ..out };
        if i < plain {
            b.locs[m] = Some(loc);
        } else {
            raw.push((m, loc));
        }
        start += rows_of(m);
    }
    let plain_rows: usize = g.members[..plain].iter().map(|&m| rows_of(m)).sum();
    let conv = ConvLayer {
        slot: Slot { offset, len: total * (c + 1) },
        c_in: c,
        c_out: total,
        k: 1,
        stride: 1,
        pad: 0,
        h,
        w,
        bias_rows: plain_rows,
        method: Method::Gemm,
    };
    let x = b.locs[g.input].expect("the group's input comes first");
    (Step { kind: Kind::Conv(conv), inputs: vec![x], output: out, grads: vec![Grad::Write] }, raw)
}

/// Sets how each step's backward pass writes its input gradients: no
/// gradient for the images, add where several steps write the same rows.
/// Returns the tensors whose gradient must be zeroed first.
fn mark_gradients(steps: &mut [Step], input_tensor: usize, tensor_lens: &[usize]) -> Vec<usize> {
    // Writers per row of each tensor (rows are counted over the largest
    // plane a tensor is viewed with, which is its only one).
    let mut writers: Vec<Vec<usize>> = vec![Vec::new(); tensor_lens.len()];
    for step in steps.iter() {
        for loc in &step.inputs {
            let counts = &mut writers[loc.tensor];
            if counts.len() < tensor_lens[loc.tensor] / loc.plane {
                counts.resize(tensor_lens[loc.tensor] / loc.plane, 0);
            }
            counts[loc.start..loc.start + loc.rows].iter_mut().for_each(|c| *c += 1);
        }
    }
    for step in steps.iter_mut() {
        for (grad, loc) in step.grads.iter_mut().zip(&step.inputs) {
            *grad = if loc.tensor == input_tensor {
                Grad::None
            } else if writers[loc.tensor][loc.start..loc.start + loc.rows].iter().any(|&c| c > 1) {
                Grad::Add
            } else {
                Grad::Write
            };
        }
    }
    (0..tensor_lens.len()).filter(|&t| t != input_tensor && writers[t].iter().any(|&c| c != 1)).collect()
}
