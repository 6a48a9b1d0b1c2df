//! Training and inference: the optimizers (SGD, Adam, AdamW) and
//! learning-rate schedules, the epoch loop with progress events and
//! cancellation, evaluation, prediction and benchmarking.

mod bench;
mod candle_optimizer;
mod checkpoint;
mod evaluate;
mod fit;
mod optimizer;
mod recipe;
mod runner;
mod schedule;
mod state;

pub use bench::{benchmark, BenchConfig, BenchResult, CpuFigures};
pub use candle_optimizer::CandleOptimizer;
pub use checkpoint::{
    checkpoint_file_name, checkpoint_progress, latest_checkpoint, load_checkpoint, load_checkpoint_bytes, prepare_checkpoint_dir,
    save_checkpoint, Checkpoint,
};
pub use evaluate::{
    check_dataset, check_input_size, evaluate, evaluate_with_predictions, predict_logits, predict_probabilities, EvalResult, Pixel,
};
pub use fit::{fit, fit_from, BatchProgress, EpochSummary, FitConfig, TrainEvent, EVAL_BATCH_SIZE, MAX_BATCH_SIZE};
pub use optimizer::{
    beta_rule, default_lr, eps_rule, lr_rule, momentum_rule, weight_decay_rule, AdamSettings, Optimizer, SgdSettings, DEFAULT_ADAM,
    DEFAULT_ADAMW_WEIGHT_DECAY, DEFAULT_SGD, OPTIMIZER_NAMES,
};
pub use recipe::{check_choice, setting_rule, RecipeSettings};
pub use runner::cross_entropy_loss;
pub use schedule::{
    step_gamma_rule, warmup_start_factor_rule, Decay, Schedule, DEFAULT_STEP_EPOCHS, DEFAULT_STEP_GAMMA, DEFAULT_WARMUP_START_FACTOR,
    SCHEDULE_NAMES,
};
pub use state::TrainState;
