//! Model insight: layer summaries and shape traces.

use googlenet_core::model::{summarize, trace, LayerSummary};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::description::resolve;
use crate::errors::{guarded, range_checked};

/// One layer: PyTorch name, output shape per image, parameters, MACs.
#[napi(object)]
pub struct NativeLayerSummary {
    pub name: String,
    pub output_shape: Vec<u32>,
    pub params: u32,
    /// Multiply-accumulates per image (a double: may exceed 2^32).
    pub macs: f64,
}

impl From<LayerSummary> for NativeLayerSummary {
    fn from(l: LayerSummary) -> Self {
        Self {
            name: l.name,
            output_shape: l.output_shape.iter().map(|&d| d as u32).collect(),
            params: l.params as u32,
            macs: l.macs as f64,
        }
    }
}

/// One step of a trace: the layer and the shape it produced.
#[napi(object)]
pub struct NativeTraceStep {
    pub name: String,
    pub output_shape: Vec<u32>,
}

/// Every layer of a fresh `model` (a zoo name, or a description's JSON;
/// `depth`: units per stage of a ResNet) with its output shape, parameters and
/// multiply-accumulates, at the model's input size. An unknown model or a
/// depth it does not take throws a `RangeError` with the core's message.
#[napi(catch_unwind)]
pub fn summarize_model(env: Env, model: String, depth: Option<u32>) -> Result<Vec<NativeLayerSummary>> {
    let description = range_checked(&env, guarded(|| resolve(&model, depth)))?;
    guarded(|| Ok(summarize(&description)?.into_iter().map(NativeLayerSummary::from).collect()))
}

/// A trace: the steps that ran, and the error of the layer that did not fit.
#[napi(object)]
pub struct NativeTrace {
    pub steps: Vec<NativeTraceStep>,
    pub error: Option<String>,
}

/// Follows one `height`×`width` image through `model` (a zoo name, or a
/// description's JSON) and returns each
/// layer's output shape, up to the first layer whose input
/// does not fit (whose error names it and both shapes).
#[napi(catch_unwind)]
pub fn trace_model(env: Env, model: String, height: u32, width: u32, depth: Option<u32>) -> Result<NativeTrace> {
    let description = range_checked(&env, guarded(|| resolve(&model, depth)))?;
    let mut steps = Vec::new();
    let result = guarded(|| {
        trace(&description, height as usize, width as usize, &mut |name, shape| {
            steps.push(NativeTraceStep { name: name.to_string(), output_shape: shape.iter().map(|&d| d as u32).collect() })
        })
    });
    Ok(NativeTrace { steps, error: result.err().map(|e| e.reason) })
}
