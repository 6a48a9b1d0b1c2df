//! Which implementation runs a model: the CPU [`Engine`] when the model has
//! one and the device is the CPU, candle (autograd for training) otherwise.
//! Everything above this file sees plain logits and losses.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use super::{CandleOptimizer, Optimizer};
use crate::data::{Batch, Dataset, EpochAugmentation, Normalization};
use crate::engine::Engine;
use crate::model::{Model, NamedParam};
use crate::{Error, Result};

/// Batches whose losses are read back together on an accelerator.
const LOSS_READ_INTERVAL: usize = 16;

/// A batch's mean loss: a number, or a scalar still on the accelerator
/// (reading it waits for the device; see [`read_losses`]).
pub(crate) enum StepLoss {
    Ready(f32),
    OnDevice(Tensor),
}

/// The values of `losses`, with one wait for the device for all those
/// still on it.
pub(crate) fn read_losses(losses: &[&StepLoss]) -> Result<Vec<f32>> {
    let on_device: Vec<Tensor> = losses
        .iter()
        .filter_map(|l| match l {
            StepLoss::OnDevice(t) => Some(t.clone()),
            StepLoss::Ready(_) => None,
        })
        .collect();
    let mut read = if on_device.is_empty() { Vec::new() } else { Tensor::stack(&on_device, 0)?.to_vec1::<f32>()? }.into_iter();
    Ok(losses
        .iter()
        .map(|l| match l {
            StepLoss::Ready(v) => *v,
            StepLoss::OnDevice(_) => read.next().expect("one value per loss on the device"),
        })
        .collect())
}

enum Backend<'m> {
    Engine(Box<Engine>),
    Candle { model: &'m dyn Model, optimizer: Option<CandleOptimizer>, resident: Option<Resident> },
}

/// A whole dataset uploaded to an accelerator once, so that a batch is an
/// index-select on the device instead of a copy from the host.
struct Resident {
    /// Which dataset this is (its address and length while it is borrowed).
    key: (usize, usize),
    images: Tensor,
    labels: Tensor,
}

impl Resident {
    fn upload(data: &Dataset, normalization: &Normalization, device: &Device) -> Result<Self> {
        let all: Vec<usize> = (0..data.len()).collect();
        let batch = data.batch(&all, normalization, device)?;
        Ok(Self { key: Self::key_of(data), images: batch.images, labels: batch.labels })
    }

    fn key_of(data: &Dataset) -> (usize, usize) {
        (data as *const Dataset as usize, data.len())
    }
}

/// The mean over the batch of PyTorch's `CrossEntropyLoss(label_smoothing
/// = ε)` of `logits` (batch × classes) against `labels` (u32, batch): per
/// row (1 − ε)·(−log p_label) + ε·mean_k(−log p_k), as the candle path
/// trains with (the CPU engine computes the same in its own kernel). With
/// ε = 0 it is `candle_nn::loss::cross_entropy` itself.
pub fn cross_entropy_loss(logits: &Tensor, labels: &Tensor, label_smoothing: f64) -> Result<Tensor> {
    if label_smoothing == 0.0 {
        return Ok(candle_nn::loss::cross_entropy(logits, labels)?);
    }
    let log_p = candle_nn::ops::log_softmax(logits, candle_core::D::Minus1)?;
    let nll = candle_nn::loss::nll(&log_p, labels)?;
    // The mean over rows of mean_k(−log p_k) is the mean of all of −log p.
    let uniform = log_p.mean_all()?;
    Ok(((nll * (1.0 - label_smoothing))? - (uniform * label_smoothing)?)?)
}

pub(crate) struct Runner<'m> {
    backend: Backend<'m>,
    model: &'m dyn Model,
    device: Device,
}

/// The most memory the engine's buffers may take for training: above it
/// (a deep ResNet on a large batch keeps every activation for its batch
/// norms) training goes through candle, which frees what it no longer needs.
/// Not where memory is bounded below it (the WebAssembly build's 2 GiB):
/// candle would run out there too, and abort, where the engine refuses its
/// buffers with an error naming what they need (`memory.rs`).
const ENGINE_MEMORY_BUDGET: usize = if crate::memory::LIMIT.is_some() { usize::MAX } else { 2 << 30 };

impl<'m> Runner<'m> {
    /// Runs `model` on `device`; `train_batch` is the batch size training
    /// will use, if it will train.
    pub fn new(model: &'m dyn Model, device: &Device, train_batch: Option<usize>) -> Result<Self> {
        crate::runtime::check()?;
        let engine = if device.is_cpu() { Engine::for_model(model)? } else { None };
        let engine = engine.filter(|e| train_batch.is_none_or(|b| e.training_bytes(b) <= ENGINE_MEMORY_BUDGET));
        let backend = match engine {
            Some(engine) => Backend::Engine(Box::new(engine)),
            None => Backend::Candle { model, optimizer: None, resident: None },
        };
        Ok(Self { backend, model, device: device.clone() })
    }

    /// [`Runner::new`] for inference, with the engine an earlier runner on
    /// the same `model` gave back ([`Runner::into_engine`]), if any and if
    /// `device` is the CPU; the model's weights must not have changed since.
    pub fn reusing(model: &'m dyn Model, device: &Device, engine: Option<Box<Engine>>) -> Result<Self> {
        match engine {
            Some(engine) if device.is_cpu() => Ok(Self { backend: Backend::Engine(engine), model, device: device.clone() }),
            _ => Self::new(model, device, None),
        }
    }

    /// The engine this runner ran, if it ran one, to reuse.
    pub fn into_engine(self) -> Option<Box<Engine>> {
        match self.backend {
            Backend::Engine(engine) => Some(engine),
            Backend::Candle { .. } => None,
        }
    }

    /// Logits (count × the model's classes) of `count` normalized images
    /// of the model's input shape laid one after another.
    pub fn logits(&mut self, images: Vec<f32>, count: usize) -> Result<Vec<f32>> {
        match &mut self.backend {
            Backend::Engine(engine) => {
                engine.set_training(self.model.is_training());
                engine.logits(&images, count)
            }
            Backend::Candle { model, .. } => {
                let [c, h, w] = model.description().input;
                candle_logits(*model, &Tensor::from_vec(images, (count, c, h, w), &self.device)?)
            }
        }
    }

    /// Logits of the samples of `data` at `indices`; on an accelerator they
    /// come from the resident copy of `data`, as training batches do.
    pub fn logits_of(&mut self, data: &Dataset, indices: &[usize]) -> Result<Vec<f32>> {
        let logits = match &mut self.backend {
            Backend::Engine(engine) => {
                engine.set_training(self.model.is_training());
                engine.logits(&data.gather(indices, &self.model.data_info().normalization).0, indices.len())?
            }
            Backend::Candle { model, resident, .. } => {
                candle_logits(*model, &device_batch(resident, data, indices, *model, &self.device)?.images)?
            }
        };
        Ok(logits)
    }

    /// How many batches' losses `fit` should read back at once: each, on
    /// the CPU; on an accelerator reading a loss waits for the device to
    /// finish, so they are read in groups and the device keeps working.
    pub fn loss_read_interval(&self) -> usize {
        if self.device.is_cpu() {
            1
        } else {
            LOSS_READ_INTERVAL
        }
    }

    /// One step of `optimizer` at learning rate `lr` on the samples at
    /// `indices`, their images augmented on the host as `augmentation`
    /// draws them, if given; returns the batch's mean cross-entropy, its
    /// labels smoothed by `label_smoothing` (see [`cross_entropy_loss`]).
    pub fn train_step(
        &mut self,
        data: &Dataset,
        indices: &[usize],
        augmentation: Option<&EpochAugmentation>,
        optimizer: &Optimizer,
        lr: f64,
        label_smoothing: f64,
    ) -> Result<StepLoss> {
        match &mut self.backend {
            Backend::Engine(engine) => {
                let normalization = &self.model.data_info().normalization;
                let (images, labels) = match augmentation {
                    Some(a) => data.gather_augmented(indices, normalization, a),
                    None => data.gather(indices, normalization),
                };
                engine.set_training(self.model.is_training());
                engine.set_label_smoothing(label_smoothing as f32);
                Ok(StepLoss::Ready(engine.train_step(&images, &labels, optimizer, lr as f32)?))
            }
            Backend::Candle { model, optimizer: state, resident } => {
                let state = match state {
                    Some(state) => state,
                    None => state.insert(CandleOptimizer::new(model.vars(), *optimizer)?),
                };
                let batch = match augmentation {
                    // New images every epoch: each batch is uploaded as it
                    // is made, instead of selected from the resident copy.
                    Some(a) => data.augmented_batch(indices, &model.data_info().normalization, a, &self.device)?,
                    None => device_batch(resident, data, indices, *model, &self.device)?,
                };
                let logits = model.forward(&batch.images)?;
                let loss = cross_entropy_loss(&logits, &batch.labels, label_smoothing)?;
                state.step(&loss.backward()?, lr)?;
                Ok(if self.device.is_cpu() { StepLoss::Ready(loss.to_scalar::<f32>()?) } else { StepLoss::OnDevice(loss.detach()) })
            }
        }
    }

    /// The buffers of `optimizer` (the one training uses) on the CPU, named
    /// `<slot>.<parameter>` (see [`super::TrainState::optimizer`]); empty
    /// before the first step.
    pub fn optimizer_buffers(&self, model: &dyn Model, optimizer: &Optimizer) -> Result<Vec<(String, Tensor)>> {
        let mut named = Vec::new();
        match &self.backend {
            Backend::Engine(engine) => {
                for (slot, buffers) in optimizer.slots().iter().zip(engine.optimizer_buffers()) {
                    for (name, values) in buffers {
                        named.push((
                            format!("{slot}.{name}"),
                            Tensor::from_slice(values, parameter(model, name)?.var.shape(), &Device::Cpu)?,
                        ));
                    }
                }
            }
            Backend::Candle { optimizer: Some(state), .. } => {
                for (p, buffers) in model.parameters().iter().zip(state.buffers()) {
                    for (slot, buffer) in optimizer.slots().iter().zip(buffers) {
                        named.push((format!("{slot}.{}", p.name), buffer.to_device(&Device::Cpu)?));
                    }
                }
            }
            Backend::Candle { optimizer: None, .. } => {}
        }
        Ok(named)
    }

    /// Optimizer updates made so far.
    pub fn optimizer_step(&self) -> u64 {
        match &self.backend {
            Backend::Engine(engine) => engine.optimizer_steps(),
            Backend::Candle { optimizer, .. } => optimizer.as_ref().map_or(0, CandleOptimizer::step_count),
        }
    }

    /// Continues from saved optimizer state (see [`Runner::optimizer_buffers`]);
    /// every name must be a slot of `optimizer` and one of the model's
    /// parameters, with its shape.
    pub fn restore_optimizer(&mut self, model: &dyn Model, optimizer: &Optimizer, buffers: &[(String, Tensor)], step: u64) -> Result<()> {
        check_optimizer_buffers(model, optimizer, buffers)?;
        let by_name: HashMap<&str, &Tensor> = buffers.iter().map(|(n, t)| (n.as_str(), t)).collect();
        // The slots that were saved (none before the first step; SGD on candle keeps none without momentum).
        let slots: Vec<&str> =
            optimizer.slots().iter().copied().filter(|s| buffers.iter().any(|(n, _)| n.starts_with(&format!("{s}.")))).collect();
        match &mut self.backend {
            Backend::Engine(engine) => {
                let flat = slots
                    .iter()
                    .map(|slot| {
                        model
                            .parameters()
                            .iter()
                            .filter_map(|p| by_name.get(format!("{slot}.{}", p.name).as_str()).map(|t| (p.name.as_str(), *t)))
                            .map(|(n, t)| Ok((n, t.flatten_all()?.to_vec1::<f32>()?)))
                            .collect::<Result<Vec<_>>>()
                    })
                    .collect::<Result<Vec<_>>>()?;
                engine.set_optimizer_state(flat, step)
            }
            Backend::Candle { optimizer: state, .. } => {
                let mut restored = CandleOptimizer::new(model.vars(), *optimizer)?;
                let per_var = model
                    .parameters()
                    .iter()
                    .map(|p| {
                        slots
                            .iter()
                            .filter_map(|slot| by_name.get(format!("{slot}.{}", p.name).as_str()))
                            .map(|t| t.to_device(&self.device))
                            .collect::<candle_core::Result<Vec<_>>>()
                    })
                    .collect::<candle_core::Result<Vec<_>>>()?;
                restored.set_state(per_var, step)?;
                *state = Some(restored);
                Ok(())
            }
        }
    }

    /// Frees the engine's buffers for a pass until the next pass needs them:
    /// an evaluation runs an engine of its own, and the two sets at once
    /// could need twice the memory (more than the WebAssembly build has, for
    /// a wide model).
    pub fn release_buffers(&mut self) {
        if let Backend::Engine(engine) = &mut self.backend {
            engine.release_buffers();
        }
    }

    /// Makes the model hold the weights training produced (the engine trains
    /// a copy; candle trains the model itself).
    pub fn sync(&self, model: &dyn Model) -> Result<()> {
        match &self.backend {
            Backend::Engine(engine) => engine.store(model),
            Backend::Candle { .. } => Ok(()),
        }
    }
}

fn parameter<'a>(model: &'a dyn Model, name: &str) -> Result<&'a NamedParam> {
    model
        .parameters()
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| Error::InvalidArgument(format!("model '{}' has no parameter '{name}'", model.name())))
}

/// The model's logits for `images`, read back to the host.
fn candle_logits(model: &dyn Model, images: &Tensor) -> Result<Vec<f32>> {
    Ok(model.forward(images)?.detach().flatten_all()?.to_vec1::<f32>()?)
}

/// The samples at `indices` on `device`: gathered on the host for the CPU,
/// selected from the resident copy of `data` on an accelerator; normalized
/// as `model`'s inputs are.
fn device_batch(resident: &mut Option<Resident>, data: &Dataset, indices: &[usize], model: &dyn Model, device: &Device) -> Result<Batch> {
    let normalization = &model.data_info().normalization;
    if device.is_cpu() {
        return data.batch(indices, normalization, device);
    }
    let current = match resident {
        Some(r) if r.key == Resident::key_of(data) => r,
        _ => resident.insert(Resident::upload(data, normalization, device)?),
    };
    let ids: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
    let ids = Tensor::from_vec(ids, indices.len(), device)?;
    Ok(Batch { images: current.images.index_select(&ids, 0)?, labels: current.labels.index_select(&ids, 0)? })
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
