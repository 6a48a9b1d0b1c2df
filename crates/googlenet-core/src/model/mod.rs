//! Models and their layers. Layers own named [`Var`]s, created through a
//! [`ParamBuilder`] so every model lists its parameters in PyTorch's
//! `state_dict` order and under PyTorch's names.

mod batch_norm;
mod conv;
mod googlenet;
mod inception;
mod init;
mod lenet5;
mod linear;
mod params;
mod residual;
mod resnet;
pub(crate) mod saved;
mod summary;
mod tracer;
mod tutorial_net;
mod weights;

use candle_core::{Device, Tensor, Var};

pub use batch_norm::{BatchNorm2d, BN_EPS, BN_MOMENTUM};
pub use conv::Conv2d;
pub use googlenet::{googlenet, GoogLeNet};
pub use inception::InceptionA;
pub use lenet5::LeNet5;
pub use linear::Linear;
pub use params::{NamedParam, ParamBuilder};
pub use residual::{residual_net, ResidualBlock};
pub use resnet::{ResNet, Step, UnitDesign, DEFAULT_UNITS_PER_STAGE, MAX_UNITS_PER_STAGE, RESNET_NAMES};
pub use saved::{load_model, load_model_bytes, save_model, ModelInfo};
pub use summary::{summarize, trace, LayerSummary};
pub use tracer::Tracer;
pub use tutorial_net::{Block, TutorialNet, Widths};
pub use weights::load_weights;

use crate::{Error, Result};

/// A trainable image classifier.
pub trait Model: Send + Sync {
    /// The name it is created by (`googlenet`).
    fn name(&self) -> &'static str;
    /// N×1×H×W normalized images in, N×10 logits out; `on_layer` sees every
    /// layer's name and output as data flows through.
    fn forward_traced(&self, images: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor>;

    /// N×1×H×W normalized images in, N×10 logits out.
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        self.forward_traced(images, &mut |_, _| {})
    }
    /// Every trainable tensor, in PyTorch's `state_dict` order.
    fn parameters(&self) -> &[NamedParam];
    /// Non-trainable state kept with the model (BatchNorm running
    /// statistics), PyTorch's buffers; none by default.
    fn buffers(&self) -> &[NamedParam] {
        &[]
    }
    /// Switches the layers that behave differently while training
    /// (BatchNorm): `fit` turns training on, `evaluate` and prediction off.
    fn set_training(&self, _training: bool) {}
    /// The input height and width the model is built for.
    fn input_size(&self) -> (usize, usize);

    /// Total number of trainable scalars.
    fn param_count(&self) -> usize {
        self.parameters().iter().map(|p| p.var.elem_count()).sum()
    }

    /// The parameters' `Var`s in order, as the optimizer wants them.
    fn vars(&self) -> Vec<Var> {
        self.parameters().iter().map(|p| p.var.clone()).collect()
    }
}

/// Names accepted by [`build_model`].
pub const MODEL_NAMES: &[&str] = &[
    "googlenet",
    "lenet5",
    "residual",
    "resnet",
    "resnet-original",
    "resnet-bn-after-add",
    "resnet-relu-before-add",
    "resnet-relu-only-preact",
    "resnet-full-preact",
];

/// Builds a freshly initialized model by name; `seed` fixes the init.
pub fn build_model(name: &str, seed: u64, device: &Device) -> Result<Box<dyn Model>> {
    build_model_with_depth(name, seed, None, device)
}

/// [`build_model`] with the depth of a ResNet (`depth` residual units per
/// stage; [`DEFAULT_UNITS_PER_STAGE`] when `None`). Other models have a
/// fixed depth and refuse one.
pub fn build_model_with_depth(name: &str, seed: u64, depth: Option<usize>, device: &Device) -> Result<Box<dyn Model>> {
    let resnet = match name {
        "resnet" => Some(UnitDesign::Original),
        other => RESNET_NAMES.iter().find(|(n, _)| *n == other).map(|(_, d)| *d),
    };
    if let Some(design) = resnet {
        return Ok(Box::new(ResNet::new(design, depth.unwrap_or(DEFAULT_UNITS_PER_STAGE), seed, device)?));
    }
    if depth.is_some() {
        return Err(Error::InvalidArgument(format!("model '{name}' has a fixed depth; only the resnet models take one")));
    }
    match name {
        "googlenet" => Ok(Box::new(googlenet(seed, device)?)),
        "lenet5" => Ok(Box::new(LeNet5::new(seed, device)?)),
        "residual" => Ok(Box::new(residual_net(seed, device)?)),
        other => Err(Error::InvalidArgument(format!("unknown model '{other}' (known: {})", MODEL_NAMES.join(", ")))),
    }
}
