use candle_core::{Device, Tensor};

use super::{Conv2d, InceptionA, Linear, Model, NamedParam, ParamBuilder, Tracer};
use crate::Result;

/// The reference model of DESIGN.md §1 (97,298 parameters):
/// conv1 5×5 1→10, max-pool 2, ReLU, Inception-A(10), conv2 5×5 88→20,
/// max-pool 2, ReLU, Inception-A(20), flatten, linear 1408→10.
pub struct GoogLeNet {
    conv1: Conv2d,
    conv2: Conv2d,
    incep1: InceptionA,
    incep2: InceptionA,
    fc: Linear,
    params: Vec<NamedParam>,
}

impl GoogLeNet {
    /// Creates the layers in the reference's registration order (conv1,
    /// conv2, incep1, incep2, fc), which is also PyTorch's `state_dict` order;
    /// `seed` fixes the initial weights.
    pub fn new(seed: u64, device: &Device) -> Result<Self> {
        let mut b = ParamBuilder::new(seed, device.clone());
        let conv1 = b.conv2d("conv1", 1, 10, 5, 0)?;
        let conv2 = b.conv2d("conv2", InceptionA::OUT_CHANNELS, 20, 5, 0)?;
        let incep1 = b.scope("incep1", |b| InceptionA::new(b, 10))?;
        let incep2 = b.scope("incep2", |b| InceptionA::new(b, 20))?;
        let fc = b.linear("fc", InceptionA::OUT_CHANNELS * 4 * 4, 10)?;
        let params = b.into_params();
        Ok(Self { conv1, conv2, incep1, incep2, fc, params })
    }
}

impl Model for GoogLeNet {
    fn name(&self) -> &'static str {
        "googlenet"
    }

    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let mut t = Tracer::new(on_layer);
        let x = t.input(x)?;
        let x = t.conv_pool(&self.conv1, &x, "pool1")?;
        let x = self.incep1.forward_traced(&x, "incep1", &mut t)?;
        let x = t.conv_pool(&self.conv2, &x, "pool2")?;
        let x = self.incep2.forward_traced(&x, "incep2", &mut t)?;
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
