use candle_core::{Tensor, Var};

use crate::ops::conv2d_gemm;
use crate::Result;

/// 2-D convolution, stride 1, with a bias, on channel-major activations
/// (C×N×H×W, see `conv2d_gemm`); weight is out×in×k×k as in PyTorch.
pub struct Conv2d {
    weight: Var,
    bias: Var,
    padding: usize,
}

impl Conv2d {
    pub fn new(weight: Var, bias: Var, padding: usize) -> Self {
        Self { weight, bias, padding }
    }

    pub fn weight(&self) -> &Var {
        &self.weight
    }

    /// Adds the bias to channel-major pre-activations (Cout×N×H×W).
    pub fn add_bias(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.broadcast_add(&self.bias.as_tensor().reshape(((), 1, 1, 1))?)?)
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(conv2d_gemm(x, &self.weight, &self.bias, self.padding)?)
    }
}
