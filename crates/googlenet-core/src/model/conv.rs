use candle_core::{Tensor, Var};

use crate::ops::conv2d_gemm;
use crate::Result;

/// 2-D convolution with a bias on channel-major activations (C×N×H×W, see
/// `conv2d_gemm`); weight is out×in×k×k as in PyTorch. Shapes are checked
/// by the model's description before any layer runs.
pub struct Conv2d {
    weight: Var,
    bias: Var,
    stride: usize,
    padding: usize,
}

impl Conv2d {
    pub fn new(weight: Var, bias: Var, stride: usize, padding: usize) -> Self {
        Self { weight, bias, stride, padding }
    }

    /// Channel-major C×N×H×W in, Cout×N×Ho×Wo out. A strided convolution is
    /// the stride-1 one subsampled: exact, and this path is the reference
    /// and the accelerator's, where the waste does not matter.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let full = conv2d_gemm(x, &self.weight, &self.bias, self.padding)?;
        if self.stride == 1 {
            return Ok(full);
        }
        let keep = |len: usize| Tensor::arange_step(0u32, len as u32, self.stride as u32, x.device());
        let (h, w) = (full.dim(2)?, full.dim(3)?);
        Ok(full.index_select(&keep(h)?, 2)?.index_select(&keep(w)?, 3)?)
    }
}
