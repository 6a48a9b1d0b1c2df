//! The optimizers, as `torch.optim` defines them: SGD (momentum, Nesterov,
//! weight decay; no dampening), Adam and AdamW. Their settings are declared
//! with every other option in `crate::options`; the update rule is here, written over
//! flat f32 buffers: the CPU engine applies it to its one parameter buffer.
//! The candle path (CUDA, and the CPU for models the engine does not take)
//! must keep its tensors on the device, so `candle_optimizer.rs` writes the
//! same arithmetic with tensor ops; tests/suite/optimizer.rs replays one PyTorch
//! fixture through both.

use crate::options::{check_value, Command, OptionError};
use crate::Result;

/// SGD's settings beyond the learning rate (PyTorch's `SGD`, dampening 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdSettings {
    pub momentum: f64,
    /// Nesterov momentum: the step is g + μ·buf instead of buf.
    pub nesterov: bool,
    /// L2 penalty added to the gradient: g + λ·p.
    pub weight_decay: f64,
}

/// Adam's and AdamW's settings beyond the learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamSettings {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Adam adds λ·p to the gradient; AdamW decays the weights apart from
    /// it, p ← p·(1 − lr·λ).
    pub weight_decay: f64,
}

/// The update rule and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    Sgd(SgdSettings),
    Adam(AdamSettings),
    AdamW(AdamSettings),
}

impl Optimizer {
    /// The name users give it (`sgd`, `adam`, `adamw`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "sgd",
            Self::Adam(_) => "adam",
            Self::AdamW(_) => "adamw",
        }
    }

    /// Rejects settings that cannot train, naming the setting.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Sgd(s) => {
                check_value(Command::Fit, "momentum", s.momentum)?;
                check_value(Command::Fit, "weightDecay", s.weight_decay)?;
                if s.nesterov && s.momentum == 0.0 {
                    // PyTorch refuses it too: without momentum there is nothing to look ahead with.
                    return Err(OptionError::conflict("nesterov", "needs a momentum > 0").into());
                }
            }
            Self::Adam(a) | Self::AdamW(a) => {
                for (name, value) in [("beta1", a.beta1), ("beta2", a.beta2), ("eps", a.eps), ("weightDecay", a.weight_decay)] {
                    check_value(Command::Fit, name, value)?;
                }
            }
        }
        Ok(())
    }

    /// The buffers it keeps per parameter, by the names a checkpoint
    /// stores them under (`optimizer.<slot>.<parameter>`; SGD's
    /// `momentum` is the name checkpoints have always used).
    pub fn slots(&self) -> &'static [&'static str] {
        match self {
            Self::Sgd(_) => &["momentum"],
            Self::Adam(_) | Self::AdamW(_) => &["exp_avg", "exp_avg_sq"],
        }
    }

    /// One update of `params` from `grads` at learning rate `lr`, exactly
    /// as `torch.optim` computes it on the CPU (its single-tensor code).
    /// `state` holds the slots' buffers, each as long as `params`, created
    /// by the first step (empty before it); `step` is the number of this
    /// update, from 1 (Adam's bias correction).
    pub fn update(&self, params: &mut [f32], grads: &[f32], state: &mut Vec<Vec<f32>>, step: u64, lr: f32) {
        debug_assert_eq!(params.len(), grads.len());
        match *self {
            Self::Sgd(s) => sgd_update(s, params, grads, state, lr),
            Self::Adam(a) => adam_update(a, false, params, grads, state, step, lr),
            Self::AdamW(a) => adam_update(a, true, params, grads, state, step, lr),
        }
    }
}

/// PyTorch's SGD: g ← g + λ·p; buf ← μ·buf + g (the first buf is g);
/// d ← g + μ·buf with Nesterov, buf otherwise; p ← p − lr·d. Without
/// weight decay and Nesterov these are the very operations the engine did
/// before there was a choice of optimizer, so the reference recipe trains
/// bit for bit as it did.
fn sgd_update(s: SgdSettings, params: &mut [f32], grads: &[f32], state: &mut Vec<Vec<f32>>, lr: f32) {
    let (momentum, weight_decay) = (s.momentum as f32, s.weight_decay as f32);
    let first = state.is_empty();
    if first {
        state.push(vec![0.0; params.len()]);
    }
    let buf = &mut state[0];
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
        let g = if weight_decay != 0.0 { g + weight_decay * *p } else { g };
        *b = if first || momentum == 0.0 { g } else { momentum * *b + g };
        let d = if s.nesterov { g + momentum * *b } else { *b };
        *p -= lr * d;
    }
}

/// PyTorch's Adam (and AdamW with `decoupled`): m ← m + (1 − β1)(g − m),
/// v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε);
/// the bias corrections in f64, as Python computes them.
fn adam_update(a: AdamSettings, decoupled: bool, params: &mut [f32], grads: &[f32], state: &mut Vec<Vec<f32>>, step: u64, lr: f32) {
    if state.is_empty() {
        state.extend([vec![0.0; params.len()], vec![0.0; params.len()]]);
    }
    let [m, v] = &mut state[..] else { unreachable!("Adam keeps two buffers") };
    let (beta1, beta2, eps, weight_decay) = (a.beta1 as f32, a.beta2 as f32, a.eps as f32, a.weight_decay as f32);
    let t = step as i32;
    let step_size = (lr as f64 / (1.0 - a.beta1.powi(t))) as f32;
    let correction2_sqrt = ((1.0 - a.beta2.powi(t)).sqrt()) as f32;
    let decay = if decoupled { (1.0 - lr as f64 * a.weight_decay) as f32 } else { 1.0 };
    for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = if !decoupled && weight_decay != 0.0 { g + weight_decay * *p } else { g };
        if decoupled && weight_decay != 0.0 {
            *p *= decay;
        }
        *m += (1.0 - beta1) * (g - *m);
        *v = beta2 * *v + (1.0 - beta2) * g * g;
        let denom = v.sqrt() / correction2_sqrt + eps;
        *p -= step_size * (*m / denom);
    }
}
