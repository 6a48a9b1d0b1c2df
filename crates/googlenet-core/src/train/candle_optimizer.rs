//! The optimizers of `optimizer.rs` on candle tensors, for training through
//! candle's autograd (CUDA, and models the CPU engine does not take): the
//! same arithmetic as [`Optimizer::update`], in tensor ops so that the
//! parameters and buffers stay on the device. tests/suite/optimizer.rs holds both
//! to PyTorch's numbers.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::optimizer::{AdamSettings, Optimizer, SgdSettings};
use crate::{Error, Result};

/// An [`Optimizer`] over candle variables, with its buffers per variable.
pub struct CandleOptimizer {
    vars: Vec<Var>,
    optimizer: Optimizer,
    /// Per variable, its buffers in the order of [`Optimizer::slots`];
    /// empty before its first step (and always for SGD without momentum).
    buffers: Vec<Vec<Tensor>>,
    /// Updates made so far.
    step: u64,
}

impl CandleOptimizer {
    pub fn new(vars: Vec<Var>, optimizer: Optimizer) -> Result<Self> {
        optimizer.validate()?;
        let buffers = vec![Vec::new(); vars.len()];
        Ok(Self { vars, optimizer, buffers, step: 0 })
    }

    /// The buffers, per variable (empty before its first step).
    pub fn buffers(&self) -> &[Vec<Tensor>] {
        &self.buffers
    }

    /// Updates made so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Replaces the buffers and the step count (from a checkpoint): per
    /// variable in the order of `vars`, none or one per slot.
    pub fn set_state(&mut self, buffers: Vec<Vec<Tensor>>, step: u64) -> Result<()> {
        if buffers.len() != self.vars.len() {
            return Err(Error::InvalidArgument(format!(
                "optimizer buffers for {} parameters, the model has {}",
                buffers.len(),
                self.vars.len()
            )));
        }
        let slots = self.optimizer.slots().len();
        for (var, buffers) in self.vars.iter().zip(&buffers) {
            if !buffers.is_empty() && buffers.len() != slots {
                return Err(Error::InvalidArgument(format!(
                    "{} optimizer buffers for a parameter, the optimizer keeps {slots}",
                    buffers.len()
                )));
            }
            if let Some(b) = buffers.iter().find(|b| b.dims() != var.dims()) {
                return Err(Error::InvalidArgument(format!(
                    "an optimizer buffer has shape {:?}, its parameter {:?}",
                    b.dims(),
                    var.dims()
                )));
            }
        }
        (self.buffers, self.step) = (buffers, step);
        Ok(())
    }

    /// Applies one update at learning rate `lr` from the gradients of the
    /// last backward pass; parameters without a gradient are left alone, as
    /// PyTorch does.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        for (var, buffers) in self.vars.iter().zip(self.buffers.iter_mut()) {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            match self.optimizer {
                Optimizer::Sgd(s) => sgd_step(s, var, grad, buffers, lr)?,
                Optimizer::Adam(a) => adam_step(a, false, var, grad, buffers, self.step, lr)?,
                Optimizer::AdamW(a) => adam_step(a, true, var, grad, buffers, self.step, lr)?,
            }
        }
        Ok(())
    }
}

/// [`Optimizer::update`]'s SGD; without weight decay and Nesterov, the
/// operations this path always made.
fn sgd_step(s: SgdSettings, var: &Var, grad: &Tensor, buffers: &mut Vec<Tensor>, lr: f64) -> Result<()> {
    let g = if s.weight_decay != 0.0 { (grad + var.as_tensor().affine(s.weight_decay, 0.0)?)? } else { grad.clone() };
    let buf = match buffers.first() {
        Some(previous) if s.momentum != 0.0 => (previous.affine(s.momentum, 0.0)? + &g)?,
        _ => g.clone(),
    };
    let direction = if s.nesterov { (&g + buf.affine(s.momentum, 0.0)?)? } else { buf.clone() };
    var.set(&(var.as_tensor() - direction.affine(lr, 0.0)?)?)?;
    if s.momentum != 0.0 {
        *buffers = vec![buf];
    }
    Ok(())
}

/// [`Optimizer::update`]'s Adam (AdamW with `decoupled`).
fn adam_step(a: AdamSettings, decoupled: bool, var: &Var, grad: &Tensor, buffers: &mut Vec<Tensor>, step: u64, lr: f64) -> Result<()> {
    if buffers.is_empty() {
        *buffers = vec![grad.zeros_like()?, grad.zeros_like()?];
    }
    let mut param = var.as_tensor().clone();
    let g = if !decoupled && a.weight_decay != 0.0 { (grad + param.affine(a.weight_decay, 0.0)?)? } else { grad.clone() };
    if decoupled && a.weight_decay != 0.0 {
        param = param.affine(1.0 - lr * a.weight_decay, 0.0)?;
    }
    let m = (&buffers[0] + (&g - &buffers[0])?.affine(1.0 - a.beta1, 0.0)?)?;
    let v = (buffers[1].affine(a.beta2, 0.0)? + g.sqr()?.affine(1.0 - a.beta2, 0.0)?)?;
    let t = step as i32;
    let step_size = lr / (1.0 - a.beta1.powi(t));
    let correction2_sqrt = (1.0 - a.beta2.powi(t)).sqrt();
    let denom = v.sqrt()?.affine(1.0 / correction2_sqrt, a.eps)?;
    var.set(&(param - (m.div(&denom)?).affine(step_size, 0.0)?)?)?;
    *buffers = vec![m, v];
    Ok(())
}
