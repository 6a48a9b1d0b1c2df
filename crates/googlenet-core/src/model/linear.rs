use candle_core::{Tensor, Var};

use crate::Result;

/// y = x·Wᵀ + b, weight is out×in as in PyTorch; N×in features in, N×out
/// out. Shapes are checked by the model's description.
pub struct Linear {
    weight: Var,
    bias: Var,
}

impl Linear {
    pub fn new(weight: Var, bias: Var) -> Self {
        Self { weight, bias }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(&self.weight.as_tensor().t()?)?.broadcast_add(self.bias.as_tensor())?)
    }
}
