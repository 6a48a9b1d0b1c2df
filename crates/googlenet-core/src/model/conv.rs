use candle_core::{Tensor, Var};

use crate::ops::conv2d_gemm;
use crate::{Error, Result};

/// 2-D convolution, stride 1, with a bias, on channel-major activations
/// (C×N×H×W, see `conv2d_gemm`); weight is out×in×k×k as in PyTorch.
pub struct Conv2d {
    name: String,
    weight: Var,
    bias: Var,
    padding: usize,
}

impl Conv2d {
    /// `name` is the layer's PyTorch name (`incep1.branch5x5_2`), used in errors.
    pub fn new(name: String, weight: Var, bias: Var, padding: usize) -> Self {
        Self { name, weight, bias, padding }
    }

    /// The layer's PyTorch name (`incep1.branch5x5_2`).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn weight(&self) -> &Var {
        &self.weight
    }

    /// Adds the bias to channel-major pre-activations (Cout×N×H×W).
    pub fn add_bias(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.broadcast_add(&self.bias.as_tensor().reshape(((), 1, 1, 1))?)?)
    }

    /// Channel-major C×N×H×W in, Cout×N×Ho×Wo out. Fails, naming the layer
    /// and both shapes, when `x` has other channels or is smaller than the kernel.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        Ok(conv2d_gemm(x, &self.weight, &self.bias, self.padding)?)
    }

    /// The check of [`Conv2d::forward`], for callers that run the weights
    /// themselves (the Inception heads).
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let (c_out, c_in, k, _) = self.weight.dims4()?;
        let fits = match x.dims() {
            &[c, _, h, w] => c == c_in && h + 2 * self.padding >= k && w + 2 * self.padding >= k,
            _ => false,
        };
        if fits {
            return Ok(());
        }
        // Shown as PyTorch lays the input out: N×C×H×W.
        let shown: Vec<usize> = match x.dims() {
            &[c, n, h, w] => vec![n, c, h, w],
            other => other.to_vec(),
        };
        Err(Error::InvalidArgument(format!(
            "layer {} ({k}×{k} conv, {c_in}→{c_out} channels, padding {}) takes N×{c_in}×H×W with H, W ≥ {}, got {shown:?}",
            self.name,
            self.padding,
            k.saturating_sub(2 * self.padding).max(1)
        )))
    }
}
