//! Training and inference: the optimizers (SGD, Adam, AdamW) and
//! learning-rate schedules, the epoch loop with progress events and
//! cancellation, evaluation, prediction and benchmarking.

mod bench;
mod candle_optimizer;
mod checkpoint;
mod evaluate;
mod fit;
mod predictor;
mod recipe;
mod runner;
mod schedule;
mod state;

pub use crate::optimizer::{AdamSettings, Optimizer, SgdSettings};
pub use crate::options::{EVAL_BATCH_SIZE, MAX_BATCH_SIZE, OPTIMIZER_NAMES, SCHEDULE_NAMES};
pub use bench::{benchmark, BenchConfig, BenchResult, CpuFigures, Latency};
pub use candle_optimizer::CandleOptimizer;
pub use checkpoint::{
    checkpoint_file_name, checkpoint_progress, latest_checkpoint, load_checkpoint, load_checkpoint_bytes, prepare_checkpoint_dir,
    save_checkpoint, Checkpoint,
};
pub use evaluate::{check_dataset, check_input_shape, evaluate, evaluate_with_predictions, EvalResult};
pub use fit::{fit, fit_from, BatchProgress, FitConfig, TrainEvent};
pub use predictor::{predict_logits, predict_probabilities, Pixel, Predictor};
pub use recipe::RecipeSettings;
pub use runner::cross_entropy_loss;
pub use schedule::{Decay, Schedule};
pub use state::{EpochSummary, TrainState};
