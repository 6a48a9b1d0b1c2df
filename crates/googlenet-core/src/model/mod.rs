//! Models: each one a [`Description`] (layers with PyTorch's names and
//! init, and a graph over them), the zoo as descriptions in the
//! [`catalog`], and [`Network`], a description lowered to candle.

mod batch_norm;
pub mod catalog;
mod conv;
mod data_info;
pub mod describe;
mod linear;
mod lower;
mod network;
pub(crate) mod saved;
pub mod spec;
mod summary;
mod weights;

use candle_core::{Device, Tensor, Var};

pub use batch_norm::{BatchNorm2d, BN_EPS, BN_MOMENTUM};
pub use catalog::{DepthRule, UnitDesign, UnitStep, CATALOG, DEFAULT_MODEL, MNIST_CLASSES, MNIST_INPUT};
pub use conv::Conv2d;
pub use data_info::DataInfo;
pub use describe::{Description, LayerKind, ModelIo, Op, Shape};
pub use linear::Linear;
pub use lower::lower;
pub use network::Network;
pub use saved::{load_model, load_model_bytes, model_bytes, save_model, ModelInfo};
pub use spec::ModelSpec;
pub use summary::{summarize, trace, LayerSummary};
pub use weights::load_weights;

use crate::data::Dataset;
use crate::{Error, Result};

/// A tensor a model owns and its PyTorch name (`incep1.branch5x5_2.weight`).
#[derive(Clone)]
pub struct NamedParam {
    pub name: String,
    pub var: Var,
}

/// A trainable image classifier.
pub trait Model: Send + Sync {
    /// What it is made of.
    fn description(&self) -> &Description;
    /// The names of its classes and how its inputs are normalized.
    fn data_info(&self) -> &DataInfo;
    /// N×C×H×W normalized images in, N×[`Model::classes`] logits out. Fails, naming the
    /// layer and the shapes, when the images do not fit the model.
    fn forward(&self, images: &Tensor) -> Result<Tensor>;
    /// Every trainable tensor, in PyTorch's `state_dict` order.
    fn parameters(&self) -> &[NamedParam];
    /// Non-trainable state kept with the model (BatchNorm running
    /// statistics), PyTorch's buffers.
    fn buffers(&self) -> &[NamedParam];
    /// Switches the layers that behave differently while training
    /// (BatchNorm): `fit` turns training on, `evaluate` and prediction off.
    fn set_training(&self, training: bool);
    /// Whether training is on (see [`Model::set_training`]).
    fn is_training(&self) -> bool;

    /// The name it is created by (`googlenet`).
    fn name(&self) -> &str {
        &self.description().name
    }

    /// The input height and width the model is built for.
    fn input_size(&self) -> (usize, usize) {
        self.description().input_size()
    }

    /// Class scores per image: the last layer's outputs.
    fn classes(&self) -> usize {
        self.description().classes()
    }

    /// What it takes and gives (see [`ModelIo`]).
    fn io(&self) -> ModelIo {
        ModelIo { class_names: self.data_info().classes.clone(), ..self.description().io() }
    }

    /// Total number of trainable scalars.
    fn param_count(&self) -> usize {
        self.parameters().iter().map(|p| p.var.elem_count()).sum()
    }

    /// The parameters' `Var`s in order, as the optimizer wants them.
    fn vars(&self) -> Vec<Var> {
        self.parameters().iter().map(|p| p.var.clone()).collect()
    }
}

/// Builds a freshly initialized zoo model by name; `seed` fixes the init.
pub fn build_model(name: &str, seed: u64, device: &Device) -> Result<Box<dyn Model>> {
    build_model_with_depth(name, seed, None, device)
}

/// Builds a freshly initialized model from its spec (a user's, or one read
/// from JSON); `seed` fixes the init. Fails at construction, naming the
/// step, where a layer does not fit the shape that reaches it.
pub fn build_model_from_spec(spec: &ModelSpec, seed: u64, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Network::new(lower(spec)?, seed, device)?))
}

/// [`build_model`] at a depth, for the models that take one (residual
/// units per stage of a ResNet; its default when `None`). Other models have
/// a fixed depth and refuse one.
pub fn build_model_with_depth(name: &str, seed: u64, depth: Option<usize>, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Network::new(catalog::describe(name, depth)?, seed, device)?))
}

/// What a model is made from: a zoo name (at a depth, for the models that
/// take one) or a description of one's own.
#[derive(Debug, Clone)]
pub enum ModelSource<'a> {
    Zoo { name: &'a str, depth: Option<usize> },
    Spec(&'a ModelSpec),
}

/// A freshly initialized model for `data`: a zoo model is made for its
/// images' shape and classes; a description must already fit them (it is
/// refused, naming both, when its input or its output count differs). The
/// model keeps `data`'s class names and pixel statistics, which evaluation,
/// prediction and its files use from then on.
pub fn build_model_for_data(source: ModelSource, seed: u64, data: &Dataset, device: &Device) -> Result<Box<dyn Model>> {
    let (input, classes) = (data.shape().dims(), data.classes().len());
    let spec = match source {
        ModelSource::Zoo { name, depth } => catalog::find(name)?.spec_for(depth, input, classes)?,
        ModelSource::Spec(spec) => spec.clone(),
    };
    // A zoo model's layers are fixed: images too small for them are the data's fault, said so.
    let description = lower(&spec).map_err(|e| match source {
        ModelSource::Zoo { name, .. } => {
            Error::InvalidArgument(format!("model \"{name}\" cannot be made for {} images, too small for its layers: {e}", data.shape()))
        }
        ModelSource::Spec(_) => e,
    })?;
    if description.input != input || description.classes() != classes {
        let shape = |[channels, height, width]: [usize; 3]| crate::data::ImageShape { channels, height, width };
        return Err(Error::InvalidArgument(format!(
            "model \"{}\" takes {} images and gives {} class scores, but the data has {} images in {classes} classes",
            description.name,
            shape(description.input),
            description.classes(),
            data.shape(),
        )));
    }
    Ok(Box::new(Network::new(description, seed, device)?.with_data(DataInfo::of(data))?))
}
