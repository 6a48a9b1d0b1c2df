use candle_core::{Device, Tensor};

use super::{Conv2d, InceptionA, Linear, Model, NamedParam, ParamBuilder};
use crate::ops::max_pool2x2_relu;
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

    /// Activations run channel-major (C×N×H×W, see `conv2d_gemm`); `on_layer`
    /// still sees them as PyTorch lays them out, N×C×H×W.
    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let n = x.dim(0)?;
        let mut report = |name: &str, t: &Tensor| -> Result<()> {
            on_layer(name, &t.transpose(0, 1)?);
            Ok(())
        };
        let x = x.transpose(0, 1)?.contiguous()?;
        let x = self.conv1.forward(&x)?;
        report("conv1", &x)?;
        let x = max_pool2x2_relu(&x)?;
        report("pool1", &x)?;
        let x = self.incep1.forward_traced(&x, "incep1", &mut report)?;
        let x = self.conv2.forward(&x)?;
        report("conv2", &x)?;
        let x = max_pool2x2_relu(&x)?;
        report("pool2", &x)?;
        let x = self.incep2.forward_traced(&x, "incep2", &mut report)?;
        let x = x.transpose(0, 1)?.contiguous()?.reshape((n, ()))?;
        on_layer("flatten", &x);
        let x = self.fc.forward(&x)?;
        on_layer("fc", &x);
        Ok(x)
    }

    fn parameters(&self) -> &[NamedParam] {
        &self.params
    }

    fn input_size(&self) -> (usize, usize) {
        (28, 28)
    }
}
