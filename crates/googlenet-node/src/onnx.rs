//! What an exported ONNX file takes and gives, from the core, so the
//! TypeScript layer (and the CLI's messages) keep no copy of it.

use googlenet_core::data::{MNIST_MEAN, MNIST_STD};
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
    /// The normalization of a pixel scaled to [0, 1]: (x − mean) / std, as
    /// the file's metadata writes them.
    pub mean: f64,
    pub std: f64,
}

#[napi(catch_unwind)]
pub fn onnx_contract() -> NativeOnnxContract {
    // As decimal text, the figures the metadata holds (0.1307, not f32's 0.13070000708).
    let decimal = |v: f32| v.to_string().parse::<f64>().expect("a float's text parses");
    NativeOnnxContract {
        opset: OPSET as u32,
        input: INPUT_NAME.to_string(),
        output: OUTPUT_NAME.to_string(),
        batch_dim: BATCH_DIM.to_string(),
        mean: decimal(MNIST_MEAN),
        std: decimal(MNIST_STD),
    }
}
