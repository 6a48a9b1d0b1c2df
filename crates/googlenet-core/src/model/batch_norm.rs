use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use candle_core::{Tensor, Var};

use crate::ops::{batch_norm, batch_stats};
use crate::{Error, Result};

/// PyTorch's defaults.
pub const BN_MOMENTUM: f64 = 0.1;
pub const BN_EPS: f64 = 1e-5;

/// BatchNorm2d over channel-major activations (C×N×H×W), as PyTorch's
/// `nn.BatchNorm2d` (momentum 0.1, eps 1e-5, affine, running statistics).
///
/// In training mode it normalizes with the batch's mean and biased variance
/// and moves the running statistics toward them (the variance's unbiased
/// form, as PyTorch does); in evaluation mode it normalizes with the
/// running statistics. The mode is a flag shared by all of a model's
/// layers, set by the model ([`super::Model::set_training`]).
pub struct BatchNorm2d {
    name: String,
    /// γ, initialized to 1.
    weight: Var,
    /// β, initialized to 0.
    bias: Var,
    running_mean: Var,
    running_var: Var,
    training: Arc<AtomicBool>,
}

impl BatchNorm2d {
    pub fn new(name: String, weight: Var, bias: Var, running_mean: Var, running_var: Var, training: Arc<AtomicBool>) -> Self {
        Self { name, weight, bias, running_mean, running_var, training }
    }

    /// The layer's PyTorch name (`layer1.0.bn1`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Channel-major in and out (C×N×H×W, its channels checked by the
    /// model's description); works in the dtype of its parameters.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let channels = self.weight.dim(0)?;
        let dims = x.dims().to_vec();
        let per_channel = dims[1] * dims[2] * dims[3];
        let training = self.training.load(Ordering::Relaxed);
        let (mean, var) = if training {
            if per_channel < 2 {
                // Shown as PyTorch lays the input out: N×C×H×W.
                return Err(Error::InvalidArgument(format!(
                    "layer {}: batch norm in training needs more than one value per channel (got {:?})",
                    self.name,
                    [dims[1], dims[0], dims[2], dims[3]]
                )));
            }
            let stats = batch_stats(x)?;
            let (mean, var) = (stats.narrow(1, 0, 1)?, stats.narrow(1, 1, 1)?);
            self.update_running(&mean, &var, per_channel)?;
            (mean, var)
        } else {
            (self.running_mean.as_tensor().reshape((channels, 1))?, self.running_var.as_tensor().reshape((channels, 1))?)
        };
        let column = |v: &Var| v.as_tensor().reshape((channels, 1));
        let packed = Tensor::cat(&[&mean, &var, &column(&self.weight)?, &column(&self.bias)?], 1)?;
        Ok(batch_norm(x, &packed, BN_EPS, training)?)
    }

    /// running = (1 − momentum)·running + momentum·batch statistic.
    fn update_running(&self, mean: &Tensor, biased_var: &Tensor, count: usize) -> Result<()> {
        let unbiased = (biased_var * (count as f64 / (count - 1) as f64))?;
        for (running, batch) in [(&self.running_mean, mean), (&self.running_var, &unbiased)] {
            let moved = ((running.as_tensor() * (1.0 - BN_MOMENTUM))? + (batch.flatten_all()? * BN_MOMENTUM)?)?;
            running.set(&moved)?;
        }
        Ok(())
    }
}
