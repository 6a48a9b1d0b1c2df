use std::ops::ControlFlow;
use std::time::Instant;

use candle_core::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::evaluate::{check_dataset, evaluate};
use super::recipe::RecipeSettings;
use super::runner::{read_losses, Runner, StepLoss};
use super::schedule::Schedule;
use super::state::{EpochSummary, TrainState};
use crate::data::{Augmentation, Dataset, EpochAugmentation};
use crate::model::Model;
use crate::optimizer::Optimizer;
use crate::options::{check_given, check_value, declared_default, spec, Command, Given, Value, EVAL_BATCH_SIZE};
use crate::{Error, Result};

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
    /// How training images are augmented as batches are gathered (off by
    /// default); evaluation and validation images never are.
    pub augmentation: Augmentation,
}

impl Default for FitConfig {
    /// The reference recipe: every option at its declared default.
    fn default() -> Self {
        let whole = |name| declared_default(Command::Fit, name) as usize;
        Self::from_settings(whole("epochs"), whole("batchSize"), whole("seed") as u64, &RecipeSettings::default())
            .expect("the declared defaults make a valid recipe")
    }
}

impl FitConfig {
    /// The recipe of `settings` (the unset ones at their defaults), checked.
    pub fn from_settings(epochs: usize, batch_size: usize, seed: u64, settings: &RecipeSettings) -> Result<Self> {
        let (lr, optimizer, schedule) = settings.resolve()?;
        let label_smoothing = settings.number("labelSmoothing", optimizer.name())?;
        let augmentation = settings.augmentation(optimizer.name())?;
        let config = Self { epochs, batch_size, lr, optimizer, schedule, seed, label_smoothing, augmentation };
        config.validate()?;
        Ok(config)
    }

    /// The recipe the `fit` options `given` make (by their names in the
    /// API), every unset one at its declared default. Refuses an option
    /// `fit` does not take, a value of the wrong kind or out of range, a
    /// setting the chosen optimizer or schedule does not use, and settings
    /// that do not fit together.
    pub fn from_given(given: &Given) -> Result<Self> {
        let checked = check_given(Command::Fit, given)?;
        let number = |name| checked.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.number());
        let whole = |name| number(name).unwrap_or_else(|| declared_default(Command::Fit, name)) as usize;
        let recipe = checked.iter().filter(|(n, _)| spec(Command::Fit, n).is_some_and(|s| s.recipe));
        let settings = RecipeSettings::new(recipe.map(|(n, v)| (*n, v.clone())))?;
        Self::from_settings(whole("epochs"), whole("batchSize"), whole("seed") as u64, &settings)
    }

    /// Every setting of this recipe by its name in the API: epochs, batch
    /// size and seed, then the optimizer and schedule settings they use.
    pub fn values(&self) -> Vec<(&'static str, Value)> {
        let mut values =
            vec![("epochs", self.epochs.into()), ("batchSize", self.batch_size.into()), ("seed", Value::Number(self.seed as f64))];
        values.extend(self.settings().given().iter().cloned());
        values
    }

    /// The optimizer and schedule settings of this recipe, every one they use.
    pub fn settings(&self) -> RecipeSettings {
        RecipeSettings::of(self.lr, &self.optimizer, &self.schedule, self.label_smoothing, &self.augmentation)
    }

    /// Rejects settings that cannot train.
    pub fn validate(&self) -> Result<()> {
        check_value(Command::Fit, "epochs", self.epochs)?;
        check_value(Command::Fit, "batchSize", self.batch_size)?;
        check_value(Command::Fit, "seed", self.seed as usize)?;
        check_value(Command::Fit, "lr", self.lr)?;
        check_value(Command::Fit, "labelSmoothing", self.label_smoothing)?;
        check_value(Command::Fit, "cropPadding", self.augmentation.crop_padding)?;
        check_value(Command::Fit, "rotation", self.augmentation.max_rotation_degrees as f64)?;
        self.optimizer.validate()?;
        self.schedule.validate(self.epochs)
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
        let augmentation =
            (!config.augmentation.is_off()).then_some(EpochAugmentation { augmentation: &config.augmentation, seed: config.seed, epoch });
        for (b, indices) in order.chunks(config.batch_size).enumerate().skip(resumed_batches) {
            let lr = config.lr_at((epoch - 1) * batches + b, batches);
            let loss = runner.train_step(train, indices, augmentation.as_ref(), &config.optimizer, lr, config.label_smoothing)?;
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
