//! A small MNIST ResNet whose residual unit is one of the five designs of
//! He et al. 2016, "Identity Mappings in Deep Residual Networks", Fig. 4.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use candle_core::{Device, Tensor, D};

use super::{BatchNorm2d, Conv2d, Linear, Model, NamedParam, ParamBuilder, Tracer};
use crate::{Error, Result};

/// The five residual-unit designs of the paper's Fig. 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitDesign {
    /// (a) conv, BN, ReLU, conv, BN, addition, ReLU.
    Original,
    /// (b) conv, BN, ReLU, conv, addition, BN, ReLU.
    BnAfterAdd,
    /// (c) conv, BN, ReLU, conv, BN, ReLU, addition.
    ReluBeforeAdd,
    /// (d) ReLU, conv, BN, ReLU, conv, BN, addition.
    ReluOnlyPreact,
    /// (e) BN, ReLU, conv, BN, ReLU, conv, addition.
    FullPreact,
}

/// One step of a residual unit's residual path; `Add` adds the shortcut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Conv1,
    Bn1,
    Relu,
    Conv2,
    Bn2,
    Add,
}

impl UnitDesign {
    pub const ALL: [UnitDesign; 5] = [Self::Original, Self::BnAfterAdd, Self::ReluBeforeAdd, Self::ReluOnlyPreact, Self::FullPreact];

    /// The name in model names (`resnet-full-preact`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::BnAfterAdd => "bn-after-add",
            Self::ReluBeforeAdd => "relu-before-add",
            Self::ReluOnlyPreact => "relu-only-preact",
            Self::FullPreact => "full-preact",
        }
    }

    /// The unit's steps in order, as drawn in the paper.
    pub fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            Self::Original => &[Conv1, Bn1, Relu, Conv2, Bn2, Add, Relu],
            Self::BnAfterAdd => &[Conv1, Bn1, Relu, Conv2, Add, Bn2, Relu],
            Self::ReluBeforeAdd => &[Conv1, Bn1, Relu, Conv2, Bn2, Relu, Add],
            Self::ReluOnlyPreact => &[Relu, Conv1, Bn1, Relu, Conv2, Bn2, Add],
            Self::FullPreact => &[Bn1, Relu, Conv1, Bn2, Relu, Conv2, Add],
        }
    }

    /// Pre-activation designs leave the last unit's output unactivated: the
    /// network adds what the units skip before pooling (BN and ReLU for
    /// (e), ReLU for (d)), as pre-activation ResNets do.
    fn is_preact(self) -> bool {
        matches!(self, Self::ReluOnlyPreact | Self::FullPreact)
    }
}

/// Every-other pixel along H and W of channel-major `x`: a stride-2
/// convolution is the stride-1 one, subsampled (exact for 3×3 with padding
/// 1 and for 1×1).
fn subsample(x: &Tensor) -> Result<Tensor> {
    let keep = |len: usize| Tensor::arange_step(0u32, len as u32, 2, x.device());
    let (h, w) = (x.dim(2)?, x.dim(3)?);
    Ok(x.index_select(&keep(h)?, 2)?.index_select(&keep(w)?, 3)?)
}

struct Unit {
    design: UnitDesign,
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    /// 1×1 convolution with stride 2 where the unit halves the size and
    /// changes the channels; the identity elsewhere.
    shortcut: Option<Conv2d>,
}

impl Unit {
    fn new(b: &mut ParamBuilder, design: UnitDesign, c_in: usize, c_out: usize, training: &Arc<AtomicBool>) -> Result<Self> {
        // BN1 normalizes conv1's input in full pre-activation, its output otherwise.
        let bn1_channels = if design == UnitDesign::FullPreact { c_in } else { c_out };
        Ok(Self {
            design,
            conv1: b.conv2d("conv1", c_in, c_out, 3, 1)?,
            bn1: b.batch_norm("bn1", bn1_channels, training)?,
            conv2: b.conv2d("conv2", c_out, c_out, 3, 1)?,
            bn2: b.batch_norm("bn2", c_out, training)?,
            shortcut: if c_in != c_out { Some(b.conv2d("shortcut", c_in, c_out, 1, 0)?) } else { None },
        })
    }

    fn forward(&self, x: &Tensor, name: &str, t: &mut Tracer) -> Result<Tensor> {
        let shortcut = match &self.shortcut {
            Some(conv) => t.layer(conv.name(), conv.forward(&subsample(x)?)?)?,
            None => x.clone(),
        };
        let mut y = x.clone();
        for step in self.design.steps() {
            y = match step {
                Step::Conv1 => {
                    let full = self.conv1.forward(&y)?;
                    t.layer(self.conv1.name(), if self.shortcut.is_some() { subsample(&full)? } else { full })?
                }
                Step::Conv2 => t.layer(self.conv2.name(), self.conv2.forward(&y)?)?,
                Step::Bn1 => t.layer(self.bn1.name(), self.bn1.forward(&y)?)?,
                Step::Bn2 => t.layer(self.bn2.name(), self.bn2.forward(&y)?)?,
                Step::Relu => y.relu()?,
                Step::Add => (y + &shortcut)?,
            };
        }
        t.layer(name, y)
    }
}

/// A small MNIST ResNet: a 3×3 stem to 16 channels, three stages of
/// residual units at 16, 32 and 64 channels (28×28, 14×14, 7×7; the first
/// unit of stages 2 and 3 halves the size with stride 2 and has a 1×1
/// projection shortcut), global average pooling and a linear layer to 10.
/// Every conv has a bias; the stem is followed by BN and ReLU in designs
/// (a)–(c), and pre-activation designs end with what their units leave out.
pub struct ResNet {
    design: UnitDesign,
    stem: Conv2d,
    stem_bn: Option<BatchNorm2d>,
    units: Vec<(String, Unit)>,
    final_bn: Option<BatchNorm2d>,
    fc: Linear,
    training: Arc<AtomicBool>,
    params: Vec<NamedParam>,
    buffers: Vec<NamedParam>,
    name: &'static str,
}

/// Units per stage unless asked otherwise.
pub const DEFAULT_UNITS_PER_STAGE: usize = 1;
/// The deepest ResNet offered: 3 stages × 16 units × 2 convs.
pub const MAX_UNITS_PER_STAGE: usize = 16;

impl ResNet {
    pub fn new(design: UnitDesign, units_per_stage: usize, seed: u64, device: &Device) -> Result<Self> {
        if !(1..=MAX_UNITS_PER_STAGE).contains(&units_per_stage) {
            return Err(Error::InvalidArgument(format!(
                "ResNet depth must be 1 to {MAX_UNITS_PER_STAGE} units per stage (got {units_per_stage})"
            )));
        }
        let training = Arc::new(AtomicBool::new(false));
        let mut b = ParamBuilder::new(seed, device.clone());
        let stem = b.conv2d("conv1", 1, 16, 3, 1)?;
        let stem_bn = if design.is_preact() { None } else { Some(b.batch_norm("bn1", 16, &training)?) };
        let mut units = Vec::new();
        let mut c_in = 16;
        for (stage, c_out) in [16, 32, 64].into_iter().enumerate() {
            for u in 0..units_per_stage {
                let name = format!("layer{}.{u}", stage + 1);
                units.push((name.clone(), b.scope(&name, |b| Unit::new(b, design, c_in, c_out, &training))?));
                c_in = c_out;
            }
        }
        let final_bn = if design == UnitDesign::FullPreact { Some(b.batch_norm("bn_final", 64, &training)?) } else { None };
        let fc = b.linear("fc", 64, 10)?;
        let (params, buffers) = b.into_parts();
        let name = RESNET_NAMES.iter().find(|(_, d)| *d == design).map(|(n, _)| *n).expect("every design has a name");
        Ok(Self { design, stem, stem_bn, units, final_bn, fc, training, params, buffers, name })
    }

    pub fn design(&self) -> UnitDesign {
        self.design
    }
}

/// Model names of the five designs (`resnet` alone is the original).
pub const RESNET_NAMES: [(&str, UnitDesign); 5] = [
    ("resnet-original", UnitDesign::Original),
    ("resnet-bn-after-add", UnitDesign::BnAfterAdd),
    ("resnet-relu-before-add", UnitDesign::ReluBeforeAdd),
    ("resnet-relu-only-preact", UnitDesign::ReluOnlyPreact),
    ("resnet-full-preact", UnitDesign::FullPreact),
];

impl Model for ResNet {
    fn name(&self) -> &'static str {
        self.name
    }

    fn forward_traced(&self, x: &Tensor, on_layer: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let mut t = Tracer::new(on_layer);
        let x = t.input(x)?;
        let mut x = t.layer(self.stem.name(), self.stem.forward(&x)?)?;
        if let Some(bn) = &self.stem_bn {
            x = t.layer(bn.name(), bn.forward(&x)?)?.relu()?;
        }
        for (name, unit) in &self.units {
            x = unit.forward(&x, name, &mut t)?;
        }
        if let Some(bn) = &self.final_bn {
            x = t.layer(bn.name(), bn.forward(&x)?)?;
        }
        if self.design.is_preact() {
            x = x.relu()?;
        }
        // Global average pool: C×N×H×W → N×C.
        let (c, n, _, _) = x.dims4()?;
        let pooled = t.features("avgpool", x.reshape((c, n, ()))?.mean(D::Minus1)?.t()?.contiguous()?);
        t.dense(&self.fc, &pooled)
    }

    fn parameters(&self) -> &[NamedParam] {
        &self.params
    }

    fn buffers(&self) -> &[NamedParam] {
        &self.buffers
    }

    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    fn input_size(&self) -> (usize, usize) {
        (28, 28)
    }
}
