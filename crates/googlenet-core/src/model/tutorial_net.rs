//! The tutorial's network shape, shared by `googlenet` and `residual`:
//! 5×5 conv, 2×2 max-pool, ReLU, a block, 5×5 conv, 2×2 max-pool, ReLU, the
//! same kind of block again, flatten, one linear layer to 10 classes. Only
//! the block (Inception-A or the residual block) and the widths differ.

use candle_core::{Device, Tensor};

use super::{Conv2d, Linear, Model, NamedParam, ParamBuilder, Tracer};
use crate::Result;

/// A block that keeps the spatial size (channel-major in and out).
pub trait Block: Send + Sync {
    /// Runs the block on `x`, reporting its layers under `name`.
    fn forward(&self, x: &Tensor, name: &str, t: &mut Tracer) -> Result<Tensor>;
}

/// The widths of a [`TutorialNet`].
pub struct Widths {
    /// conv1's output channels (the first block's input).
    pub conv1: usize,
    /// The first block's output channels (conv2's input).
    pub block1: usize,
    /// conv2's output channels (the second block's input).
    pub conv2: usize,
    /// Features after the second block, flattened (fc's input).
    pub features: usize,
}

pub struct TutorialNet<B: Block> {
    name: &'static str,
    /// The blocks' PyTorch names (`incep1`, `rblock1`, …).
    block_names: [&'static str; 2],
    conv1: Conv2d,
    conv2: Conv2d,
    block1: B,
    block2: B,
    fc: Linear,
    params: Vec<NamedParam>,
}

impl<B: Block> TutorialNet<B> {
    /// Creates the layers in the tutorial's registration order (conv1,
    /// conv2, block1, block2, fc), which is also PyTorch's `state_dict`
    /// order; `block(b, in_channels)` builds a block; `seed` fixes the init.
    pub fn new(
        name: &'static str,
        block_names: [&'static str; 2],
        widths: Widths,
        block: impl Fn(&mut ParamBuilder, usize) -> Result<B>,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let mut b = ParamBuilder::new(seed, device.clone());
        let conv1 = b.conv2d("conv1", 1, widths.conv1, 5, 0)?;
        let conv2 = b.conv2d("conv2", widths.block1, widths.conv2, 5, 0)?;
        let block1 = b.scope(block_names[0], |b| block(b, widths.conv1))?;
        let block2 = b.scope(block_names[1], |b| block(b, widths.conv2))?;
        let fc = b.linear("fc", widths.features, 10)?;
        Ok(Self { name, block_names, conv1, conv2, block1, block2, fc, params: b.into_params() })
    }
}

impl<B: Block> Model for TutorialNet<B> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let mut t = Tracer::new(on_layer);
        let x = t.input(x)?;
        let x = t.conv_pool(&self.conv1, &x, "pool1")?;
        let x = self.block1.forward(&x, self.block_names[0], &mut t)?;
        let x = t.conv_pool(&self.conv2, &x, "pool2")?;
        let x = self.block2.forward(&x, self.block_names[1], &mut t)?;
        let x = t.flatten(&x)?;
        t.dense(&self.fc, &x)
    }

    fn parameters(&self) -> &[NamedParam] {
        &self.params
    }

    fn input_size(&self) -> (usize, usize) {
        (28, 28)
    }
}
