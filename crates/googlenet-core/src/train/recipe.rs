//! A recipe's optimizer and schedule as named settings: what the binding
//! receives (the options of `fit`, the flags of `train`) and what a
//! checkpoint's metadata keeps. Settings not given take the defaults of
//! the optimizer and schedule chosen; a setting given that they do not use
//! is refused, so `momentum` with Adam cannot be silently ignored.

use super::optimizer::{
    self, beta_rule, eps_rule, lr_rule, momentum_rule, weight_decay_rule, AdamSettings, Optimizer, SgdSettings, DEFAULT_ADAM,
    DEFAULT_ADAMW_WEIGHT_DECAY, DEFAULT_SGD, OPTIMIZER_NAMES,
};
use super::schedule::{
    step_gamma_rule, warmup_start_factor_rule, Decay, Schedule, DEFAULT_STEP_EPOCHS, DEFAULT_STEP_GAMMA, DEFAULT_WARMUP_START_FACTOR,
    SCHEDULE_NAMES,
};
use crate::{Error, Result};

/// The optimizer and schedule settings, each given or not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipeSettings {
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
    pub step_epochs: Option<usize>,
    pub step_gamma: Option<f64>,
    pub warmup_epochs: Option<usize>,
    pub warmup_start_factor: Option<f64>,
}

/// The rule a numeric setting must follow, by the option's name in the
/// TypeScript API; `None` for a name that has no such rule.
pub fn setting_rule(setting: &str) -> Option<fn(f64) -> Option<&'static str>> {
    Some(match setting {
        "lr" => lr_rule,
        "momentum" => momentum_rule,
        "weightDecay" => weight_decay_rule,
        "beta1" | "beta2" => beta_rule,
        "eps" => eps_rule,
        "stepGamma" => step_gamma_rule,
        "warmupStartFactor" => warmup_start_factor_rule,
        _ => return None,
    })
}

/// `Err` naming `setting` when it was given for an `owner` that does not use it.
fn unused<T>(setting: &str, value: &Option<T>, owner: &str) -> Result<()> {
    match value {
        Some(_) => Err(Error::InvalidArgument(format!("{setting} does not apply to {owner}"))),
        None => Ok(()),
    }
}

/// Checks that `name` is one of `known`, for the setting `what`.
pub fn check_choice(what: &str, name: &str, known: &[&str]) -> Result<()> {
    if known.contains(&name) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!("{what} must be one of {} (got {name:?})", known.join(", "))))
}

impl RecipeSettings {
    /// The learning rate, optimizer and schedule these settings make, the
    /// unset ones taking their defaults. Refuses unknown names and settings
    /// the chosen optimizer or schedule does not use; the values' own rules
    /// are checked by [`super::FitConfig::validate`].
    pub fn resolve(&self) -> Result<(f64, Optimizer, Schedule)> {
        let name = self.optimizer.as_deref().unwrap_or("sgd");
        check_choice("optimizer", name, &OPTIMIZER_NAMES)?;
        let lr = self.lr.unwrap_or_else(|| optimizer::default_lr(name));
        let owner = format!("the {name} optimizer");
        let optimizer = if name == "sgd" {
            for (setting, value) in [("beta1", &self.beta1), ("beta2", &self.beta2), ("eps", &self.eps)] {
                unused(setting, value, &owner)?;
            }
            Optimizer::Sgd(SgdSettings {
                momentum: self.momentum.unwrap_or(DEFAULT_SGD.momentum),
                nesterov: self.nesterov.unwrap_or(DEFAULT_SGD.nesterov),
                weight_decay: self.weight_decay.unwrap_or(DEFAULT_SGD.weight_decay),
            })
        } else {
            unused("momentum", &self.momentum, &format!("{owner} (it has beta1 and beta2)"))?;
            unused("nesterov", &self.nesterov, &owner)?;
            let default_decay = if name == "adamw" { DEFAULT_ADAMW_WEIGHT_DECAY } else { DEFAULT_ADAM.weight_decay };
            let settings = AdamSettings {
                beta1: self.beta1.unwrap_or(DEFAULT_ADAM.beta1),
                beta2: self.beta2.unwrap_or(DEFAULT_ADAM.beta2),
                eps: self.eps.unwrap_or(DEFAULT_ADAM.eps),
                weight_decay: self.weight_decay.unwrap_or(default_decay),
            };
            if name == "adam" {
                Optimizer::Adam(settings)
            } else {
                Optimizer::AdamW(settings)
            }
        };
        let schedule_name = self.schedule.as_deref().unwrap_or("constant");
        check_choice("schedule", schedule_name, &SCHEDULE_NAMES)?;
        let decay = match schedule_name {
            "step" => Decay::Step {
                every_epochs: self.step_epochs.unwrap_or(DEFAULT_STEP_EPOCHS),
                gamma: self.step_gamma.unwrap_or(DEFAULT_STEP_GAMMA),
            },
            other => {
                let owner = format!("the {other} schedule (only to step)");
                unused("stepEpochs", &self.step_epochs, &owner)?;
                unused("stepGamma", &self.step_gamma, &owner)?;
                if other == "cosine" {
                    Decay::Cosine
                } else {
                    Decay::Constant
                }
            }
        };
        let warmup_epochs = self.warmup_epochs.unwrap_or(0);
        if warmup_epochs == 0 {
            unused("warmupStartFactor", &self.warmup_start_factor, "a run without warm-up (set warmupEpochs)")?;
        }
        let warmup_start_factor = self.warmup_start_factor.unwrap_or(DEFAULT_WARMUP_START_FACTOR);
        Ok((lr, optimizer, Schedule { decay, warmup_epochs, warmup_start_factor }))
    }

    /// The settings of a resolved recipe: every one its optimizer and
    /// schedule use, and only those.
    pub fn of(lr: f64, optimizer: &Optimizer, schedule: &Schedule) -> Self {
        let mut settings = Self { optimizer: Some(optimizer.name().into()), lr: Some(lr), ..Self::default() };
        match optimizer {
            Optimizer::Sgd(s) => {
                (settings.momentum, settings.nesterov, settings.weight_decay) = (Some(s.momentum), Some(s.nesterov), Some(s.weight_decay));
            }
            Optimizer::Adam(a) | Optimizer::AdamW(a) => {
                (settings.beta1, settings.beta2, settings.eps) = (Some(a.beta1), Some(a.beta2), Some(a.eps));
                settings.weight_decay = Some(a.weight_decay);
            }
        }
        settings.schedule = Some(schedule.name().into());
        if let Decay::Step { every_epochs, gamma } = schedule.decay {
            (settings.step_epochs, settings.step_gamma) = (Some(every_epochs), Some(gamma));
        }
        settings.warmup_epochs = Some(schedule.warmup_epochs);
        if schedule.warmup_epochs > 0 {
            settings.warmup_start_factor = Some(schedule.warmup_start_factor);
        }
        settings
    }

    /// Each setting as (the option's name in the TypeScript API, the key in
    /// a checkpoint's metadata, its value as text if given), in the order
    /// messages name them.
    pub fn entries(&self) -> Vec<(&'static str, &'static str, Option<String>)> {
        let text = |v: &Option<f64>| v.map(|v| v.to_string());
        let count = |v: &Option<usize>| v.map(|v| v.to_string());
        vec![
            ("optimizer", "optimizer", self.optimizer.clone()),
            ("lr", "lr", text(&self.lr)),
            ("momentum", "momentum", text(&self.momentum)),
            ("nesterov", "nesterov", self.nesterov.map(|v| v.to_string())),
            ("weightDecay", "weight_decay", text(&self.weight_decay)),
            ("beta1", "beta1", text(&self.beta1)),
            ("beta2", "beta2", text(&self.beta2)),
            ("eps", "eps", text(&self.eps)),
            ("schedule", "schedule", self.schedule.clone()),
            ("stepEpochs", "step_epochs", count(&self.step_epochs)),
            ("stepGamma", "step_gamma", text(&self.step_gamma)),
            ("warmupEpochs", "warmup_epochs", count(&self.warmup_epochs)),
            ("warmupStartFactor", "warmup_start_factor", text(&self.warmup_start_factor)),
        ]
    }

    /// Reads the settings back from a checkpoint's metadata (`get` a key's
    /// value); a key that is absent is a setting not given, so checkpoints
    /// written before there was a choice read as SGD at a constant rate.
    /// Fails with the key whose value does not parse.
    pub fn from_metadata<'a>(get: impl Fn(&str) -> Option<&'a String>) -> std::result::Result<Self, String> {
        fn parse<T: std::str::FromStr>(key: &str, value: Option<&String>) -> std::result::Result<Option<T>, String> {
            value.map(|v| v.parse().map_err(|_| format!("checkpoint metadata '{key}' is not valid: {v:?}"))).transpose()
        }
        Ok(Self {
            optimizer: get("optimizer").cloned(),
            lr: parse("lr", get("lr"))?,
            momentum: parse("momentum", get("momentum"))?,
            nesterov: parse("nesterov", get("nesterov"))?,
            weight_decay: parse("weight_decay", get("weight_decay"))?,
            beta1: parse("beta1", get("beta1"))?,
            beta2: parse("beta2", get("beta2"))?,
            eps: parse("eps", get("eps"))?,
            schedule: get("schedule").cloned(),
            step_epochs: parse("step_epochs", get("step_epochs"))?,
            step_gamma: parse("step_gamma", get("step_gamma"))?,
            warmup_epochs: parse("warmup_epochs", get("warmup_epochs"))?,
            warmup_start_factor: parse("warmup_start_factor", get("warmup_start_factor"))?,
        })
    }
}
