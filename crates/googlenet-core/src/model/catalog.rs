//! The zoo: every model this package can create, as a [`Description`], with
//! what a user picks it by. This is the only list of models; the binding
//! hands it to TypeScript.

use super::describe::{Builder, Description, NodeId};
use crate::{Error, Result};

/// The images every zoo model takes: one channel, 28×28.
const MNIST: [usize; 3] = [1, 28, 28];
const CLASSES: usize = 10;

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
    build: fn(name: &str, depth: usize) -> Builder,
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

    /// The model's description at `depth` (its default when `None`).
    pub fn describe(&self, depth: Option<usize>) -> Result<Description> {
        let depth = self.resolve_depth(depth)?.unwrap_or(0);
        (self.build)(self.name, depth).finish()
    }

    /// The image size the model takes: channels, height, width.
    pub fn input(&self) -> [usize; 3] {
        MNIST
    }
}

/// Every model, in the order they are listed to users.
pub const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        name: "googlenet",
        aliases: &[],
        about: "The reference GoogLeNet of the tutorial: two Inception-A modules, 97,298 parameters.",
        depth: None,
        build: |name, _| tutorial_net(name, ["incep1", "incep2"], [10, 88, 20, 88], inception_a),
    },
    CatalogEntry {
        name: "lenet5",
        aliases: &[],
        about: "LeNet-5's shape with ReLU and max-pool, 61,706 parameters.",
        depth: None,
        build: |name, _| lenet5(name),
    },
    CatalogEntry {
        name: "residual",
        aliases: &[],
        about: "The tutorial's small residual network: two residual blocks, 41,514 parameters.",
        depth: None,
        build: |name, _| tutorial_net(name, ["rblock1", "rblock2"], [16, 16, 32, 32], residual_block),
    },
    CatalogEntry {
        name: "resnet-original",
        aliases: &["resnet"],
        about: "A small MNIST ResNet with He et al. 2016's original unit, Fig. 4(a): conv, BN, ReLU, conv, BN, addition, ReLU.",
        depth: Some(RESNET_DEPTH),
        build: |name, depth| resnet(name, UnitDesign::Original, depth),
    },
    CatalogEntry {
        name: "resnet-bn-after-add",
        aliases: &[],
        about: "The small ResNet with Fig. 4(b)'s unit: BN after the addition.",
        depth: Some(RESNET_DEPTH),
        build: |name, depth| resnet(name, UnitDesign::BnAfterAdd, depth),
    },
    CatalogEntry {
        name: "resnet-relu-before-add",
        aliases: &[],
        about: "The small ResNet with Fig. 4(c)'s unit: ReLU before the addition.",
        depth: Some(RESNET_DEPTH),
        build: |name, depth| resnet(name, UnitDesign::ReluBeforeAdd, depth),
    },
    CatalogEntry {
        name: "resnet-relu-only-preact",
        aliases: &[],
        about: "The small ResNet with Fig. 4(d)'s unit: ReLU-only pre-activation.",
        depth: Some(RESNET_DEPTH),
        build: |name, depth| resnet(name, UnitDesign::ReluOnlyPreact, depth),
    },
    CatalogEntry {
        name: "resnet-full-preact",
        aliases: &[],
        about: "The small ResNet with Fig. 4(e)'s unit: full pre-activation (BN and ReLU before each conv).",
        depth: Some(RESNET_DEPTH),
        build: |name, depth| resnet(name, UnitDesign::FullPreact, depth),
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
/// of block again, flatten, one linear layer. `widths` are conv1's output,
/// the first block's output, conv2's output and the second block's output
/// (channels). Registration order as the tutorial's: conv1, conv2, the
/// blocks, fc.
fn tutorial_net(
    name: &str,
    blocks: [&str; 2],
    [conv1_out, block1_out, conv2_out, block2_out]: [usize; 4],
    block: fn(&mut Builder, NodeId, usize) -> NodeId,
) -> Builder {
    let mut b = Builder::new(name, MNIST);
    let conv1 = b.conv2d("conv1", 1, conv1_out, 5, 1, 0);
    let conv2 = b.conv2d("conv2", block1_out, conv2_out, 5, 1, 0);
    let x = b.apply(conv1, b.input());
    let x = b.max_pool("pool1", x, 2, 2);
    let x = b.relu(x);
    let x = b.scope(blocks[0], |b| block(b, x, conv1_out));
    let x = b.apply(conv2, x);
    let x = b.max_pool("pool2", x, 2, 2);
    let x = b.relu(x);
    let x = b.scope(blocks[1], |b| block(b, x, conv2_out));
    let x = b.flatten(x);
    let fc = b.linear("fc", block2_out * 4 * 4, CLASSES);
    b.apply(fc, x);
    b
}

/// Inception-A: four branches over the same input, concatenated in this
/// order: 1×1 (16), 1×1→5×5 (24), 1×1→3×3→3×3 (24), 3×3 average
/// pool→1×1 (24); no activation inside, as in the reference.
fn inception_a(b: &mut Builder, x: NodeId, c_in: usize) -> NodeId {
    let branch1x1 = b.conv2d("branch1x1", c_in, 16, 1, 1, 0);
    let branch5x5_1 = b.conv2d("branch5x5_1", c_in, 16, 1, 1, 0);
    let branch5x5_2 = b.conv2d("branch5x5_2", 16, 24, 5, 1, 2);
    let branch3x3_1 = b.conv2d("branch3x3_1", c_in, 16, 1, 1, 0);
    let branch3x3_2 = b.conv2d("branch3x3_2", 16, 24, 3, 1, 1);
    let branch3x3_3 = b.conv2d("branch3x3_3", 24, 24, 3, 1, 1);
    let branch_pool = b.conv2d("branch_pool", c_in, 24, 1, 1, 0);
    let b1 = b.apply(branch1x1, x);
    let b5 = b.apply(branch5x5_1, x);
    let b5 = b.apply(branch5x5_2, b5);
    let b3 = b.apply(branch3x3_1, x);
    let b3 = b.apply(branch3x3_2, b3);
    let b3 = b.apply(branch3x3_3, b3);
    let pooled = b.avg_pool(x, 3, 1, 1);
    let bp = b.apply(branch_pool, pooled);
    let out = b.concat(&[b1, b5, b3, bp]);
    b.block_output(out)
}

/// The tutorial's residual block: relu(x + conv2(relu(conv1(x)))), two 3×3
/// convolutions with padding 1 that keep the channels and the size.
fn residual_block(b: &mut Builder, x: NodeId, channels: usize) -> NodeId {
    let conv1 = b.conv2d("conv1", channels, channels, 3, 1, 1);
    let conv2 = b.conv2d("conv2", channels, channels, 3, 1, 1);
    let y = b.apply(conv1, x);
    let y = b.relu(y);
    let y = b.apply(conv2, y);
    let sum = b.add(x, y);
    let out = b.relu(sum);
    b.block_output(out)
}

/// LeNet-5's classic shape on 28×28 MNIST, with ReLU and max-pool where the
/// 1998 original had tanh-like squashing and subsampling: conv1 5×5 1→6
/// (padding 2), pool, conv2 5×5 6→16, pool, then linear 400→120→84→10.
fn lenet5(name: &str) -> Builder {
    let mut b = Builder::new(name, MNIST);
    let conv1 = b.conv2d("conv1", 1, 6, 5, 1, 2);
    let conv2 = b.conv2d("conv2", 6, 16, 5, 1, 0);
    let fc1 = b.linear("fc1", 16 * 5 * 5, 120);
    let fc2 = b.linear("fc2", 120, 84);
    let fc3 = b.linear("fc3", 84, CLASSES);
    let mut x = b.input();
    for (conv, pool) in [(conv1, "pool1"), (conv2, "pool2")] {
        x = b.apply(conv, x);
        x = b.max_pool(pool, x, 2, 2);
        x = b.relu(x);
    }
    x = b.flatten(x);
    for fc in [fc1, fc2] {
        x = b.apply(fc, x);
        x = b.relu(x);
    }
    b.apply(fc3, x);
    b
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

/// A residual unit from `c_in` to `c_out` channels. Where they differ, the
/// unit halves the size (conv1 with stride 2) and its shortcut is a 1×1
/// convolution with stride 2; elsewhere the shortcut is the identity.
/// Registered conv1, bn1, conv2, bn2, shortcut, as PyTorch would.
fn residual_unit(b: &mut Builder, design: UnitDesign, x: NodeId, c_in: usize, c_out: usize) -> NodeId {
    let stride = if c_in == c_out { 1 } else { 2 };
    // BN1 normalizes conv1's input in full pre-activation, its output otherwise.
    let bn1_channels = if design == UnitDesign::FullPreact { c_in } else { c_out };
    let conv1 = b.conv2d("conv1", c_in, c_out, 3, stride, 1);
    let bn1 = b.batch_norm("bn1", bn1_channels);
    let conv2 = b.conv2d("conv2", c_out, c_out, 3, 1, 1);
    let bn2 = b.batch_norm("bn2", c_out);
    let shortcut = if c_in != c_out {
        let conv = b.conv2d("shortcut", c_in, c_out, 1, 2, 0);
        b.apply(conv, x)
    } else {
        x
    };
    let mut y = x;
    for step in design.steps() {
        y = match step {
            Step::Conv1 => b.apply(conv1, y),
            Step::Bn1 => b.apply(bn1, y),
            Step::Relu => b.relu(y),
            Step::Conv2 => b.apply(conv2, y),
            Step::Bn2 => b.apply(bn2, y),
            Step::Add => b.add(y, shortcut),
        };
    }
    b.block_output(y)
}

/// A small MNIST ResNet: a 3×3 stem to 16 channels, three stages of `depth`
/// residual units at 16, 32 and 64 channels (28×28, 14×14, 7×7; the first
/// unit of stages 2 and 3 halves the size), global average pooling and a
/// linear layer. Every conv has a bias; the stem is followed by BN and ReLU
/// in designs (a)–(c), and pre-activation designs end with what their units
/// leave out.
fn resnet(name: &str, design: UnitDesign, depth: usize) -> Builder {
    let mut b = Builder::new(name, MNIST);
    let stem = b.conv2d("conv1", 1, 16, 3, 1, 1);
    let mut x = b.apply(stem, b.input());
    if !design.is_preact() {
        let bn = b.batch_norm("bn1", 16);
        x = b.apply(bn, x);
        x = b.relu(x);
    }
    let mut c_in = 16;
    for (stage, c_out) in [16, 32, 64].into_iter().enumerate() {
        for unit in 0..depth {
            x = b.scope(&format!("layer{}.{unit}", stage + 1), |b| residual_unit(b, design, x, c_in, c_out));
            c_in = c_out;
        }
    }
    if design == UnitDesign::FullPreact {
        let bn = b.batch_norm("bn_final", 64);
        x = b.apply(bn, x);
    }
    if design.is_preact() {
        x = b.relu(x);
    }
    let x = b.global_avg_pool("avgpool", x);
    let fc = b.linear("fc", 64, CLASSES);
    b.apply(fc, x);
    b
}
