//! One call at a time on a model: the model shared between JS and the
//! worker threads, and the claim a call holds on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use candle_core::Device;
use googlenet_core::model::Model;
use googlenet_core::train::Predictor;
use napi::{Error, Result, Status};

const BUSY: &str = "model is busy: another fit, evaluate or predict call on it is still running";

/// A model shared between JS and the worker threads, with a flag that lets
/// one call at a time claim it. Tasks hold it through an `Arc`, so a model
/// whose JS object is garbage-collected mid-task lives until the task ends.
pub(crate) struct ModelSlot {
    model: Mutex<Box<dyn Model>>,
    /// What predictions keep between calls (the CPU engine made for the
    /// model); any other call may change the weights, and drops it.
    predictor: Mutex<Predictor>,
    device: Device,
    busy: AtomicBool,
}

impl ModelSlot {
    pub(crate) fn new(model: Box<dyn Model>, device: Device) -> Arc<Self> {
        Arc::new(Self { model: Mutex::new(model), predictor: Mutex::default(), device, busy: AtomicBool::new(false) })
    }
}

/// The right to use the model, taken on the JS thread when a call starts (so
/// a second call is refused at once, in call order) and given back when the
/// task that holds it is dropped, after its promise settled.
pub(crate) struct Claim(Arc<ModelSlot>);

impl Claim {
    /// For a call that may change the model's weights (any but a
    /// prediction): drops what predictions kept.
    pub(crate) fn take(slot: &Arc<ModelSlot>) -> Result<Self> {
        let claim = Self::take_to_predict(slot)?;
        claim.predictor().forget();
        Ok(claim)
    }

    /// For a prediction, which changes nothing: keeps what earlier ones kept.
    pub(crate) fn take_to_predict(slot: &Arc<ModelSlot>) -> Result<Self> {
        match slot.busy.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => Ok(Self(slot.clone())),
            Err(_) => Err(Error::new(Status::InvalidArg, BUSY)),
        }
    }

    /// The predictions' state, for the claimant alone. A panic in an
    /// earlier prediction may have left the engine it kept half updated:
    /// that one is dropped, and the next prediction makes it again.
    pub(crate) fn predictor(&self) -> MutexGuard<'_, Predictor> {
        self.0.predictor.lock().unwrap_or_else(|poisoned| {
            let mut predictor = poisoned.into_inner();
            predictor.forget();
            self.0.predictor.clear_poison();
            predictor
        })
    }

    /// The model, for the claimant alone. A panic in an earlier call may
    /// have poisoned the lock; the weights are still usable, so go on.
    pub(crate) fn model(&self) -> MutexGuard<'_, Box<dyn Model>> {
        self.0.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn device(&self) -> &Device {
        &self.0.device
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::SeqCst);
    }
}
