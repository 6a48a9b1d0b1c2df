//! What an exported ONNX file takes and gives, from the core, so the
//! TypeScript layer (and the CLI's messages) keep no copy of it.

use googlenet_core::onnx::{BATCH_DIM, INPUT_NAME, OPSET, OUTPUT_NAME};
use napi_derive::napi;

/// The input and output of every exported file, and its opset.
#[napi(object)]
pub struct NativeOnnxContract {
    pub opset: u32,
    /// The input's name (`images`).
    pub input: String,
    /// The output's name (`logits`).
    pub output: String,
    /// The symbolic name of the batch dimension.
    pub batch_dim: String,
}

#[napi(catch_unwind)]
pub fn onnx_contract() -> NativeOnnxContract {
    NativeOnnxContract {
        opset: OPSET as u32,
        input: INPUT_NAME.to_string(),
        output: OUTPUT_NAME.to_string(),
        batch_dim: BATCH_DIM.to_string(),
    }
}
