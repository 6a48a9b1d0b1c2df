//! Training and inference: SGD with momentum, the epoch loop with progress
//! events and cancellation, evaluation, prediction and benchmarking.

mod bench;
mod evaluate;
mod fit;
mod runner;
mod sgd;

pub use bench::{benchmark, BenchConfig, BenchResult};
pub use evaluate::{evaluate, predict_probabilities, EvalResult};
pub use fit::{fit, BatchProgress, EpochSummary, FitConfig, TrainEvent, EVAL_BATCH_SIZE};
pub use sgd::Sgd;
