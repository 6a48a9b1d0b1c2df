use candle_core::Tensor;

use super::tutorial_net::Block;
use super::{Conv2d, ParamBuilder, Tracer};
use crate::ops::avg_pool3x3_same;
use crate::Result;

/// Inception-A: four branches over the same input, concatenated along the
/// channels in this order: 1×1 (16), 1×1→5×5 (24), 1×1→3×3→3×3 (24),
/// 3×3 average pool→1×1 (24): 88 channels, same height and width.
/// No activation inside, as in the reference.
pub struct InceptionA {
    branch1x1: Conv2d,
    branch5x5_1: Conv2d,
    branch5x5_2: Conv2d,
    branch3x3_1: Conv2d,
    branch3x3_2: Conv2d,
    branch3x3_3: Conv2d,
    branch_pool: Conv2d,
}

impl InceptionA {
    /// Channels out, whatever the input.
    pub const OUT_CHANNELS: usize = 16 + 24 + 24 + 24;

    pub fn new(b: &mut ParamBuilder, in_channels: usize) -> Result<Self> {
        Ok(Self {
            branch1x1: b.conv2d("branch1x1", in_channels, 16, 1, 0)?,
            branch5x5_1: b.conv2d("branch5x5_1", in_channels, 16, 1, 0)?,
            branch5x5_2: b.conv2d("branch5x5_2", 16, 24, 5, 2)?,
            branch3x3_1: b.conv2d("branch3x3_1", in_channels, 16, 1, 0)?,
            branch3x3_2: b.conv2d("branch3x3_2", 16, 24, 3, 1)?,
            branch3x3_3: b.conv2d("branch3x3_3", 24, 24, 3, 1)?,
            branch_pool: b.conv2d("branch_pool", in_channels, 24, 1, 0)?,
        })
    }

    /// The four 1×1 convolutions that read the module's input (the three
    /// branch heads and the pool branch's conv, moved before its pool) as one
    /// GEMM over the whole batch, without biases: 16, 16, 16 and 24 channels.
    fn heads(&self, x: &Tensor) -> Result<[Tensor; 4]> {
        let (c, n, h, w) = x.dims4()?;
        let convs = [&self.branch1x1, &self.branch5x5_1, &self.branch3x3_1, &self.branch_pool];
        let weights = Tensor::cat(&convs.map(|conv| conv.weight().as_tensor()), 0)?;
        let y = weights.reshape((weights.dim(0)?, c))?.matmul(&x.reshape((c, n * h * w))?)?;
        let mut start = 0;
        let heads = convs.map(|conv| {
            let len = conv.weight().dims()[0];
            start += len;
            y.narrow(0, start - len, len)?.reshape((len, n, h, w))
        });
        let [a, b, c, d] = heads;
        Ok([a?, b?, c?, d?])
    }

    /// Runs the four branches on channel-major `x` (C×N×H×W) and stacks
    /// their channels; `tracer` sees each conv's output under its PyTorch
    /// name (`{name}.branch5x5_1`, …) and the result as `name`.
    fn forward_traced(&self, x: &Tensor, name: &str, tracer: &mut Tracer) -> Result<Tensor> {
        self.branch1x1.check_input(x)?;
        let [head1, head5, head3, pooled_head] = self.heads(x)?;
        let mut layer = |conv: &str, t: Tensor| tracer.layer(&format!("{name}.{conv}"), t);
        let b1 = layer("branch1x1", self.branch1x1.add_bias(&head1)?)?;
        let b5 = layer("branch5x5_1", self.branch5x5_1.add_bias(&head5)?)?;
        let b5 = layer("branch5x5_2", self.branch5x5_2.forward(&b5)?)?;
        let b3 = layer("branch3x3_1", self.branch3x3_1.add_bias(&head3)?)?;
        let b3 = layer("branch3x3_2", self.branch3x3_2.forward(&b3)?)?;
        let b3 = layer("branch3x3_3", self.branch3x3_3.forward(&b3)?)?;
        // pool(W·x) + b = W·pool(x) + b: the pool is linear and its divisor
        // constant, so pooling after the 1×1 conv (bias last) is exact.
        let bp = layer("branch_pool", self.branch_pool.add_bias(&avg_pool3x3_same(&pooled_head)?)?)?;
        // Channel-major: the channel axis is the first, so this stacks whole blocks.
        tracer.layer(name, Tensor::cat(&[&b1, &b5, &b3, &bp], 0)?)
    }
}

impl Block for InceptionA {
    fn forward(&self, x: &Tensor, name: &str, t: &mut Tracer) -> Result<Tensor> {
        self.forward_traced(x, name, t)
    }
}
