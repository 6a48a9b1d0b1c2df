use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::init::pytorch_uniform;
use super::{BatchNorm2d, Conv2d, Linear};
use crate::Result;

/// A trainable tensor and its PyTorch name (`incep1.branch5x5_2.weight`).
#[derive(Clone)]
pub struct NamedParam {
    pub name: String,
    pub var: Var,
}

/// Creates layers with initialized, named parameters and records them in
/// creation order.
pub struct ParamBuilder {
    rng: ChaCha8Rng,
    device: Device,
    prefix: Vec<String>,
    params: Vec<NamedParam>,
    buffers: Vec<NamedParam>,
}

impl ParamBuilder {
    pub fn new(seed: u64, device: Device) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(seed), device, prefix: Vec::new(), params: Vec::new(), buffers: Vec::new() }
    }

    /// Runs `f` with `name` appended to the prefix of every parameter it creates.
    pub fn scope<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.prefix.push(name.to_string());
        let out = f(self);
        self.prefix.pop();
        out
    }

    /// `name` under the current prefix, dotted as PyTorch names modules.
    fn full_name(&self, name: &str) -> String {
        let mut full = self.prefix.join(".");
        if !full.is_empty() {
            full.push('.');
        }
        full.push_str(name);
        full
    }

    fn param(&mut self, name: &str, shape: impl Into<Shape>, fan_in: usize) -> Result<Var> {
        let tensor = pytorch_uniform(&mut self.rng, shape, fan_in, &self.device)?;
        let var = Var::from_tensor(&tensor)?;
        self.params.push(NamedParam { name: self.full_name(name), var: var.clone() });
        Ok(var)
    }

    /// A `kernel`×`kernel` convolution with stride 1, `padding` zeros and a bias.
    pub fn conv2d(&mut self, name: &str, in_channels: usize, out_channels: usize, kernel: usize, padding: usize) -> Result<Conv2d> {
        let fan_in = in_channels * kernel * kernel;
        let layer = self.full_name(name);
        self.scope(name, |b| {
            let weight = b.param("weight", (out_channels, in_channels, kernel, kernel), fan_in)?;
            let bias = b.param("bias", out_channels, fan_in)?;
            Ok(Conv2d::new(layer, weight, bias, padding))
        })
    }

    /// A fully connected layer with a bias.
    pub fn linear(&mut self, name: &str, in_features: usize, out_features: usize) -> Result<Linear> {
        let layer = self.full_name(name);
        self.scope(name, |b| {
            let weight = b.param("weight", (out_features, in_features), in_features)?;
            let bias = b.param("bias", out_features, in_features)?;
            Ok(Linear::new(layer, weight, bias))
        })
    }

    /// A BatchNorm2d over `channels`, as PyTorch initializes it: γ = 1 and
    /// β = 0 (trainable), running mean 0 and variance 1 (buffers); `training`
    /// is the model's mode flag.
    pub fn batch_norm(&mut self, name: &str, channels: usize, training: &Arc<AtomicBool>) -> Result<BatchNorm2d> {
        let layer = self.full_name(name);
        let constant =
            |value: f64, device: &Device| -> Result<Var> { Ok(Var::from_tensor(&(Tensor::ones(channels, DType::F32, device)? * value)?)?) };
        let (weight, bias) = (constant(1.0, &self.device)?, constant(0.0, &self.device)?);
        let (mean, var) = (constant(0.0, &self.device)?, constant(1.0, &self.device)?);
        self.params.push(NamedParam { name: format!("{layer}.weight"), var: weight.clone() });
        self.params.push(NamedParam { name: format!("{layer}.bias"), var: bias.clone() });
        self.buffers.push(NamedParam { name: format!("{layer}.running_mean"), var: mean.clone() });
        self.buffers.push(NamedParam { name: format!("{layer}.running_var"), var: var.clone() });
        Ok(BatchNorm2d::new(layer, weight, bias, mean, var, training.clone()))
    }

    /// The trainable tensors created so far, in creation order.
    pub fn into_params(self) -> Vec<NamedParam> {
        self.params
    }

    /// The trainable tensors and the buffers (running statistics), each in
    /// creation order.
    pub fn into_parts(self) -> (Vec<NamedParam>, Vec<NamedParam>) {
        (self.params, self.buffers)
    }
}
