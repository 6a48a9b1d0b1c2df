//! What a model is made of, layer by layer: output shapes as data flows
//! (a trace of one dummy image), parameters and multiply-accumulates.

use candle_core::{DType, Device, Tensor};

use super::Model;
use crate::Result;

/// One layer as data flows through it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// PyTorch's name of the layer (`conv1`, `incep1.branch5x5_2`, `fc`),
    /// or of the step (`pool1`, `flatten`, `incep1` for the concatenation).
    pub name: String,
    /// Per image (the batch axis left out), as PyTorch lays it out: C×H×W,
    /// or features.
    pub output_shape: Vec<usize>,
    /// The layer's own parameters (`{name}.weight`, `{name}.bias`).
    pub params: usize,
    /// Multiply-accumulates per image of its convolution or linear map;
    /// pools, batch norms, additions and activations count 0.
    pub macs: u64,
}

/// Runs one `height`×`width` image (zeros) through `model`, calling
/// `on_step` with each layer's name and output shape per image in the order
/// data flows. Fails on the first layer whose input does not fit, naming it
/// and both shapes, after reporting every layer before it.
pub fn trace(model: &dyn Model, height: usize, width: usize, device: &Device, on_step: &mut dyn FnMut(&str, &[usize])) -> Result<()> {
    let image = Tensor::zeros((1, 1, height, width), DType::F32, device)?;
    model.forward_traced(&image, &mut |name, t| on_step(name, &t.dims()[1..]))?;
    Ok(())
}

/// The trace at the model's own input size, with each layer's parameters
/// and multiply-accumulates. The totals over the rows are the model's: every
/// parameter belongs to exactly one row.
pub fn summarize(model: &dyn Model) -> Result<Vec<LayerSummary>> {
    let (height, width) = model.input_size();
    let mut rows = Vec::new();
    trace(model, height, width, &Device::Cpu, &mut |name, shape| rows.push((name.to_string(), shape.to_vec())))?;
    rows.into_iter()
        .map(|(name, output_shape)| {
            let own = |suffix: &str| model.parameters().iter().find(|p| p.name == format!("{name}.{suffix}"));
            let params = ["weight", "bias"].iter().filter_map(|s| own(s)).map(|p| p.var.elem_count()).sum();
            // A conv or linear weight is out × fan-in (× kernel): each output
            // element takes fan-in·k² multiply-accumulates. BatchNorm's
            // weight is a vector: its scaling is not counted.
            let macs = match own("weight") {
                Some(w) if w.var.rank() >= 2 => {
                    let per_output = w.var.elem_count() / w.var.dims()[0];
                    (output_shape.iter().product::<usize>() * per_output) as u64
                }
                _ => 0,
            };
            Ok(LayerSummary { name, output_shape, params, macs })
        })
        .collect()
}
