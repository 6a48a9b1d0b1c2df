//! The training recipe across the boundary: the options of `fit` as JS
//! gives them, the resolved recipe it gets back, and the recipe's defaults,
//! choices and rules. They all live in the core (`FitConfig`,
//! `RecipeSettings`, `optimizer.rs`, `schedule.rs`); TypeScript reads them
//! from here and keeps no copy.

use googlenet_core::train::{
    setting_rule, FitConfig, RecipeSettings, DEFAULT_STEP_EPOCHS, DEFAULT_STEP_GAMMA, DEFAULT_WARMUP_START_FACTOR, OPTIMIZER_NAMES,
    SCHEDULE_NAMES,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guarded, range_checked};

/// The options of `fit`: epochs, batch size and seed resolved; the
/// optimizer's and schedule's settings as given (unset ones take the
/// defaults of the optimizer and schedule chosen).
#[napi(object)]
pub struct NativeFitOptions {
    pub epochs: u32,
    pub batch_size: u32,
    pub seed: u32,
    /// `sgd` (the default), `adam` or `adamw`.
    pub optimizer: Option<String>,
    pub lr: Option<f64>,
    pub momentum: Option<f64>,
    pub nesterov: Option<bool>,
    pub weight_decay: Option<f64>,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    /// `constant` (the default), `step` or `cosine`.
    pub schedule: Option<String>,
    pub step_epochs: Option<u32>,
    pub step_gamma: Option<f64>,
    pub warmup_epochs: Option<u32>,
    pub warmup_start_factor: Option<f64>,
}

/// A resolved recipe: every setting its optimizer and schedule use, and
/// only those (`momentum` for SGD, `beta1` for Adam…).
#[napi(object)]
pub struct NativeFitRecipe {
    pub epochs: u32,
    pub batch_size: u32,
    pub seed: u32,
    pub optimizer: String,
    pub lr: f64,
    pub momentum: Option<f64>,
    pub nesterov: Option<bool>,
    pub weight_decay: f64,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    pub schedule: String,
    pub step_epochs: Option<u32>,
    pub step_gamma: Option<f64>,
    pub warmup_epochs: u32,
    pub warmup_start_factor: Option<f64>,
}

impl NativeFitOptions {
    /// The core's recipe; an unknown name, a setting the optimizer or
    /// schedule does not use, or a value that breaks a rule is an
    /// `InvalidArgument` error naming the option.
    pub fn to_config(&self) -> googlenet_core::Result<FitConfig> {
        let settings = RecipeSettings {
            optimizer: self.optimizer.clone(),
            lr: self.lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            schedule: self.schedule.clone(),
            step_epochs: self.step_epochs.map(|e| e as usize),
            step_gamma: self.step_gamma,
            warmup_epochs: self.warmup_epochs.map(|e| e as usize),
            warmup_start_factor: self.warmup_start_factor,
        };
        FitConfig::from_settings(self.epochs as usize, self.batch_size as usize, self.seed as u64, &settings)
    }
}

impl From<&FitConfig> for NativeFitRecipe {
    fn from(c: &FitConfig) -> Self {
        let s = c.settings();
        Self {
            epochs: c.epochs as u32,
            batch_size: c.batch_size as u32,
            seed: c.seed as u32,
            optimizer: c.optimizer.name().into(),
            lr: c.lr,
            momentum: s.momentum,
            nesterov: s.nesterov,
            weight_decay: s.weight_decay.unwrap_or(0.0),
            beta1: s.beta1,
            beta2: s.beta2,
            eps: s.eps,
            schedule: c.schedule.name().into(),
            step_epochs: s.step_epochs.map(|e| e as u32),
            step_gamma: s.step_gamma,
            warmup_epochs: c.schedule.warmup_epochs as u32,
            warmup_start_factor: s.warmup_start_factor,
        }
    }
}

/// The recipe `fit` uses where an option is not given: the reference
/// recipe, or with `optimizer` that optimizer's defaults (PyTorch's for
/// Adam and AdamW). An unknown optimizer throws a `RangeError`.
#[napi(catch_unwind)]
pub fn fit_defaults(env: Env, optimizer: Option<String>) -> Result<NativeFitRecipe> {
    let d = FitConfig::default();
    let settings = RecipeSettings { optimizer, ..RecipeSettings::default() };
    let config = range_checked(&env, guarded(|| FitConfig::from_settings(d.epochs, d.batch_size, d.seed, &settings)))?;
    Ok(NativeFitRecipe::from(&config))
}

/// The names of the optimizers and schedules, for help and messages.
#[napi(object)]
pub struct NativeFitChoices {
    pub optimizers: Vec<String>,
    pub schedules: Vec<String>,
}

/// The optimizers and schedules `fit` takes, by name.
#[napi(catch_unwind)]
pub fn fit_choices() -> NativeFitChoices {
    let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect();
    NativeFitChoices { optimizers: names(&OPTIMIZER_NAMES), schedules: names(&SCHEDULE_NAMES) }
}

/// The defaults of the schedules' own settings, for help.
#[napi(object)]
pub struct NativeScheduleDefaults {
    pub step_epochs: u32,
    pub step_gamma: f64,
    pub warmup_start_factor: f64,
}

/// What the step schedule and the warm-up use where a setting is not given.
#[napi(catch_unwind)]
pub fn schedule_defaults() -> NativeScheduleDefaults {
    NativeScheduleDefaults {
        step_epochs: DEFAULT_STEP_EPOCHS as u32,
        step_gamma: DEFAULT_STEP_GAMMA,
        warmup_start_factor: DEFAULT_WARMUP_START_FACTOR,
    }
}

/// The rule a numeric recipe setting (`lr`, `momentum`, `weightDecay`,
/// `beta1`, `beta2`, `eps`, `stepGamma`, `warmupStartFactor`) must follow,
/// when `value` breaks it (`null` when it follows it): TypeScript names the
/// option or flag and the value as the user wrote it.
#[napi(
    catch_unwind,
    ts_args_type = "setting: 'lr' | 'momentum' | 'weightDecay' | 'beta1' | 'beta2' | 'eps' | 'stepGamma' | 'warmupStartFactor', value: number",
    ts_return_type = "string | null"
)]
pub fn fit_rule(setting: String, value: f64) -> Result<Either<String, Null>> {
    let Some(rule) = setting_rule(&setting) else {
        return Err(Error::new(Status::InvalidArg, format!("no rule for the setting {setting:?}")));
    };
    Ok(rule(value).map_or(Either::B(Null), |r| Either::A(r.to_string())))
}

/// The recipe `options` make, every default applied; a `RangeError` with
/// the core's message names the first option it refuses.
#[napi(catch_unwind)]
pub fn resolve_fit_recipe(env: Env, options: NativeFitOptions) -> Result<NativeFitRecipe> {
    let config = range_checked(&env, guarded(|| options.to_config()))?;
    Ok(NativeFitRecipe::from(&config))
}

/// Checks that a run with `options` continues the one `recorded` in a
/// checkpoint: a `RangeError` names the first setting that differs.
#[napi(catch_unwind)]
pub fn check_resumed_recipe(env: Env, options: NativeFitOptions, recorded: NativeFitOptions) -> Result<()> {
    range_checked(&env, guarded(|| options.to_config()?.check_continues(&recorded.to_config()?)))
}
