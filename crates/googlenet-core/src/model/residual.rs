use candle_core::{Device, Tensor};

use super::tutorial_net::{Block, TutorialNet, Widths};
use super::{Conv2d, ParamBuilder, Tracer};
use crate::Result;

/// The tutorial's residual block: y = relu(x + conv2(relu(conv1(x)))), two
/// 3×3 convolutions with padding 1 that keep the channels and the size.
pub struct ResidualBlock {
    conv1: Conv2d,
    conv2: Conv2d,
}

impl Block for ResidualBlock {
    /// Channel-major in and out; `t` sees each conv's output.
    fn forward(&self, x: &Tensor, name: &str, t: &mut Tracer) -> Result<Tensor> {
        let y = t.layer(self.conv1.name(), self.conv1.forward(x)?)?.relu()?;
        let y = t.layer(self.conv2.name(), self.conv2.forward(&y)?)?;
        t.layer(name, (x + y)?.relu()?)
    }
}

impl ResidualBlock {
    pub fn new(b: &mut ParamBuilder, channels: usize) -> Result<Self> {
        Ok(Self { conv1: b.conv2d("conv1", channels, channels, 3, 1)?, conv2: b.conv2d("conv2", channels, channels, 3, 1)? })
    }
}

/// The tutorial's small residual network (41,514 parameters):
///
/// | layer | output |
/// | --- | --- |
/// | `conv1`: 5×5 conv 1→16 | 16×24×24 |
/// | 2×2 max-pool, ReLU (`pool1`) | 16×12×12 |
/// | `rblock1`: residual block at 16 channels | 16×12×12 |
/// | `conv2`: 5×5 conv 16→32 | 32×8×8 |
/// | 2×2 max-pool, ReLU (`pool2`) | 32×4×4 |
/// | `rblock2`: residual block at 32 channels | 32×4×4 |
/// | flatten, `fc`: linear 512→10 | 10 logits |
pub fn residual_net(seed: u64, device: &Device) -> Result<TutorialNet<ResidualBlock>> {
    let widths = Widths { conv1: 16, block1: 16, conv2: 32, features: 32 * 4 * 4 };
    TutorialNet::new("residual", ["rblock1", "rblock2"], widths, ResidualBlock::new, seed, device)
}
