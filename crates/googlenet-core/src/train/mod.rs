//! Training and inference: SGD with momentum, the epoch loop with progress
//! events and cancellation, evaluation, prediction and benchmarking.

mod bench;
mod checkpoint;
mod evaluate;
mod fit;
mod runner;
mod sgd;
mod state;

pub use bench::{benchmark, BenchConfig, BenchResult, CpuFigures};
pub use checkpoint::{
    checkpoint_file_name, checkpoint_progress, latest_checkpoint, load_checkpoint, load_checkpoint_bytes, prepare_checkpoint_dir,
    save_checkpoint, Checkpoint,
};
pub use evaluate::{check_dataset, check_input_size, evaluate, evaluate_with_predictions, predict_probabilities, EvalResult, Pixel};
pub use fit::{fit, fit_from, BatchProgress, EpochSummary, FitConfig, TrainEvent, EVAL_BATCH_SIZE, MAX_BATCH_SIZE};
pub use sgd::Sgd;
pub use state::TrainState;
