use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::{Error, Result};

/// SGD with momentum in PyTorch's form: buf = μ·buf + g (the first buf is g),
/// p −= lr·buf. No dampening, no weight decay, no Nesterov.
pub struct Sgd {
    vars: Vec<Var>,
    buffers: Vec<Option<Tensor>>,
    lr: f64,
    momentum: f64,
}

impl Sgd {
    /// Rejects a learning rate or momentum that cannot train (see
    /// [`Sgd::lr_rule`] and [`Sgd::momentum_rule`]).
    pub fn check_settings(lr: f64, momentum: f64) -> Result<()> {
        if let Some(rule) = Self::lr_rule(lr) {
            return Err(Error::InvalidArgument(format!("lr must be {rule} (got {lr})")));
        }
        if let Some(rule) = Self::momentum_rule(momentum) {
            return Err(Error::InvalidArgument(format!("momentum must be {rule} (got {momentum})")));
        }
        Ok(())
    }

    /// The rule a learning rate must follow, when `lr` breaks it: the
    /// binding shows it under the option's name (`lr`, `--lr`).
    pub fn lr_rule(lr: f64) -> Option<&'static str> {
        (!(lr.is_finite() && lr > 0.0)).then_some("a finite number > 0")
    }

    /// The rule a momentum must follow, when `momentum` breaks it.
    pub fn momentum_rule(momentum: f64) -> Option<&'static str> {
        (!(momentum.is_finite() && (0.0..1.0).contains(&momentum))).then_some("a finite number in [0, 1)")
    }

    pub fn new(vars: Vec<Var>, lr: f64, momentum: f64) -> Result<Self> {
        Self::check_settings(lr, momentum)?;
        let buffers = vec![None; vars.len()];
        Ok(Self { vars, buffers, lr, momentum })
    }

    /// The momentum buffers, one per variable (`None` before its first
    /// step, and always with momentum 0).
    pub fn buffers(&self) -> &[Option<Tensor>] {
        &self.buffers
    }

    /// Replaces the momentum buffers (from a checkpoint), one per variable
    /// in the order of `vars`.
    pub fn set_buffers(&mut self, buffers: Vec<Option<Tensor>>) -> Result<()> {
        if buffers.len() != self.vars.len() {
            return Err(Error::InvalidArgument(format!("{} momentum buffers for {} parameters", buffers.len(), self.vars.len())));
        }
        for (var, buffer) in self.vars.iter().zip(&buffers) {
            if let Some(b) = buffer.as_ref().filter(|b| b.dims() != var.dims()) {
                return Err(Error::InvalidArgument(format!("a momentum buffer has shape {:?}, its parameter {:?}", b.dims(), var.dims())));
            }
        }
        self.buffers = buffers;
        Ok(())
    }

    /// Applies one update from the gradients of the last backward pass;
    /// parameters without a gradient are left alone, as PyTorch does.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        for (var, buffer) in self.vars.iter().zip(self.buffers.iter_mut()) {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let direction = match buffer.take() {
                Some(previous) if self.momentum != 0.0 => (previous.affine(self.momentum, 0.0)? + grad)?,
                _ => grad.clone(),
            };
            var.set(&(var.as_tensor() - direction.affine(self.lr, 0.0)?)?)?;
            if self.momentum != 0.0 {
                *buffer = Some(direction);
            }
        }
        Ok(())
    }
}
