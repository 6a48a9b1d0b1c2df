//! Learning-rate schedules: constant, step decay and cosine annealing, each
//! after an optional linear warm-up. They step once per batch (the lr of a
//! batch is a function of how many batches came before it), with lengths
//! given in epochs and turned into batches here. Each matches the
//! `torch.optim.lr_scheduler` composition stepped after every
//! `optimizer.step()`, with B batches per epoch, W = `warmup_epochs`·B and
//! N = `epochs`·B:
//!
//! - constant: no scheduler; with warm-up `LinearLR(start_factor, total_iters=W)`;
//! - step: `StepLR(step_size=every_epochs·B, gamma)`;
//! - cosine: `CosineAnnealingLR(T_max=N − W, eta_min=0)`;
//!
//! a warm-up before step or cosine is `SequentialLR([LinearLR(start_factor,
//! total_iters=W), that scheduler], milestones=[W])`, so the step and
//! cosine count from the end of the warm-up.

use std::f64::consts::PI;

use super::optimizer::check;
use crate::{Error, Result};

/// What happens to the learning rate after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    Constant,
    /// Multiplied by `gamma` every `every_epochs` epochs (PyTorch's `StepLR`).
    Step {
        every_epochs: usize,
        gamma: f64,
    },
    /// Half a cosine from the lr down to 0 at the end of the run.
    Cosine,
}

/// A schedule: a warm-up of `warmup_epochs` epochs from
/// `warmup_start_factor`·lr up to lr (none with 0), then `decay`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub decay: Decay,
    pub warmup_epochs: usize,
    pub warmup_start_factor: f64,
}

/// The schedules by the names users give them.
pub const SCHEDULE_NAMES: [&str; 3] = ["constant", "step", "cosine"];

/// PyTorch's `StepLR` default gamma, and a decay every epoch, as in
/// PyTorch's own MNIST example.
pub const DEFAULT_STEP_GAMMA: f64 = 0.1;
pub const DEFAULT_STEP_EPOCHS: usize = 1;
/// `LinearLR`'s default start factor.
pub const DEFAULT_WARMUP_START_FACTOR: f64 = 1.0 / 3.0;

impl Default for Schedule {
    /// The reference recipe's: a constant lr.
    fn default() -> Self {
        Self { decay: Decay::Constant, warmup_epochs: 0, warmup_start_factor: DEFAULT_WARMUP_START_FACTOR }
    }
}

/// The rule a step decay's gamma must follow.
pub fn step_gamma_rule(gamma: f64) -> Option<&'static str> {
    (!(gamma.is_finite() && gamma > 0.0 && gamma <= 1.0)).then_some("a finite number in (0, 1]")
}

/// The rule a warm-up's start factor must follow (`LinearLR`'s: (0, 1]).
pub fn warmup_start_factor_rule(factor: f64) -> Option<&'static str> {
    (!(factor.is_finite() && factor > 0.0 && factor <= 1.0)).then_some("a finite number in (0, 1]")
}

impl Schedule {
    /// The name users give its decay (`constant`, `step`, `cosine`).
    pub fn name(&self) -> &'static str {
        match self.decay {
            Decay::Constant => "constant",
            Decay::Step { .. } => "step",
            Decay::Cosine => "cosine",
        }
    }

    /// Rejects a schedule that cannot run over `epochs` epochs.
    pub fn validate(&self, epochs: usize) -> Result<()> {
        if let Decay::Step { every_epochs, gamma } = self.decay {
            if every_epochs == 0 {
                return Err(Error::InvalidArgument("stepEpochs must be at least 1".into()));
            }
            check("stepGamma", gamma, step_gamma_rule(gamma))?;
        }
        check("warmupStartFactor", self.warmup_start_factor, warmup_start_factor_rule(self.warmup_start_factor))?;
        if self.warmup_epochs > 0 && self.warmup_epochs >= epochs {
            return Err(Error::InvalidArgument(format!(
                "warmupEpochs must be fewer than the epochs (got {} of {epochs}): the warm-up ends before the run does",
                self.warmup_epochs
            )));
        }
        Ok(())
    }

    /// Whether the learning rates depend on the planned number of epochs
    /// (a cosine ends at 0 with the run), so a resumed run must keep it.
    pub fn depends_on_epochs(&self) -> bool {
        matches!(self.decay, Decay::Cosine)
    }

    /// The learning rate of batch `step` (0-based, counted over the whole
    /// run) for base rate `lr`, with `batches` batches per epoch and
    /// `epochs` epochs planned. Without warm-up or decay it is `lr` itself.
    pub fn lr_at(&self, lr: f64, step: usize, batches: usize, epochs: usize) -> f64 {
        let warmup = self.warmup_epochs * batches;
        if step < warmup {
            let factor = self.warmup_start_factor;
            return lr * (factor + (1.0 - factor) * step as f64 / warmup as f64);
        }
        let since = step - warmup;
        match self.decay {
            Decay::Constant => lr,
            Decay::Step { every_epochs, gamma } => lr * gamma.powi((since / (every_epochs * batches).max(1)) as i32),
            Decay::Cosine => {
                let span = (epochs * batches).saturating_sub(warmup).max(1);
                lr * (1.0 + (PI * since.min(span) as f64 / span as f64).cos()) / 2.0
            }
        }
    }
}
