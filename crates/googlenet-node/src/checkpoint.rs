//! Training checkpoints seen from JS: what a loaded checkpoint holds, and
//! where a folder's furthest checkpoint is.

use std::path::Path;

use googlenet_core::train::{checkpoint_progress, latest_checkpoint, prepare_checkpoint_dir, Checkpoint};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::guarded;
use crate::progress::NativeEpochSummary;
use crate::recipe::{recipe_of, NativeSetting};
use crate::saved::NativeModelInfo;

/// A checkpoint's recipe and progress (its weights are the model's).
#[napi(object)]
pub struct NativeCheckpointInfo {
    /// The file it was read from.
    pub path: String,
    pub model: NativeModelInfo,
    /// The recipe being followed (`epochs` is the run's planned total).
    pub config: Vec<NativeSetting>,
    pub epochs_done: u32,
    /// Batches of the next epoch already trained (a run stopped mid-epoch).
    pub batches_done: u32,
    /// Size of the training set the run uses.
    pub train_size: u32,
    /// Each finished epoch's summary, earlier runs' included.
    pub history: Vec<NativeEpochSummary>,
}

impl From<&Checkpoint> for NativeCheckpointInfo {
    fn from(c: &Checkpoint) -> Self {
        Self {
            path: c.path.display().to_string(),
            model: c.info.clone().into(),
            config: recipe_of(&c.config),
            epochs_done: c.state.epochs_done as u32,
            batches_done: c.state.batches_done as u32,
            train_size: c.state.order.len() as u32,
            history: c.state.history.iter().map(Into::into).collect(),
        }
    }
}

/// A checkpoint file and the progress its name stands for.
#[napi(object)]
pub struct NativeCheckpointFile {
    pub path: String,
    pub epochs_done: u32,
    /// Batches of the next epoch (non-zero for a run stopped mid-epoch).
    pub batches_done: u32,
}

/// The furthest checkpoint in the folder `dir`; fails when it holds none.
#[napi(catch_unwind)]
pub fn latest_checkpoint_in(dir: String) -> Result<NativeCheckpointFile> {
    guarded(|| {
        let path = latest_checkpoint(Path::new(&dir))?;
        let (epochs, batches) = checkpoint_progress(&path).expect("latest_checkpoint picks files by their progress names");
        Ok(NativeCheckpointFile { path: path.display().to_string(), epochs_done: epochs as u32, batches_done: batches as u32 })
    })
}

/// Checks that a new run may write its checkpoints into `dir`: refuses a
/// folder that holds another run's (naming the run), or a path that is no
/// folder. Changes nothing.
#[napi(catch_unwind)]
pub fn check_checkpoint_dir_for(dir: String) -> Result<()> {
    guarded(|| prepare_checkpoint_dir(Path::new(&dir), false))
}
