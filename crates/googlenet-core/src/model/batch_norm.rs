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
            if !x.device().is_cpu() {
                return self.forward_composed(x, channels, per_channel);
            }
            let stats = batch_stats(x)?;
            let (mean, var) = (stats.narrow(1, 0, 1)?, stats.narrow(1, 1, 1)?);
            self.update_running(&mean, &var, per_channel)?;
            (mean, var)
        } else {
            (self.running_mean.as_tensor().reshape((channels, 1))?, self.running_var.as_tensor().reshape((channels, 1))?)
        };
        let column = |v: &Var| v.as_tensor().reshape((channels, 1));
        if !x.device().is_cpu() {
            return self.evaluate_composed(x, channels, per_channel);
        }
        let packed = Tensor::cat(&[&mean, &var, &column(&self.weight)?, &column(&self.bias)?], 1)?;
        Ok(batch_norm(x, &packed, BN_EPS, training)?)
    }

    /// Evaluation on an accelerator: an affine map per channel, from the
    /// running statistics.
    fn evaluate_composed(&self, x: &Tensor, channels: usize, per_channel: usize) -> Result<Tensor> {
        let column = |v: &Var| v.as_tensor().reshape((channels, 1));
        let scale = (column(&self.weight)? / (column(&self.running_var)? + BN_EPS)?.sqrt()?)?;
        let shift = (column(&self.bias)? - (column(&self.running_mean)? * &scale)?)?;
        let flat = x.reshape((channels, per_channel))?;
        Ok(flat.broadcast_mul(&scale)?.broadcast_add(&shift)?.reshape(x.shape())?)
    }

    /// Training on an accelerator, where our fused kernels have no port
    /// yet: the same arithmetic from candle's own ops, whose autograd gives
    /// the backward pass (the batch statistics' dependence on the input
    /// included).
    fn forward_composed(&self, x: &Tensor, channels: usize, per_channel: usize) -> Result<Tensor> {
        let flat = x.reshape((channels, per_channel))?;
        let mean = flat.mean_keepdim(1)?;
        let centered = flat.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(1)?;
        self.update_running(&mean.detach(), &var.detach(), per_channel)?;
        let column = |v: &Var| v.as_tensor().reshape((channels, 1));
        let y =
            centered.broadcast_div(&(var + BN_EPS)?.sqrt()?)?.broadcast_mul(&column(&self.weight)?)?.broadcast_add(&column(&self.bias)?)?;
        Ok(y.reshape(x.shape())?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn layer(training: bool) -> BatchNorm2d {
        let var = |t: Tensor| Var::from_tensor(&t).unwrap();
        let dev = &Device::Cpu;
        BatchNorm2d::new(
            "bn".into(),
            var(Tensor::randn(1f64, 0.3, 3, dev).unwrap()),
            var(Tensor::randn(0f64, 0.3, 3, dev).unwrap()),
            var(Tensor::new(&[0.3f64, -0.2, 1.0], dev).unwrap()),
            var(Tensor::new(&[2.0f64, 0.5, 1.5], dev).unwrap()),
            Arc::new(AtomicBool::new(training)),
        )
    }

    /// The accelerators' composed path computes what the fused CPU kernels
    /// do: outputs, running statistics and every gradient, in both modes.
    #[test]
    fn the_composed_path_matches_the_fused_kernels() {
        for training in [true, false] {
            let x = Var::from_tensor(&Tensor::randn(0.5f64, 2.0, (3, 4, 3, 2), &Device::Cpu).unwrap()).unwrap();
            let r = Tensor::randn(0f64, 1.0, (3, 4, 3, 2), &Device::Cpu).unwrap();
            let run = |composed: bool| {
                let bn = layer(training);
                // Same parameters for both runs.
                bn.weight.set(&Tensor::new(&[0.9f64, 1.2, 1.1], &Device::Cpu).unwrap()).unwrap();
                bn.bias.set(&Tensor::new(&[0.1f64, -0.3, 0.2], &Device::Cpu).unwrap()).unwrap();
                let y = match (composed, training) {
                    (false, _) => bn.forward(x.as_tensor()).unwrap(),
                    (true, true) => bn.forward_composed(x.as_tensor(), 3, 24).unwrap(),
                    (true, false) => bn.evaluate_composed(x.as_tensor(), 3, 24).unwrap(),
                };
                let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
                let values = |t: &Tensor| t.flatten_all().unwrap().to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap();
                let mut all = vec![values(&y), values(bn.running_mean.as_tensor()), values(bn.running_var.as_tensor())];
                for v in [&x, &bn.weight, &bn.bias] {
                    all.push(values(grads.get(v.as_tensor()).unwrap()));
                }
                all
            };
            for (fused, composed) in run(false).iter().zip(run(true)) {
                for (a, b) in fused.iter().zip(&composed) {
                    assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "training {training}: {a} vs {b}");
                }
            }
        }
    }
}
