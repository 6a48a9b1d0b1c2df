//! What a model is made of, layer by layer: output shapes as data flows,
//! parameters and multiply-accumulates, all read from its description.

use super::describe::{Description, LayerKind, Op, Shape};
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

/// The named steps of `description` on one `height`×`width` image, calling
/// `on_step` with each step's name and output shape per image in the order
/// data flows. Fails on the first layer whose input does not fit, naming it
/// and both shapes, after reporting every step before it.
pub fn trace(description: &Description, height: usize, width: usize, on_step: &mut dyn FnMut(&str, &[usize])) -> Result<()> {
    let input = Shape::Map { c: description.input[0], h: height, w: width };
    description.infer(1, input, &mut |id, shape| {
        if let Some(name) = description.step_name(id) {
            on_step(name, &shape.dims());
        }
    })?;
    Ok(())
}

/// The trace at the model's own input size, with each layer's parameters
/// and multiply-accumulates. The totals over the rows are the model's: every
/// parameter belongs to exactly one row.
pub fn summarize(description: &Description) -> Result<Vec<LayerSummary>> {
    let shapes = description.shapes()?;
    let params = description.params();
    Ok((0..description.nodes.len())
        .filter_map(|id| {
            let name = description.step_name(id)?.to_string();
            let shape = shapes[id];
            let (params, macs) = match description.nodes[id].op {
                Op::Layer(l) => {
                    let own: usize = params.iter().filter(|p| p.layer == l).map(|p| p.elem_count()).sum();
                    // Each output element of a conv or linear map takes one
                    // multiply-accumulate per weight of its filter.
                    let per_output = match description.layers[l].kind {
                        LayerKind::Conv2d { in_channels, kernel, .. } => in_channels * kernel * kernel,
                        LayerKind::Linear { in_features, .. } => in_features,
                        LayerKind::BatchNorm2d { .. } => 0,
                    };
                    (own, (shape.elem_count() * per_output) as u64)
                }
                _ => (0, 0),
            };
            Some(LayerSummary { name, output_shape: shape.dims(), params, macs })
        })
        .collect())
}
