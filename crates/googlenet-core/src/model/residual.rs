use candle_core::{Device, Tensor};

use super::{Conv2d, Linear, Model, NamedParam, ParamBuilder, Tracer};
use crate::Result;

/// The tutorial's residual block: y = relu(x + conv2(relu(conv1(x)))), two
/// 3×3 convolutions with padding 1 that keep the channels and the size.
struct ResidualBlock {
    conv1: Conv2d,
    conv2: Conv2d,
}

impl ResidualBlock {
    fn new(b: &mut ParamBuilder, channels: usize) -> Result<Self> {
        Ok(Self { conv1: b.conv2d("conv1", channels, channels, 3, 1)?, conv2: b.conv2d("conv2", channels, channels, 3, 1)? })
    }

    /// Channel-major in and out; `t` sees each conv's output.
    fn forward(&self, x: &Tensor, name: &str, t: &mut Tracer) -> Result<Tensor> {
        let y = t.layer(self.conv1.name(), self.conv1.forward(x)?)?.relu()?;
        let y = t.layer(self.conv2.name(), self.conv2.forward(&y)?)?;
        t.layer(name, (x + y)?.relu()?)
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
pub struct ResidualNet {
    conv1: Conv2d,
    conv2: Conv2d,
    rblock1: ResidualBlock,
    rblock2: ResidualBlock,
    fc: Linear,
    params: Vec<NamedParam>,
}

impl ResidualNet {
    pub fn new(seed: u64, device: &Device) -> Result<Self> {
        let mut b = ParamBuilder::new(seed, device.clone());
        let conv1 = b.conv2d("conv1", 1, 16, 5, 0)?;
        let conv2 = b.conv2d("conv2", 16, 32, 5, 0)?;
        let rblock1 = b.scope("rblock1", |b| ResidualBlock::new(b, 16))?;
        let rblock2 = b.scope("rblock2", |b| ResidualBlock::new(b, 32))?;
        let fc = b.linear("fc", 32 * 4 * 4, 10)?;
        Ok(Self { conv1, conv2, rblock1, rblock2, fc, params: b.into_params() })
    }
}

impl Model for ResidualNet {
    fn name(&self) -> &'static str {
        "residual"
    }

    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let mut t = Tracer::new(on_layer);
        let x = t.input(x)?;
        let x = t.conv_pool(&self.conv1, &x, "pool1")?;
        let x = self.rblock1.forward(&x, "rblock1", &mut t)?;
        let x = t.conv_pool(&self.conv2, &x, "pool2")?;
        let x = self.rblock2.forward(&x, "rblock2", &mut t)?;
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
