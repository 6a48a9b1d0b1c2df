use candle_core::{Tensor, Var};

use crate::{Error, Result};

/// y = x·Wᵀ + b, weight is out×in as in PyTorch.
pub struct Linear {
    name: String,
    weight: Var,
    bias: Var,
}

impl Linear {
    /// `name` is the layer's PyTorch name (`fc`), used in errors.
    pub fn new(name: String, weight: Var, bias: Var) -> Self {
        Self { name, weight, bias }
    }

    /// The layer's PyTorch name (`fc`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// N×in features in, N×out out.
    /// Fails, naming the layer and both shapes, when `x` has another width.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (out_features, in_features) = self.weight.dims2()?;
        if x.rank() != 2 || x.dim(1)? != in_features {
            return Err(Error::InvalidArgument(format!(
                "layer {} takes N×{in_features} features (out {out_features}), got {:?}",
                self.name,
                x.dims()
            )));
        }
        Ok(x.matmul(&self.weight.as_tensor().t()?)?.broadcast_add(self.bias.as_tensor())?)
    }
}
