//! A training state for a checkpoint of `model`, one epoch and two batches
//! into a run of 8 images in `order`: what the hostile-input tests mutate
//! and the fuzz seeds (`examples/fuzz_seeds.rs`, which includes this file)
//! start from. Momentum buffers of zeros, one per parameter.

use googlenet_core::model::Model;
use googlenet_core::train::{EpochSummary, TrainState};

pub fn sample_state(model: &dyn Model, order: Vec<u32>) -> candle_core::Result<TrainState> {
    let optimizer = model
        .parameters()
        .iter()
        .map(|p| Ok((format!("momentum.{}", p.name), p.var.as_tensor().zeros_like()?)))
        .collect::<candle_core::Result<_>>()?;
    Ok(TrainState {
        epochs_done: 1,
        batches_done: 2,
        rng_word_pos: 64,
        order,
        optimizer,
        optimizer_step: 10,
        epoch_loss_sum: 4.5,
        test_accuracy: Some(0.5),
        history: vec![EpochSummary { epoch: 1, loss: 0.5, seconds: 1.0, train_images_per_sec: 100.0, test: None, eval_seconds: None }],
    })
}
