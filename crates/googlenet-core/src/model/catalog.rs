//! The zoo: every model this package can create, as a [`Description`], with
//! what a user picks it by. This is the only list of models; the binding
//! hands it to TypeScript.

use super::describe::Description;
use super::lower::lower;
use super::spec::{ModelSpec, Step};
use crate::{Error, Result};

/// What a zoo model is made for when no data is given: MNIST's digits,
/// one channel of 28×28, ten classes. Made for data, a zoo model takes its
/// images' shape and gives one score per class ([`CatalogEntry::spec_for`]).
pub const MNIST_INPUT: [usize; 3] = [1, 28, 28];
pub const MNIST_CLASSES: usize = 10;

/// How deep a model with a depth option may be: residual units per stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthRule {
    pub min: usize,
    pub max: usize,
    pub default: usize,
}

/// The ResNets' depths: 1 to 16 units per stage (3 stages × 16 units × 2 convs at most).
pub const RESNET_DEPTH: DepthRule = DepthRule { min: 1, max: 16, default: 1 };

/// One model of the zoo.
pub struct CatalogEntry {
    /// The name it is created by.
    pub name: &'static str,
    /// Other names for the same model.
    pub aliases: &'static [&'static str],
    /// One line on what it is.
    pub about: &'static str,
    /// The depth option, for models that have one.
    pub depth: Option<DepthRule>,
    /// The layers at a depth, ending in a layer of `classes` outputs.
    build: fn(depth: usize, classes: usize) -> Step,
}

impl CatalogEntry {
    /// The depth a model made with `depth` has: `depth` itself, or the
    /// rule's default when `None`; `None` for a model of fixed depth.
    /// Refuses a depth out of the rule's range, and any depth for a model
    /// of fixed depth.
    pub fn resolve_depth(&self, depth: Option<usize>) -> Result<Option<usize>> {
        match (self.depth, depth) {
            (None, None) => Ok(None),
            (None, Some(_)) => {
                Err(Error::InvalidArgument(format!("model '{}' has a fixed depth; only the resnet models take one", self.name)))
            }
            (Some(rule), None) => Ok(Some(rule.default)),
            (Some(rule), Some(d)) if (rule.min..=rule.max).contains(&d) => Ok(Some(d)),
            (Some(rule), Some(d)) => {
                Err(Error::InvalidArgument(format!("ResNet depth must be {} to {} units per stage (got {d})", rule.min, rule.max)))
            }
        }
    }

    /// The model at `depth` (its default when `None`) as written, for
    /// MNIST's digits: what `describe` prints.
    pub fn spec(&self, depth: Option<usize>) -> Result<ModelSpec> {
        self.spec_for(depth, MNIST_INPUT, MNIST_CLASSES)
    }

    /// The model at `depth` for images of `input` (channels, height,
    /// width) and `classes` classes. Lowering it refuses, naming the layer,
    /// an input too small for the model's convolutions and pools.
    pub fn spec_for(&self, depth: Option<usize>, input: [usize; 3], classes: usize) -> Result<ModelSpec> {
        let depth = self.resolve_depth(depth)?.unwrap_or(0);
        Ok(ModelSpec { name: self.name.to_string(), input, layers: (self.build)(depth, classes) })
    }

    /// The model's description at `depth` (its default when `None`), for MNIST's digits.
    pub fn describe(&self, depth: Option<usize>) -> Result<Description> {
        lower(&self.spec(depth)?)
    }

    /// The image size the model takes without data: channels, height, width.
    pub fn input(&self) -> [usize; 3] {
        MNIST_INPUT
    }
}

/// The model `train`, the API, the CLI and the page use where none is
/// named: the tutorial's GoogLeNet. One of [`CATALOG`]'s names.
pub const DEFAULT_MODEL: &str = "googlenet";

/// Every model, in the order they are listed to users.
pub const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        name: "googlenet",
        aliases: &[],
        about: "The reference GoogLeNet of the tutorial: two Inception-A modules, 97,298 parameters.",
        depth: None,
        build: |_, classes| tutorial_net(["incep1", "incep2"], [10, 20], classes, |_| inception_a()),
    },
    CatalogEntry {
        name: "lenet5",
        aliases: &[],
        about: "LeNet-5's shape with ReLU and max-pool, 61,706 parameters.",
        depth: None,
        build: |_, classes| lenet5(classes),
    },
    CatalogEntry {
        name: "residual",
        aliases: &[],
        about: "The tutorial's small residual network: two residual blocks, 41,514 parameters.",
        depth: None,
        build: |_, classes| tutorial_net(["rblock1", "rblock2"], [16, 32], classes, residual_block),
    },
    CatalogEntry {
        name: "resnet-original",
        aliases: &["resnet"],
        about: "A small MNIST ResNet with He et al. 2016's original unit, Fig. 4(a): conv, BN, ReLU, conv, BN, addition, ReLU.",
        depth: Some(RESNET_DEPTH),
        build: |depth, classes| resnet(UnitDesign::Original, depth, classes),
    },
    CatalogEntry {
        name: "resnet-bn-after-add",
        aliases: &[],
        about: "The small ResNet with Fig. 4(b)'s unit: BN after the addition.",
        depth: Some(RESNET_DEPTH),
        build: |depth, classes| resnet(UnitDesign::BnAfterAdd, depth, classes),
    },
    CatalogEntry {
        name: "resnet-relu-before-add",
        aliases: &[],
        about: "The small ResNet with Fig. 4(c)'s unit: ReLU before the addition.",
        depth: Some(RESNET_DEPTH),
        build: |depth, classes| resnet(UnitDesign::ReluBeforeAdd, depth, classes),
    },
    CatalogEntry {
        name: "resnet-relu-only-preact",
        aliases: &[],
        about: "The small ResNet with Fig. 4(d)'s unit: ReLU-only pre-activation.",
        depth: Some(RESNET_DEPTH),
        build: |depth, classes| resnet(UnitDesign::ReluOnlyPreact, depth, classes),
    },
    CatalogEntry {
        name: "resnet-full-preact",
        aliases: &[],
        about: "The small ResNet with Fig. 4(e)'s unit: full pre-activation (BN and ReLU before each conv).",
        depth: Some(RESNET_DEPTH),
        build: |depth, classes| resnet(UnitDesign::FullPreact, depth, classes),
    },
];

/// The catalog entry called `name` (or one of its aliases).
pub fn find(name: &str) -> Result<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.name == name || e.aliases.contains(&name)).ok_or_else(|| {
        let known: Vec<&str> = CATALOG.iter().flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied())).collect();
        Error::InvalidArgument(format!("unknown model '{name}' (known: {})", known.join(", ")))
    })
}

/// Refuses to resume a run of model `actual` (at `actual_depth`; `None`
/// for a model of fixed depth) as the model `asked` (a name or an alias)
/// or at `depth`, when given: a resumed run's model is its checkpoint's.
pub fn check_resumed_model(asked: Option<&str>, depth: Option<usize>, actual: &str, actual_depth: Option<usize>) -> Result<()> {
    if let Some(asked) = asked {
        if find(asked)?.name != actual {
            return Err(Error::InvalidArgument(format!("model \"{asked}\" differs from the checkpoint's \"{actual}\"")));
        }
    }
    match (depth, actual_depth) {
        (Some(d), Some(a)) if d != a => Err(Error::InvalidArgument(format!("depth {d} differs from the checkpoint's {a}"))),
        (Some(d), None) => Err(Error::InvalidArgument(format!("depth {d} was given, but the checkpoint's {actual} has a fixed depth"))),
        _ => Ok(()),
    }
}

/// The description of zoo model `name` at `depth` (see [`CatalogEntry::describe`]).
pub fn describe(name: &str, depth: Option<usize>) -> Result<Description> {
    find(name)?.describe(depth)
}

/// The tutorial's shape, shared by `googlenet` and `residual`: 5×5 conv,
/// 2×2 max-pool, ReLU, a block, 5×5 conv, 2×2 max-pool, ReLU, the same kind
/// of block again, flatten, one linear layer to `classes`. `widths` are
/// conv1's and conv2's output channels; `block` makes a block for its input
/// channels.
fn tutorial_net(blocks: [&str; 2], [conv1_out, conv2_out]: [usize; 2], classes: usize, block: fn(usize) -> Step) -> Step {
    Step::sequential(vec![
        Step::conv2d("conv1", conv1_out, 5, 1, 0),
        Step::max_pool(2).named("pool1"),
        Step::relu(),
        block(conv1_out).named(blocks[0]),
        Step::conv2d("conv2", conv2_out, 5, 1, 0),
        Step::max_pool(2).named("pool2"),
        Step::relu(),
        block(conv2_out).named(blocks[1]),
        Step::flatten().named("flatten"),
        Step::linear("fc", classes),
    ])
}

/// Inception-A: four branches over the same input, concatenated in this
/// order: 1×1 (16), 1×1→5×5 (24), 1×1→3×3→3×3 (24), 3×3 average
/// pool→1×1 (24); no activation inside, as in the reference.
fn inception_a() -> Step {
    Step::concat(vec![
        Step::conv2d("branch1x1", 16, 1, 1, 0),
        Step::sequential(vec![Step::conv2d("branch5x5_1", 16, 1, 1, 0), Step::conv2d("branch5x5_2", 24, 5, 1, 2)]),
        Step::sequential(vec![
            Step::conv2d("branch3x3_1", 16, 1, 1, 0),
            Step::conv2d("branch3x3_2", 24, 3, 1, 1),
            Step::conv2d("branch3x3_3", 24, 3, 1, 1),
        ]),
        Step::sequential(vec![Step::avg_pool(3, 1, 1), Step::conv2d("branch_pool", 24, 1, 1, 0)]),
    ])
}

/// The tutorial's residual block: relu(x + conv2(relu(conv1(x)))), two 3×3
/// convolutions with padding 1 that keep the channels and the size.
fn residual_block(channels: usize) -> Step {
    let body = vec![Step::conv2d("conv1", channels, 3, 1, 1), Step::relu(), Step::conv2d("conv2", channels, 3, 1, 1)];
    Step::sequential(vec![Step::residual(Step::sequential(body), None), Step::relu()])
}

/// LeNet-5's classic shape on 28×28 MNIST, with ReLU and max-pool where the
/// 1998 original had tanh-like squashing and subsampling: conv1 5×5 1→6
/// (padding 2), pool, conv2 5×5 6→16, pool, then linear 400→120→84→classes.
fn lenet5(classes: usize) -> Step {
    Step::sequential(vec![
        Step::conv2d("conv1", 6, 5, 1, 2),
        Step::max_pool(2).named("pool1"),
        Step::relu(),
        Step::conv2d("conv2", 16, 5, 1, 0),
        Step::max_pool(2).named("pool2"),
        Step::relu(),
        Step::flatten().named("flatten"),
        Step::linear("fc1", 120),
        Step::relu(),
        Step::linear("fc2", 84),
        Step::relu(),
        Step::linear("fc3", classes),
    ])
}

/// The five residual-unit designs of He et al. 2016, "Identity Mappings in
/// Deep Residual Networks", Fig. 4.
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
pub enum UnitStep {
    Conv1,
    Bn1,
    Relu,
    Conv2,
    Bn2,
    Add,
}

impl UnitDesign {
    pub const ALL: [UnitDesign; 5] = [Self::Original, Self::BnAfterAdd, Self::ReluBeforeAdd, Self::ReluOnlyPreact, Self::FullPreact];

    /// The unit's steps in order, as drawn in the paper.
    pub fn steps(self) -> &'static [UnitStep] {
        use UnitStep::*;
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

/// A residual unit from `c_in` to `c_out` channels. Where they differ, the
/// unit halves the size (conv1 with stride 2) and its shortcut is a 1×1
/// convolution with stride 2; elsewhere the shortcut is the identity. The
/// steps before the addition are the residual's body, those after it
/// follow it.
fn residual_unit(design: UnitDesign, c_in: usize, c_out: usize) -> Step {
    let stride = if c_in == c_out { 1 } else { 2 };
    let shortcut = (c_in != c_out).then(|| Step::conv2d("shortcut", c_out, 1, 2, 0));
    let step = |s: &UnitStep| match s {
        UnitStep::Conv1 => Step::conv2d("conv1", c_out, 3, stride, 1),
        UnitStep::Bn1 => Step::batch_norm("bn1"),
        UnitStep::Relu => Step::relu(),
        UnitStep::Conv2 => Step::conv2d("conv2", c_out, 3, 1, 1),
        UnitStep::Bn2 => Step::batch_norm("bn2"),
        UnitStep::Add => unreachable!("the addition is the residual itself"),
    };
    let steps = design.steps();
    let add = steps.iter().position(|s| *s == UnitStep::Add).expect("every unit adds its shortcut");
    let residual = Step::residual(Step::sequential(steps[..add].iter().map(step).collect()), shortcut);
    if add + 1 == steps.len() {
        residual
    } else {
        Step::sequential([residual].into_iter().chain(steps[add + 1..].iter().map(step)).collect())
    }
}

/// A small MNIST ResNet: a 3×3 stem to 16 channels, three stages of `depth`
/// residual units at 16, 32 and 64 channels (28×28, 14×14, 7×7; the first
/// unit of stages 2 and 3 halves the size), global average pooling and a
/// linear layer. Every conv has a bias; the stem is followed by BN and ReLU
/// in designs (a)–(c), and pre-activation designs end with what their units
/// leave out.
fn resnet(design: UnitDesign, depth: usize, classes: usize) -> Step {
    let mut steps = vec![Step::conv2d("conv1", 16, 3, 1, 1)];
    if !design.is_preact() {
        steps.extend([Step::batch_norm("bn1"), Step::relu()]);
    }
    let mut c_in = 16;
    for (stage, c_out) in [16, 32, 64].into_iter().enumerate() {
        for unit in 0..depth {
            steps.push(residual_unit(design, c_in, c_out).named(&format!("layer{}.{unit}", stage + 1)));
            c_in = c_out;
        }
    }
    if design == UnitDesign::FullPreact {
        steps.push(Step::batch_norm("bn_final"));
    }
    if design.is_preact() {
        steps.push(Step::relu());
    }
    steps.extend([Step::global_avg_pool().named("avgpool"), Step::linear("fc", classes)]);
    Step::sequential(steps)
}
