//! What every model's forward pass shares: activations run channel-major
//! (C×N×H×W: a convolution is then one GEMM over the batch, see
//! `conv2d_gemm`), converted at the edges, and each layer's output is
//! reported to the caller as PyTorch lays it out (N×C×H×W, or N×features).

use candle_core::Tensor;

use super::{Conv2d, Linear};
use crate::ops::max_pool2x2_relu;
use crate::{Error, Result};

/// Reports layers to `on_layer` while a model runs.
pub struct Tracer<'a> {
    on_layer: &'a mut dyn FnMut(&str, &Tensor),
}

impl<'a> Tracer<'a> {
    pub fn new(on_layer: &'a mut dyn FnMut(&str, &Tensor)) -> Self {
        Self { on_layer }
    }

    /// N×1×H×W images to the channel-major layout.
    pub fn input(&mut self, images: &Tensor) -> Result<Tensor> {
        Ok(images.transpose(0, 1)?.contiguous()?)
    }

    /// Reports channel-major `t` as layer `name`, and passes it on.
    pub fn layer(&mut self, name: &str, t: Tensor) -> Result<Tensor> {
        (self.on_layer)(name, &t.transpose(0, 1)?);
        Ok(t)
    }

    /// `conv` (reported under its own name), then relu(max-pool 2×2) as `pool`.
    pub fn conv_pool(&mut self, conv: &Conv2d, x: &Tensor, pool: &str) -> Result<Tensor> {
        let y = self.layer(conv.name(), conv.forward(x)?)?;
        let &[c, n, h, w] = y.dims() else { unreachable!("a conv's output is 4-D") };
        if h < 2 || w < 2 {
            return Err(Error::InvalidArgument(format!(
                "layer {pool} (2×2 max pool) takes N×{c}×H×W with H, W ≥ 2, got {:?}",
                [n, c, h, w]
            )));
        }
        self.layer(pool, max_pool2x2_relu(&y)?)
    }

    /// Channel-major C×N×H×W to N×(C·H·W) in PyTorch's order, as `flatten`.
    pub fn flatten(&mut self, x: &Tensor) -> Result<Tensor> {
        let n = x.dim(1)?;
        let flat = x.transpose(0, 1)?.contiguous()?.reshape((n, ()))?;
        (self.on_layer)("flatten", &flat);
        Ok(flat)
    }

    /// N×features through `layer`, reported under its name.
    pub fn dense(&mut self, layer: &Linear, x: &Tensor) -> Result<Tensor> {
        let y = layer.forward(x)?;
        (self.on_layer)(layer.name(), &y);
        Ok(y)
    }

    /// Reports an N×features tensor that is no layer's own output (a pool).
    pub fn features(&mut self, name: &str, t: Tensor) -> Tensor {
        (self.on_layer)(name, &t);
        t
    }
}
