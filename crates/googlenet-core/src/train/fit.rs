use std::ops::ControlFlow;
use std::time::Instant;

use candle_core::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::evaluate::check_dataset;
use super::optimizer::{check, lr_rule, Optimizer};
use super::recipe::RecipeSettings;
use super::runner::{read_losses, Runner, StepLoss};
use super::schedule::Schedule;
use super::{evaluate, EvalResult, TrainState};
use crate::data::Dataset;
use crate::model::Model;
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

/// The training recipe. [`Default`] is the reference: 10 epochs, batch 64,
/// SGD at a constant lr 0.01 with momentum 0.5, seed 0 (as the PyTorch
/// reference script).
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// The base learning rate, which `schedule` scales batch by batch.
    pub lr: f64,
    pub optimizer: Optimizer,
    pub schedule: Schedule,
    /// Seeds the per-epoch shuffle.
    pub seed: u64,
    /// ε of the training loss's label smoothing, as PyTorch's
    /// `CrossEntropyLoss(label_smoothing = ε)`: 0 (the default) is plain
    /// cross-entropy. Evaluation's loss is never smoothed.
    pub label_smoothing: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            lr: 0.01,
            optimizer: Optimizer::default(),
            schedule: Schedule::default(),
            seed: 0,
            label_smoothing: 0.0,
        }
    }
}

impl FitConfig {
    /// The recipe of `settings` (the unset ones at their defaults), checked.
    pub fn from_settings(epochs: usize, batch_size: usize, seed: u64, settings: &RecipeSettings) -> Result<Self> {
        let (lr, optimizer, schedule) = settings.resolve()?;
        let config = Self { epochs, batch_size, lr, optimizer, schedule, seed, label_smoothing: 0.0 };
        config.validate()?;
        Ok(config)
    }

    /// The optimizer and schedule settings of this recipe, every one they use.
    pub fn settings(&self) -> RecipeSettings {
        RecipeSettings::of(self.lr, &self.optimizer, &self.schedule)
    }

    /// Rejects settings that cannot train.
    pub fn validate(&self) -> Result<()> {
        check("lr", self.lr, lr_rule(self.lr))?;
        self.optimizer.validate()?;
        if self.epochs == 0 {
            return Err(Error::InvalidArgument("epochs must be at least 1".into()));
        }
        self.schedule.validate(self.epochs)?;
        check_batch_size(self.batch_size)
    }

    /// The learning rate of batch `step` (0-based over the whole run) with
    /// `batches` batches per epoch.
    pub fn lr_at(&self, step: usize, batches: usize) -> f64 {
        self.schedule.lr_at(self.lr, step, batches, self.epochs)
    }

    /// Refuses to continue a run `recorded` in a checkpoint with another
    /// recipe: all but the number of epochs must be the same, or the
    /// resumed run would not be the one that stopped.
    pub fn check_continues(&self, recorded: &FitConfig) -> Result<()> {
        let differs = |what: &str, ours: String, theirs: String| {
            Err(Error::InvalidArgument(format!("{what} {ours} differs from the checkpoint's {theirs}: a resumed run keeps its recipe")))
        };
        if self.batch_size != recorded.batch_size {
            return differs("batch size", self.batch_size.to_string(), recorded.batch_size.to_string());
        }
        let (ours, theirs) = (self.settings().entries(), recorded.settings().entries());
        for ((name, _, ours), (_, _, theirs)) in ours.into_iter().zip(theirs) {
            if ours != theirs {
                let show = |v: Option<String>| v.unwrap_or_else(|| "(none)".into());
                return differs(name, show(ours), show(theirs));
            }
        }
        if self.seed != recorded.seed {
            return differs("seed", self.seed.to_string(), recorded.seed.to_string());
        }
        if self.epochs != recorded.epochs && self.schedule.depends_on_epochs() {
            return Err(Error::InvalidArgument(format!(
                "epochs {} differs from the checkpoint's {}: a cosine schedule ends with the planned epochs, so a resumed run keeps them",
                self.epochs, recorded.epochs
            )));
        }
        Ok(())
    }
}

/// Progress after one training batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchProgress {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Mean cross-entropy of this batch.
    pub loss: f32,
    /// Training images seen in this epoch so far.
    pub images_seen: usize,
    /// Seconds since the epoch started.
    pub elapsed_secs: f64,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Training time of the epoch, evaluation excluded.
    pub seconds: f64,
    pub train_images_per_sec: f64,
    /// The model on the validation set after the epoch, if one was given.
    pub test: Option<EvalResult>,
    pub eval_seconds: Option<f64>,
}

impl EpochSummary {
    /// One JSON object, as the examples print per epoch and a checkpoint
    /// keeps its history: `{"type":"epoch","epoch","loss","seconds",
    /// "trainImagesPerSec"}`, plus `testAccuracy`, `testCorrect`,
    /// `testTotal`, `testLoss` and `evalSeconds` after an evaluation.
    pub fn to_json(&self) -> String {
        let mut json = format!(
            "{{\"type\":\"epoch\",\"epoch\":{},\"loss\":{},\"seconds\":{:.3},\"trainImagesPerSec\":{:.1}",
            self.epoch, self.loss, self.seconds, self.train_images_per_sec
        );
        if let (Some(test), Some(eval_seconds)) = (&self.test, self.eval_seconds) {
            json += &format!(
                ",\"testAccuracy\":{},\"testCorrect\":{},\"testTotal\":{},\"testLoss\":{},\"evalSeconds\":{:.3}",
                test.accuracy, test.correct, test.total, test.loss, eval_seconds
            );
        }
        json + "}"
    }

    /// Reads [`EpochSummary::to_json`]'s line back; says what is wrong with
    /// a line that is not one ("is not a JSON object (…)", "lacks …").
    pub fn from_json(line: &str) -> std::result::Result<Self, String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| format!("is not a JSON object ({e})"))?;
        let number = |key: &str| object.get(key).and_then(serde_json::Value::as_f64);
        let count = |key: &str| object.get(key).and_then(serde_json::Value::as_u64).map(|v| v as usize);
        let need = |key: &str, value: Option<f64>| value.ok_or_else(|| format!("lacks a number '{key}'"));
        let test = match (number("testAccuracy"), count("testCorrect"), count("testTotal"), number("testLoss")) {
            (None, None, None, None) => None,
            (Some(accuracy), Some(correct), Some(total), Some(loss)) => Some(EvalResult { correct, total, accuracy, loss }),
            _ => return Err("lacks some of testAccuracy, testCorrect, testTotal and testLoss (they go together)".into()),
        };
        Ok(Self {
            epoch: count("epoch").ok_or("lacks a whole number 'epoch'")?,
            loss: need("loss", number("loss"))?,
            seconds: need("seconds", number("seconds"))?,
            train_images_per_sec: need("trainImagesPerSec", number("trainImagesPerSec"))?,
            eval_seconds: match &test {
                Some(_) => Some(need("evalSeconds", number("evalSeconds"))?),
                None => None,
            },
            test,
        })
    }
}

/// Reported to the caller while training; returning `ControlFlow::Break`
/// stops the run at this point with [`Error::Aborted`].
pub enum TrainEvent<'a> {
    Batch(BatchProgress),
    /// The run's state after each epoch, and when it stops early at a
    /// batch (just before [`Error::Aborted`]): what a checkpoint keeps.
    /// The model holds the matching weights. Its return value is ignored.
    Checkpoint(&'a TrainState),
    Epoch(&'a EpochSummary),
}

/// A trained batch whose loss has not been read back yet.
struct PendingBatch {
    batch: usize,
    loss: StepLoss,
    images_seen: usize,
    elapsed_secs: f64,
}

/// Trains `model` in place on `train` with the recipe's optimizer and
/// learning-rate schedule, reshuffling the
/// data every epoch with a generator seeded by `config.seed`, and evaluates
/// on `validation` after each epoch. On an accelerator, batch events (and so
/// the chance to stop) come in groups of 16 batches: reading a loss back
/// waits for the device.
pub fn fit(
    model: &dyn Model,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &FitConfig,
    device: &Device,
    on_event: &mut dyn FnMut(TrainEvent) -> ControlFlow<()>,
) -> Result<Vec<EpochSummary>> {
    fit_from(model, train, validation, config, device, None, on_event)
}

/// [`fit`], continuing from `start` (a checkpoint's state, with the model
/// holding its weights) when given: the shuffle generator, the training
/// order and the optimizer's buffers and step count are restored, and training goes on from
/// the next batch. Returns the summaries of the epochs finished in this
/// call.
pub fn fit_from(
    model: &dyn Model,
    train: &Dataset,
    validation: Option<&Dataset>,
    config: &FitConfig,
    device: &Device,
    start: Option<&TrainState>,
    on_event: &mut dyn FnMut(TrainEvent) -> ControlFlow<()>,
) -> Result<Vec<EpochSummary>> {
    config.validate()?;
    check_dataset(&model.io(), train, "train", None)?;
    if let Some(v) = validation {
        check_dataset(&model.io(), v, "validation", None)?;
    }
    let mut runner = Runner::new(model, device, Some(config.batch_size))?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let (mut first_epoch, mut skip, mut carried_loss, mut done, mut accuracy) = (1, 0, 0.0, Vec::new(), None);
    if let Some(state) = start {
        state.check_resumable(config, train.len())?;
        rng.set_word_pos(state.rng_word_pos);
        order = state.order.iter().map(|&i| i as usize).collect();
        runner.restore_optimizer(model, &config.optimizer, &state.optimizer, state.optimizer_step)?;
        (first_epoch, skip, carried_loss) = (state.epochs_done + 1, state.batches_done, state.epoch_loss_sum);
        (done, accuracy) = (state.history.clone(), state.test_accuracy);
    }
    let batches = train.len().div_ceil(config.batch_size);
    let mut history = Vec::with_capacity(config.epochs);
    let snapshot = |runner: &Runner, rng: &ChaCha8Rng, order: &[usize], at: (usize, usize), loss: f64, done: &[EpochSummary], accuracy| {
        Ok::<_, Error>(TrainState {
            epochs_done: at.0,
            batches_done: at.1,
            rng_word_pos: rng.get_word_pos(),
            order: order.iter().map(|&i| i as u32).collect(),
            optimizer: runner.optimizer_buffers(model, &config.optimizer)?,
            optimizer_step: runner.optimizer_step(),
            epoch_loss_sum: loss,
            test_accuracy: accuracy,
            history: done.to_vec(),
        })
    };

    for epoch in first_epoch..=config.epochs {
        // A run stopped mid-epoch already shuffled this epoch's order.
        let resumed_batches = std::mem::take(&mut skip);
        if resumed_batches == 0 {
            order.shuffle(&mut rng);
        }
        model.set_training(true);
        let started = Instant::now();
        let mut loss_sum = std::mem::take(&mut carried_loss);
        let mut seen = resumed_batches * config.batch_size;
        let mut pending: Vec<PendingBatch> = Vec::new();
        for (b, indices) in order.chunks(config.batch_size).enumerate().skip(resumed_batches) {
            let lr = config.lr_at((epoch - 1) * batches + b, batches);
            let loss = runner.train_step(train, indices, &config.optimizer, lr, config.label_smoothing)?;
            seen += indices.len();
            pending.push(PendingBatch { batch: b + 1, loss, images_seen: seen, elapsed_secs: started.elapsed().as_secs_f64() });
            if pending.len() < runner.loss_read_interval() && b + 1 < batches {
                continue;
            }
            let group = std::mem::take(&mut pending);
            let losses = read_losses(&group.iter().map(|p| &p.loss).collect::<Vec<_>>())?;
            for (p, &loss) in group.iter().zip(&losses) {
                if !loss.is_finite() {
                    return Err(Error::Diverged(format!(
                        "the loss became {loss} at epoch {epoch}, batch {}; try a smaller learning rate",
                        p.batch
                    )));
                }
            }
            loss_sum += losses.iter().map(|&l| l as f64).sum::<f64>();
            for (p, &loss) in group.iter().zip(&losses) {
                let progress =
                    BatchProgress { epoch, batch: p.batch, batches, loss, images_seen: p.images_seen, elapsed_secs: p.elapsed_secs };
                if on_event(TrainEvent::Batch(progress)).is_break() {
                    // An aborted run keeps what it learned so far (all of
                    // this group's steps), and says where it stands.
                    runner.sync(model)?;
                    let state = snapshot(&runner, &rng, &order, (epoch - 1, b + 1), loss_sum, &done, accuracy)?;
                    let _ = on_event(TrainEvent::Checkpoint(&state));
                    return Err(Error::Aborted);
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        runner.sync(model)?;
        let (test, eval_seconds) = match validation {
            Some(v) => {
                let eval_started = Instant::now();
                runner.release_buffers();
                let result = evaluate(model, v, EVAL_BATCH_SIZE, device)?;
                (Some(result), Some(eval_started.elapsed().as_secs_f64()))
            }
            None => (None, None),
        };
        let trained = seen - resumed_batches * config.batch_size;
        let summary = EpochSummary {
            epoch,
            loss: loss_sum / batches as f64,
            seconds,
            train_images_per_sec: trained as f64 / seconds,
            test,
            eval_seconds,
        };
        done.push(summary.clone());
        accuracy = summary.test.map(|t| t.accuracy).or(accuracy);
        let state = snapshot(&runner, &rng, &order, (epoch, 0), 0.0, &done, accuracy)?;
        let _ = on_event(TrainEvent::Checkpoint(&state));
        let stop = on_event(TrainEvent::Epoch(&summary)).is_break();
        history.push(summary);
        if stop && epoch < config.epochs {
            return Err(Error::Aborted);
        }
    }
    Ok(history)
}
