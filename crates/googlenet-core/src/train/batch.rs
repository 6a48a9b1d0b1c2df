//! Batch sizes: evaluation's, and the bounds every batch size is held to
//! (training, evaluation, prediction and benchmarks alike).

use crate::{Error, Result};

/// Batch size for evaluation and prediction: larger than training's (no
/// gradients are kept) but small enough that conv2's im2col buffer
/// (batch × 2200 × 64 floats) stays near 36 MB.
pub const EVAL_BATCH_SIZE: usize = 256;

/// The largest batch for training, evaluation and benchmarks. Memory grows
/// with the batch (activations, im2col buffers, gradients), so a typo such as
/// a batch of a million is refused before anything is allocated; 1024 is 16
/// times the reference recipe's batch.
pub const MAX_BATCH_SIZE: usize = 1024;

/// Refuses a batch size of 0 or above [`MAX_BATCH_SIZE`].
pub(crate) fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 || batch_size > MAX_BATCH_SIZE {
        return Err(Error::InvalidArgument(format!("batch size must be in [1, {MAX_BATCH_SIZE}] (got {batch_size})")));
    }
    Ok(())
}
