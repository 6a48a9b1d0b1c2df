//! A [`Description`] lowered to candle: named `Var`s initialized as PyTorch
//! initializes them, and a forward pass over the graph with our custom ops,
//! differentiable by candle's autograd. This runs models on accelerators
//! (CUDA) and is the reference the CPU engine is tested against.
//!
//! Activations run channel-major (C×N×H×W: a convolution is then one GEMM
//! over the batch, see `conv2d_gemm`) and feature vectors N×F.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use candle_core::{Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::describe::{Description, Init, LayerKind, NodeId, Op, ParamSpec, Shape};
use super::{BatchNorm2d, Conv2d, DataInfo, Linear, Model, NamedParam};
use crate::ops::{avg_pool3x3_same, max_pool2x2_relu};
use crate::{Error, Result};

enum Lowered {
    Conv(Conv2d),
    Linear(Linear),
    BatchNorm(BatchNorm2d),
}

/// A model built from its description.
pub struct Network {
    description: Description,
    data: DataInfo,
    layers: Vec<Lowered>,
    params: Vec<NamedParam>,
    buffers: Vec<NamedParam>,
    training: Arc<AtomicBool>,
    /// Per node: a 2×2 max pool read only by a ReLU, computed together with
    /// it (`max_pool2x2_relu`; max and ReLU commute), the ReLU passing its
    /// input on.
    pool_with_relu: Vec<bool>,
    /// Per node: the last node that reads its output, so it can be dropped.
    last_use: Vec<NodeId>,
}

/// A tensor initialized from `spec`; uniform draws come from `rng` in the
/// description's order, so a seed gives the same model on every device.
fn initial_value(spec: &ParamSpec, rng: &mut ChaCha8Rng, device: &Device) -> Result<Var> {
    let values: Vec<f32> = match spec.init {
        Init::Uniform { fan_in } => {
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..spec.elem_count()).map(|_| rng.random_range(-bound..bound)).collect()
        }
        Init::Constant(v) => vec![v; spec.elem_count()],
    };
    Ok(Var::from_tensor(&Tensor::from_vec(values, spec.shape.as_slice(), device)?)?)
}

impl Network {
    /// The model `description` describes, freshly initialized; `seed` fixes the init.
    pub fn new(description: Description, seed: u64, device: &Device) -> Result<Self> {
        if let Some(node) = description
            .nodes
            .iter()
            .find(|n| matches!(n.op, Op::AvgPool { padding, kernel, stride } if padding > 0 && (kernel, stride, padding) != (3, 1, 1)))
        {
            return Err(Error::InvalidArgument(format!("{:?}: average pools with padding are 3×3, stride 1, padding 1 only", node.op)));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut create = |specs: Vec<ParamSpec>| -> Result<Vec<NamedParam>> {
            specs.iter().map(|s| Ok(NamedParam { name: s.name.clone(), var: initial_value(s, &mut rng, device)? })).collect()
        };
        let params = create(description.params())?;
        let buffers = create(description.buffers())?;
        let training = Arc::new(AtomicBool::new(false));
        let var =
            |list: &[NamedParam], name: String| list.iter().find(|p| p.name == name).expect("created from this description").var.clone();
        let layers = description
            .layers
            .iter()
            .map(|layer| {
                let own = |suffix: &str| var(&params, format!("{}.{suffix}", layer.name));
                match layer.kind {
                    LayerKind::Conv2d { stride, padding, .. } => Lowered::Conv(Conv2d::new(own("weight"), own("bias"), stride, padding)),
                    LayerKind::Linear { .. } => Lowered::Linear(Linear::new(own("weight"), own("bias"))),
                    LayerKind::BatchNorm2d { .. } => Lowered::BatchNorm(BatchNorm2d::new(
                        layer.name.clone(),
                        own("weight"),
                        own("bias"),
                        var(&buffers, format!("{}.running_mean", layer.name)),
                        var(&buffers, format!("{}.running_var", layer.name)),
                        training.clone(),
                    )),
                }
            })
            .collect();
        let nodes = &description.nodes;
        let mut readers = vec![Vec::new(); nodes.len()];
        for (id, node) in nodes.iter().enumerate() {
            node.inputs.iter().for_each(|&i| readers[i].push(id));
        }
        let pool_with_relu = nodes
            .iter()
            .zip(&readers)
            .map(|(node, readers)| {
                node.op == (Op::MaxPool { kernel: 2, stride: 2 }) && matches!(readers[..], [r] if nodes[r].op == Op::Relu)
            })
            .collect();
        let last_use = readers.iter().enumerate().map(|(id, r)| r.iter().copied().max().unwrap_or(id)).collect();
        let data = DataInfo::default_for(&description);
        Ok(Self { description, data, layers, params, buffers, training, pool_with_relu, last_use })
    }

    /// The same model, for data with these classes and statistics (checked
    /// against the description).
    pub fn with_data(mut self, data: DataInfo) -> Result<Self> {
        data.check(&self.description)?;
        self.data = data;
        Ok(self)
    }

    /// The output of node `id` from its inputs' outputs `x`.
    fn node_output(&self, id: NodeId, x: &[&Tensor], shapes: &[Shape]) -> Result<Tensor> {
        let node = &self.description.nodes[id];
        Ok(match node.op {
            Op::Input => unreachable!("the input is given"),
            Op::Layer(l) => match &self.layers[l] {
                Lowered::Conv(conv) => conv.forward(x[0])?,
                Lowered::Linear(linear) => linear.forward(x[0])?,
                Lowered::BatchNorm(bn) => bn.forward(x[0])?,
            },
            Op::Relu if self.pool_with_relu[node.inputs[0]] => x[0].clone(),
            Op::Relu => relu(x[0])?,
            Op::MaxPool { .. } if self.pool_with_relu[id] => max_pool2x2_relu(x[0])?,
            // candle pools the last two axes: channel-major works as it is.
            Op::MaxPool { kernel, stride } => x[0].max_pool2d_with_stride(kernel, stride)?,
            Op::AvgPool { kernel: 3, stride: 1, padding: 1 } => avg_pool3x3_same(x[0])?,
            Op::AvgPool { kernel, stride, .. } => x[0].avg_pool2d_with_stride(kernel, stride)?,
            Op::GlobalAvgPool => {
                let (c, n, _, _) = x[0].dims4()?;
                x[0].reshape((c, n, ()))?.mean(D::Minus1)?.t()?.contiguous()?
            }
            Op::Flatten => match shapes[node.inputs[0]] {
                Shape::Map { .. } => {
                    let n = x[0].dim(1)?;
                    x[0].transpose(0, 1)?.contiguous()?.reshape((n, ()))?
                }
                Shape::Flat(_) => x[0].clone(),
            },
            Op::Add => x[1..].iter().try_fold(x[0].clone(), |sum, t| sum + *t)?,
            // Channel-major: the channel axis is the first, so this stacks whole blocks.
            Op::Concat => Tensor::cat(x, 0)?,
        })
    }
}

/// ReLU with PyTorch's gradient: 0 where the input is 0 (candle's own
/// `relu` passes the gradient there). Exact zeros are common: batch norm
/// maps a constant channel to its β, 0 at first, and a ReLU of a ReLU's
/// zeros is one; the engine and PyTorch agree, so candle must too.
fn relu(x: &Tensor) -> Result<Tensor> {
    // The comparison carries no gradient: the product's is the mask.
    Ok(x.mul(&x.gt(0f32)?.to_dtype(x.dtype())?)?)
}

impl Model for Network {
    fn description(&self) -> &Description {
        &self.description
    }

    fn data_info(&self) -> &DataInfo {
        &self.data
    }

    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = match images.dims() {
            &[n, c, h, w] => (n, c, h, w),
            other => return Err(Error::InvalidArgument(format!("model '{}' takes N×C×H×W images, got {other:?}", self.name()))),
        };
        let shapes = self.description.infer(n, Shape::Map { c, h, w }, &mut |_, _| {})?;
        let mut values: Vec<Option<Tensor>> = vec![None; shapes.len()];
        values[0] = Some(images.transpose(0, 1)?.contiguous()?);
        for (id, node) in self.description.nodes.iter().enumerate().skip(1) {
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|&i| values[i].as_ref().expect("inputs come first")).collect();
            let out = self.node_output(id, &inputs, &shapes)?;
            values[id] = Some(out);
            for &i in &node.inputs {
                if self.last_use[i] == id {
                    values[i] = None;
                }
            }
        }
        Ok(values.pop().flatten().expect("the output is the last node"))
    }

    fn parameters(&self) -> &[NamedParam] {
        &self.params
    }

    fn buffers(&self) -> &[NamedParam] {
        &self.buffers
    }

    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
}
