use candle_core::Tensor;

use super::{Conv2d, ParamBuilder};
use crate::ops::avg_pool3x3_same;
use crate::Result;

/// Inception-A: four branches over the same input, concatenated along the
/// channels in this order: 1×1 (16), 1×1→5×5 (24), 1×1→3×3→3×3 (24),
/// 3×3 average pool→1×1 (24): 88 channels, same height and width.
/// No activation inside, as in the reference.
pub struct InceptionA {
    branch1x1: Conv2d,
    branch5x5_1: Conv2d,
    branch5x5_2: Conv2d,
    branch3x3_1: Conv2d,
    branch3x3_2: Conv2d,
    branch3x3_3: Conv2d,
    branch_pool: Conv2d,
}

impl InceptionA {
    /// Channels out, whatever the input.
    pub const OUT_CHANNELS: usize = 16 + 24 + 24 + 24;

    pub fn new(b: &mut ParamBuilder, in_channels: usize) -> Result<Self> {
        Ok(Self {
            branch1x1: b.conv2d("branch1x1", in_channels, 16, 1, 0)?,
            branch5x5_1: b.conv2d("branch5x5_1", in_channels, 16, 1, 0)?,
            branch5x5_2: b.conv2d("branch5x5_2", 16, 24, 5, 2)?,
            branch3x3_1: b.conv2d("branch3x3_1", in_channels, 16, 1, 0)?,
            branch3x3_2: b.conv2d("branch3x3_2", 16, 24, 3, 1)?,
            branch3x3_3: b.conv2d("branch3x3_3", 24, 24, 3, 1)?,
            branch_pool: b.conv2d("branch_pool", in_channels, 24, 1, 0)?,
        })
    }

    /// Runs the four branches and concatenates them; `on_layer` sees each
    /// branch's output as `{name}.{branch}` and the result as `name`.
    pub fn forward_traced(&self, x: &Tensor, name: &str, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let b1 = self.branch1x1.forward(x)?;
        on_layer(&format!("{name}.branch1x1"), &b1);
        let b5 = self.branch5x5_2.forward(&self.branch5x5_1.forward(x)?)?;
        on_layer(&format!("{name}.branch5x5"), &b5);
        let b3 = self.branch3x3_3.forward(&self.branch3x3_2.forward(&self.branch3x3_1.forward(x)?)?)?;
        on_layer(&format!("{name}.branch3x3"), &b3);
        let bp = self.branch_pool.forward(&avg_pool3x3_same(x)?)?;
        on_layer(&format!("{name}.branch_pool"), &bp);
        let out = Tensor::cat(&[&b1, &b5, &b3, &bp], 1)?;
        on_layer(name, &out);
        Ok(out)
    }
}
