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

use crate::options::{check_value, Command, OptionError};
use crate::Result;

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
            check_value(Command::Fit, "stepEpochs", every_epochs)?;
            check_value(Command::Fit, "stepGamma", gamma)?;
        }
        check_value(Command::Fit, "warmupStartFactor", self.warmup_start_factor)?;
        if self.warmup_epochs > 0 && self.warmup_epochs >= epochs {
            let rule = format!("must be fewer than the epochs ({epochs}): the warm-up ends before the run does");
            return Err(OptionError::value("warmupEpochs", rule, &self.warmup_epochs.into()).into());
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
