//! The options, one row each: the only place a name, default or range is
//! written. The optimizers' and schedules' arithmetic lives in `train/`;
//! what users may set and what they get unset is here.

use super::schema::{AppliesTo, Bound, Command, DefaultValue, Kind, OptionSpec};
use super::value::{OptionError, Value};

/// The optimizers by the names users give them, in the order help lists them.
pub const OPTIMIZER_NAMES: [&str; 3] = ["sgd", "adam", "adamw"];

/// The learning-rate schedules by the names users give them.
pub const SCHEDULE_NAMES: [&str; 3] = ["constant", "step", "cosine"];

/// Batch size for evaluation and prediction: larger than training's (no
/// gradients are kept) but small enough that conv2's im2col buffer
/// (batch × 2200 × 64 floats) stays near 36 MB.
pub const EVAL_BATCH_SIZE: usize = 256;

/// The largest batch for training, evaluation and benchmarks. Memory grows
/// with the batch (activations, im2col buffers, gradients), so a typo such as
/// a batch of a million is refused before anything is allocated; 1024 is 16
/// times the reference recipe's batch.
pub const MAX_BATCH_SIZE: usize = 1024;

/// The largest count, size or seed: the addon's integers are unsigned 32-bit.
const MAX_COUNT: u64 = u32::MAX as u64;
/// Seeds per model in one comparison: more runs than any sweep of ours
/// needs, few enough that the list of runs is small.
const MAX_SEEDS: u64 = 10_000;
/// Processes a comparison runs at once.
const MAX_WORKERS: u64 = 256;

/// Where a model runs: `auto` takes the first NVIDIA GPU when the CUDA build
/// loads and finds one, else the CPU.
const DEVICES: [&str; 3] = ["auto", "cpu", "cuda"];

const ADAMS: &[&str] = &["adam", "adamw"];

/// The widest zero border a random crop may pad with: 16 shifts a 28×28
/// digit more than halfway out of its image, past anything that still
/// teaches the class.
const MAX_CROP_PADDING: u64 = 16;

/// The largest input height or width a trace takes: its one image's activations grow with its area.
const MAX_TRACE_SIZE: u64 = 4096;
/// The widest and tallest image decoded (and the largest side a folder's
/// images may be resized to): far beyond any photo of a digit.
pub const MAX_IMAGE_SIDE: u64 = 8192;

/// A row with the usual defaults: any optimizer and schedule, not part of the recipe.
const fn row(
    command: Command,
    name: &'static str,
    kind: Kind,
    default: DefaultValue,
    placeholder: &'static str,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec { command, name, kind, default, applies: AppliesTo::Always, recipe: false, placeholder, doc }
}

/// A setting of the recipe (kept by checkpoints) that `applies` to some runs only.
const fn recipe(
    name: &'static str,
    kind: Kind,
    default: DefaultValue,
    applies: AppliesTo,
    placeholder: &'static str,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec { command: Command::Fit, name, kind, default, applies, recipe: true, placeholder, doc }
}

const fn decimal(min: Bound, max: Bound) -> Kind {
    Kind::Decimal { min, max }
}

const fn whole(min: u64, max: u64) -> Kind {
    Kind::Whole { min, max }
}

use AppliesTo::{Always, Optimizers, Schedules, Warmup};
use Bound::{Closed, Open, Unbounded};
use DefaultValue::{ByOptimizer, Name, Number, Unset};

/// Every option, by command, in the order help lists them.
pub static OPTIONS: &[OptionSpec] = &[
    row(Command::Fit, "epochs", whole(1, MAX_COUNT), Number(10.0), "n", "passes over the training set"),
    row(Command::Fit, "batchSize", whole(1, MAX_BATCH_SIZE as u64), Number(64.0), "n", "images per optimizer step"),
    recipe(
        "optimizer",
        Kind::Choice(&OPTIMIZER_NAMES),
        Name("sgd"),
        Always,
        "name",
        "the optimizer, as torch.optim computes it",
    ),
    recipe(
        "lr",
        decimal(Open(0.0), Unbounded),
        ByOptimizer(&[("sgd", 0.01), ("adam", 0.001), ("adamw", 0.001)]),
        Always,
        "rate",
        "base learning rate (the schedule scales it)",
    ),
    recipe(
        "momentum",
        decimal(Closed(0.0), Open(1.0)),
        ByOptimizer(&[("sgd", 0.5)]),
        Optimizers(&["sgd"]),
        "m",
        "momentum (PyTorch's form, no dampening)",
    ),
    recipe("nesterov", Kind::Flag, DefaultValue::Flag(false), Optimizers(&["sgd"]), "", "Nesterov momentum (needs a momentum > 0)"),
    recipe(
        "weightDecay",
        decimal(Closed(0.0), Unbounded),
        ByOptimizer(&[("sgd", 0.0), ("adam", 0.0), ("adamw", 0.01)]),
        Always,
        "λ",
        "L2 penalty added to the gradient (sgd, adam); decoupled weight decay (adamw)",
    ),
    recipe("beta1", decimal(Closed(0.0), Open(1.0)), ByOptimizer(&[("adam", 0.9), ("adamw", 0.9)]), Optimizers(ADAMS), "b", "decay of the gradient's running mean"),
    recipe(
        "beta2",
        decimal(Closed(0.0), Open(1.0)),
        ByOptimizer(&[("adam", 0.999), ("adamw", 0.999)]),
        Optimizers(ADAMS),
        "b",
        "decay of the squared gradient's running mean",
    ),
    recipe("eps", decimal(Open(0.0), Unbounded), ByOptimizer(&[("adam", 1e-8), ("adamw", 1e-8)]), Optimizers(ADAMS), "ε", "added to the denominator"),
    recipe(
        "schedule",
        Kind::Choice(&SCHEDULE_NAMES),
        Name("constant"),
        Always,
        "name",
        "learning-rate schedule, stepped every batch: step decays by stepGamma every stepEpochs epochs, cosine anneals to 0 at the last batch",
    ),
    recipe("stepEpochs", whole(1, MAX_COUNT), Number(1.0), Schedules(&["step"]), "n", "epochs between two decays"),
    recipe("stepGamma", decimal(Open(0.0), Closed(1.0)), Number(0.1), Schedules(&["step"]), "γ", "factor of each decay (PyTorch's StepLR)"),
    recipe("warmupEpochs", whole(0, MAX_COUNT), Number(0.0), Always, "n", "epochs of linear warm-up before the schedule (fewer than epochs)"),
    recipe(
        "warmupStartFactor",
        decimal(Open(0.0), Closed(1.0)),
        Number(1.0 / 3.0),
        Warmup,
        "f",
        "the warm-up starts at this fraction of the lr (PyTorch's LinearLR)",
    ),
    recipe(
        "labelSmoothing",
        decimal(Closed(0.0), Closed(1.0)),
        Number(0.0),
        Always,
        "ε",
        "label smoothing of the training loss, as PyTorch's CrossEntropyLoss(label_smoothing=ε)",
    ),
    recipe(
        "cropPadding",
        whole(0, MAX_CROP_PADDING),
        Number(0.0),
        Always,
        "p",
        "augmentation: shift each training image by up to p pixels each way (a random crop of the image padded with p zeros, as torchvision's RandomCrop(padding=p))",
    ),
    recipe("flip", Kind::Flag, DefaultValue::Flag(false), Always, "", "augmentation: mirror each training image left to right with probability 0.5"),
    recipe(
        "rotation",
        decimal(Closed(0.0), Closed(180.0)),
        Number(0.0),
        Always,
        "degrees",
        "augmentation: rotate each training image by a random angle in [-degrees, degrees] (bilinear, as torchvision's RandomRotation)",
    ),
    row(Command::Fit, "seed", whole(0, MAX_COUNT), Number(0.0), "n", "seed of the shuffle (and, for a new model, of its initialization)"),
    row(Command::Fit, "logEvery", whole(1, MAX_COUNT), Number(300.0), "n", "batches per running-loss line ('window' progress event)"),
    row(Command::Bench, "batchSize", whole(1, MAX_BATCH_SIZE as u64), Number(64.0), "n", "images per batch, for training and inference"),
    row(Command::Bench, "batches", whole(1, MAX_COUNT), Number(100.0), "n", "batches timed, for training and again for inference"),
    row(Command::Bench, "warmup", whole(0, MAX_COUNT), Number(5.0), "n", "untimed batches (and single-image predictions) before each measurement"),
    row(
        Command::Bench,
        "latencyCalls",
        whole(0, MAX_COUNT),
        Number(500.0),
        "n",
        "single-image predictions timed one by one through predict's path, for the latency's median and 99th percentile (0: none)",
    ),
    row(Command::Model, "seed", whole(0, MAX_COUNT), Number(0.0), "n", "seed of the weight initialization (and of fit's shuffle unless it gets its own)"),
    row(Command::Data, "limit", whole(1, MAX_COUNT), Unset, "n", "train on the first n training images only"),
    row(Command::Data, "testLimit", whole(1, MAX_COUNT), Unset, "n", "evaluate on the first n test images only"),
    row(Command::Evaluate, "batchSize", whole(1, MAX_BATCH_SIZE as u64), Number(EVAL_BATCH_SIZE as f64), "n", "images per forward pass"),
    row(Command::Compare, "epochs", whole(1, MAX_COUNT), Number(3.0), "n", "epochs each model trains"),
    row(Command::Compare, "seed", whole(0, MAX_COUNT), Number(0.0), "n", "seed of every model (the first seed, with seeds)"),
    row(Command::Compare, "seeds", whole(1, MAX_SEEDS), Number(1.0), "n", "runs per model, with the seeds seed, seed+1, …, seed+n-1"),
    row(
        Command::Compare,
        "workers",
        whole(1, MAX_WORKERS),
        Unset,
        "n",
        "runs trained at once, each in its own process with an equal share of the engine's threads (default: one run per thread, measured fastest; 1: in this process)",
    ),
    row(Command::Trace, "height", whole(1, MAX_TRACE_SIZE), Unset, "h", "input height (default: the model's; the dummy image's activations grow with its area)"),
    row(Command::Trace, "width", whole(1, MAX_TRACE_SIZE), Unset, "w", "input width (default: the model's)"),
    row(Command::Predict, "height", whole(1, MAX_COUNT), Unset, "h", "image height in pixels (default: the model's input height)"),
    row(Command::Predict, "width", whole(1, MAX_COUNT), Unset, "w", "image width in pixels (default: the model's input width)"),
    row(Command::Folder, "testSplit", decimal(Closed(0.0), Open(1.0)), Number(0.1), "f", "share of each class held out for testing, when the folder has no train/ and test/ (0: none; train needs a test split)"),
    row(Command::Folder, "splitSeed", whole(0, MAX_COUNT), Number(0.0), "n", "seed of the held-out split (apart from the training seed, so runs of several seeds test on the same images)"),
    row(Command::Folder, "channels", Kind::WholeOf(&[1, 3]), Unset, "c", "1 (grey) or 3 (colour); default: 3 when any image has colour, else 1"),
    row(Command::Folder, "height", whole(1, MAX_IMAGE_SIDE), Unset, "h", "image height every image is resized to (default: the most common size)"),
    row(Command::Folder, "width", whole(1, MAX_IMAGE_SIDE), Unset, "w", "image width every image is resized to (default: the most common size)"),
    row(Command::Folder, "strict", Kind::Flag, DefaultValue::Flag(false), "", "refuse a damaged or unreadable image instead of skipping it with a warning"),
    row(Command::Serve, "port", whole(0, 65535), Number(8080.0), "port", "the port to listen on (0: any free port)"),
    row(Command::Model, "device", Kind::Choice(&DEVICES), Name("auto"), "device", "where to run: auto takes an NVIDIA GPU when the CUDA build finds one, else the CPU"),
];

/// The option `name` of `command`.
pub fn spec(command: Command, name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|s| s.command == command && s.name == name)
}

/// The options of `command`, in help's order.
pub fn specs_of(command: Command) -> impl Iterator<Item = &'static OptionSpec> {
    OPTIONS.iter().filter(move |s| s.command == command)
}

/// Checks `value` of `command`'s option `name` against its declaration;
/// a name that is not declared is refused as no option of `command`.
pub fn check_value(command: Command, name: &str, value: impl Into<Value>) -> Result<(), OptionError> {
    match spec(command, name) {
        Some(spec) => spec.check(&value.into()),
        None => Err(OptionError::conflict(name, format!("is not an option of {}", command.name()))),
    }
}

/// The declared default of the numeric option `name` of `command`, for the
/// core's own `Default`s (0 for an option with none).
pub fn declared_default(command: Command, name: &str) -> f64 {
    match spec(command, name).map(|s| s.default) {
        Some(DefaultValue::Number(x)) => x,
        _ => 0.0,
    }
}
