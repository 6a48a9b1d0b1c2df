//! Which implementation runs a model: the CPU [`Engine`] when the model has
//! one and the device is the CPU, candle (autograd for training) otherwise.
//! Everything above this file sees plain logits and losses.

use candle_core::{Device, Tensor};

use super::Sgd;
use crate::data::{Dataset, NUM_CLASSES};
use crate::engine::Engine;
use crate::model::Model;
use crate::Result;

enum Backend<'m> {
    Engine(Box<Engine>),
    Candle { model: &'m dyn Model, sgd: Option<Sgd> },
}

pub(crate) struct Runner<'m> {
    backend: Backend<'m>,
    device: Device,
}

impl<'m> Runner<'m> {
    pub fn new(model: &'m dyn Model, device: &Device) -> Result<Self> {
        let engine = if device.is_cpu() { Engine::for_model(model)? } else { None };
        let backend = match engine {
            Some(engine) => Backend::Engine(Box::new(engine)),
            None => Backend::Candle { model, sgd: None },
        };
        Ok(Self { backend, device: device.clone() })
    }

    /// Logits (count × 10) of `count` normalized images laid one after another.
    pub fn logits(&mut self, images: Vec<f32>, count: usize, height: usize, width: usize) -> Result<Vec<f32>> {
        match &mut self.backend {
            Backend::Engine(engine) => engine.logits(&images, count),
            Backend::Candle { model, .. } => {
                let images = Tensor::from_vec(images, (count, 1, height, width), &self.device)?;
                Ok(model.forward(&images)?.detach().flatten_all()?.to_vec1::<f32>()?)
            }
        }
    }

    /// Logits of the samples of `data` at `indices`.
    pub fn logits_of(&mut self, data: &Dataset, indices: &[usize]) -> Result<Vec<f32>> {
        let (images, _) = data.gather(indices);
        let logits = self.logits(images, indices.len(), data.height(), data.width())?;
        debug_assert_eq!(logits.len(), indices.len() * NUM_CLASSES);
        Ok(logits)
    }

    /// One SGD step (PyTorch's momentum form) on the samples at `indices`;
    /// returns the batch's mean cross-entropy.
    pub fn train_step(&mut self, data: &Dataset, indices: &[usize], lr: f64, momentum: f64) -> Result<f32> {
        match &mut self.backend {
            Backend::Engine(engine) => {
                let (images, labels) = data.gather(indices);
                engine.train_step(&images, &labels, lr as f32, momentum as f32)
            }
            Backend::Candle { model, sgd } => {
                let sgd = match sgd {
                    Some(sgd) => sgd,
                    None => sgd.insert(Sgd::new(model.vars(), lr, momentum)?),
                };
                let batch = data.batch(indices, &self.device)?;
                let logits = model.forward(&batch.images)?;
                let loss = candle_nn::loss::cross_entropy(&logits, &batch.labels)?;
                sgd.step(&loss.backward()?)?;
                Ok(loss.to_scalar::<f32>()?)
            }
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
