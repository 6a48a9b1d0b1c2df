//! Where a training run stands between batches: everything besides the
//! weights that a resumed run needs to continue exactly as if it had never
//! stopped (on the CPU, bit for bit).

use candle_core::Tensor;

use super::{EpochSummary, FitConfig, Optimizer};
use crate::model::Model;
use crate::{Error, Result};

/// The state of a run after `epochs_done` whole epochs and `batches_done`
/// batches of the next one (0 at an epoch boundary).
#[derive(Debug, Clone)]
pub struct TrainState {
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done + 1` already trained; non-zero only
    /// for a run stopped mid-epoch.
    pub batches_done: usize,
    /// The shuffle generator's position in its stream (ChaCha8, seeded by
    /// the recipe's seed): the next epoch's shuffle continues from here.
    pub rng_word_pos: u128,
    /// The training order of the current epoch; the next shuffle permutes it
    /// in place, as an uninterrupted run does.
    pub order: Vec<u32>,
    /// The optimizer's buffers, on the CPU, each named
    /// `<slot>.<parameter>` (`momentum.conv1.weight`, `exp_avg.fc.bias`;
    /// see [`Optimizer::slots`]); empty before the first step.
    pub optimizer: Vec<(String, Tensor)>,
    /// Updates the optimizer has made (Adam's bias correction counts them).
    pub optimizer_step: u64,
    /// Sum of the batch losses of the unfinished epoch, so its mean covers
    /// the batches trained before the stop too.
    pub epoch_loss_sum: f64,
    /// Test accuracy after the last finished epoch, if it was evaluated.
    pub test_accuracy: Option<f64>,
    /// Every finished epoch's summary, earlier runs' included.
    pub history: Vec<EpochSummary>,
}

impl TrainState {
    /// Checks that this state can continue `config` on a training set of
    /// `train_len` images.
    pub fn check_resumable(&self, config: &FitConfig, train_len: usize) -> Result<()> {
        if self.order.len() != train_len {
            return Err(Error::InvalidArgument(format!(
                "the checkpoint was trained on {} images, this training set has {train_len}: resume with the same data and limit",
                self.order.len()
            )));
        }
        let mut seen = vec![false; train_len];
        for &i in &self.order {
            match seen.get_mut(i as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err(Error::InvalidArgument("the checkpoint's training order is not a permutation of the training set".into())),
            }
        }
        let batches = train_len.div_ceil(config.batch_size);
        if self.batches_done >= batches {
            return Err(Error::InvalidArgument(format!(
                "the checkpoint stopped after batch {} of an epoch of {batches}",
                self.batches_done
            )));
        }
        if self.epochs_done >= config.epochs {
            return Err(Error::InvalidArgument(format!(
                "the checkpoint has finished {} of {} epochs: nothing left to train (ask for more epochs)",
                self.epochs_done, config.epochs
            )));
        }
        Ok(())
    }
}

/// Checks that each of `buffers` is named `<slot>.<parameter>` for a slot
/// of `optimizer` and a parameter of `model`, and has its shape.
pub(crate) fn check_optimizer_buffers(model: &dyn Model, optimizer: &Optimizer, buffers: &[(String, Tensor)]) -> Result<()> {
    for (key, buffer) in buffers {
        let Some((slot, name)) = optimizer.slots().iter().find_map(|s| Some((*s, key.strip_prefix(s)?.strip_prefix('.')?))) else {
            return Err(Error::InvalidArgument(format!(
                "optimizer buffer '{key}' is none of the {} optimizer's ({})",
                optimizer.name(),
                optimizer.slots().join(", ")
            )));
        };
        let Some(p) = model.parameters().iter().find(|p| p.name == name) else {
            return Err(Error::InvalidArgument(format!("{slot} for '{name}': model '{}' has no such parameter", model.name())));
        };
        if buffer.dims() != p.var.dims() {
            return Err(Error::InvalidArgument(format!(
                "{slot} for '{name}' has shape {:?}, the parameter {:?}",
                buffer.dims(),
                p.var.dims()
            )));
        }
    }
    Ok(())
}
