//! Saving and loading models (safetensors with PyTorch names, plus metadata).

use googlenet_core::model::ModelInfo;
use napi_derive::napi;

/// The metadata of a saved model.
#[napi(object)]
pub struct NativeModelInfo {
    pub model: String,
    /// Residual units per stage (ResNets only).
    pub depth: Option<u32>,
    pub epochs: u32,
    pub test_accuracy: Option<f64>,
    /// The package version that wrote the file ('' for files from elsewhere).
    pub version: String,
}

impl From<ModelInfo> for NativeModelInfo {
    fn from(i: ModelInfo) -> Self {
        Self {
            model: i.model,
            depth: i.depth.map(|d| d as u32),
            epochs: i.epochs as u32,
            test_accuracy: i.test_accuracy,
            version: i.version,
        }
    }
}

impl From<NativeModelInfo> for ModelInfo {
    fn from(i: NativeModelInfo) -> Self {
        Self {
            model: i.model,
            depth: i.depth.map(|d| d as usize),
            epochs: i.epochs as usize,
            test_accuracy: i.test_accuracy,
            version: i.version,
        }
    }
}
