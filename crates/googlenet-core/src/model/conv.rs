use candle_core::{Tensor, Var};

use crate::ops::conv2d_gemm;
use crate::Result;

/// 2-D convolution, stride 1, with a bias; weight is out×in×k×k.
pub struct Conv2d {
    weight: Var,
    bias: Var,
    padding: usize,
}

impl Conv2d {
    pub fn new(weight: Var, bias: Var, padding: usize) -> Self {
        Self { weight, bias, padding }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(conv2d_gemm(x, &self.weight, &self.bias, self.padding)?)
    }
}
