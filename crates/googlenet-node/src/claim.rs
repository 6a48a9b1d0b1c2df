//! One call at a time on a model: the model shared between JS and the
//! worker threads, and the claim a call holds on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use candle_core::Device;
use googlenet_core::model::Model;
use napi::{Error, Result, Status};

const BUSY: &str = "model is busy: another fit, evaluate or predict call on it is still running";

/// A model shared between JS and the worker threads, with a flag that lets
/// one call at a time claim it. Tasks hold it through an `Arc`, so a model
/// whose JS object is garbage-collected mid-task lives until the task ends.
pub(crate) struct ModelSlot {
    model: Mutex<Box<dyn Model>>,
    device: Device,
    busy: AtomicBool,
}

impl ModelSlot {
    pub(crate) fn new(model: Box<dyn Model>, device: Device) -> Arc<Self> {
        Arc::new(Self { model: Mutex::new(model), device, busy: AtomicBool::new(false) })
    }
}

/// The right to use the model, taken on the JS thread when a call starts (so
/// a second call is refused at once, in call order) and given back when the
/// task that holds it is dropped, after its promise settled.
pub(crate) struct Claim(Arc<ModelSlot>);

impl Claim {
    pub(crate) fn take(slot: &Arc<ModelSlot>) -> Result<Self> {
        match slot.busy.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => Ok(Self(slot.clone())),
            Err(_) => Err(Error::new(Status::InvalidArg, BUSY)),
        }
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
