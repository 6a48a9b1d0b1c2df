use candle_core::{Device, Tensor};

use super::{Conv2d, Linear, Model, NamedParam, ParamBuilder, Tracer};
use crate::Result;

/// LeNet-5's classic shape on 28×28 MNIST, with ReLU and max-pool where the
/// 1998 original had tanh-like squashing and subsampling (61,706 parameters):
///
/// | layer | output |
/// | --- | --- |
/// | `conv1`: 5×5 conv 1→6, padding 2 | 6×28×28 |
/// | 2×2 max-pool, ReLU (`pool1`) | 6×14×14 |
/// | `conv2`: 5×5 conv 6→16 | 16×10×10 |
/// | 2×2 max-pool, ReLU (`pool2`) | 16×5×5 |
/// | flatten | 400 |
/// | `fc1`: linear 400→120, ReLU | 120 |
/// | `fc2`: linear 120→84, ReLU | 84 |
/// | `fc3`: linear 84→10 | 10 logits |
pub struct LeNet5 {
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    params: Vec<NamedParam>,
}

impl LeNet5 {
    pub fn new(seed: u64, device: &Device) -> Result<Self> {
        let mut b = ParamBuilder::new(seed, device.clone());
        let conv1 = b.conv2d("conv1", 1, 6, 5, 2)?;
        let conv2 = b.conv2d("conv2", 6, 16, 5, 0)?;
        let fc1 = b.linear("fc1", 16 * 5 * 5, 120)?;
        let fc2 = b.linear("fc2", 120, 84)?;
        let fc3 = b.linear("fc3", 84, 10)?;
        Ok(Self { conv1, conv2, fc1, fc2, fc3, params: b.into_params() })
    }
}

impl Model for LeNet5 {
    fn name(&self) -> &'static str {
        "lenet5"
    }

    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let mut t = Tracer::new(on_layer);
        let x = t.input(x)?;
        let x = t.conv_pool(&self.conv1, &x, "pool1")?;
        let x = t.conv_pool(&self.conv2, &x, "pool2")?;
        let x = t.flatten(&x)?;
        let x = t.dense(&self.fc1, &x)?.relu()?;
        let x = t.dense(&self.fc2, &x)?.relu()?;
        t.dense(&self.fc3, &x)
    }

    fn parameters(&self) -> &[NamedParam] {
        &self.params
    }

    fn input_size(&self) -> (usize, usize) {
        (28, 28)
    }
}
