//! A recipe's optimizer and schedule as named settings: what the binding
//! receives (the options of `fit`, the flags of `train`) and what a
//! checkpoint's metadata keeps. Each setting's kind, range, default and
//! the runs it applies to are declared in [`crate::options`]; settings not
//! given take the defaults of the optimizer and schedule chosen, and a
//! setting given that they do not use is refused, so `momentum` with Adam
//! cannot be silently ignored.

use super::schedule::{Decay, Schedule};
use crate::data::Augmentation;
use crate::optimizer::{AdamSettings, Optimizer, SgdSettings};
use crate::options::{spec, specs_of, Command, OptionError, Value};
use crate::{Error, Result};

/// The recipe settings given, each checked against its declaration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipeSettings {
    given: Vec<(&'static str, Value)>,
}

impl Default for Optimizer {
    /// The reference recipe's: SGD with the declared defaults (momentum 0.5).
    fn default() -> Self {
        RecipeSettings::default().resolve().map(|(_, optimizer, _)| optimizer).expect("the declared defaults resolve")
    }
}

impl Default for Schedule {
    /// The reference recipe's: a constant lr, no warm-up.
    fn default() -> Self {
        RecipeSettings::default().resolve().map(|(_, _, schedule)| schedule).expect("the declared defaults resolve")
    }
}

impl RecipeSettings {
    /// The settings `given` by name; refuses a name that is no recipe
    /// setting and a value of the wrong kind or out of range.
    pub fn new<'a>(given: impl IntoIterator<Item = (&'a str, Value)>) -> Result<Self> {
        let mut settings = Self::default();
        for (name, value) in given {
            let spec = spec(Command::Fit, name).filter(|s| s.recipe).ok_or_else(|| OptionError {
                option: name.into(),
                rule: "is not a setting of the optimizer or schedule".into(),
                got: None,
                wrong_type: true,
            })?;
            spec.check(&value)?;
            settings.given.retain(|(n, _)| *n != spec.name);
            settings.given.push((spec.name, value));
        }
        Ok(settings)
    }

    /// The value given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.given.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The value of `name` for a run with `optimizer`: given, or its default.
    fn value(&self, name: &str, optimizer: &str) -> Result<Value> {
        if let Some(value) = self.get(name) {
            return Ok(value.clone());
        }
        spec(Command::Fit, name)
            .and_then(|s| s.default_for(optimizer))
            .ok_or_else(|| Error::Internal(format!("the setting {name} has no default for {optimizer}")))
    }

    /// The number `name` is for a run with `optimizer`.
    pub(crate) fn number(&self, name: &str, optimizer: &str) -> Result<f64> {
        let value = self.value(name, optimizer)?;
        value.number().ok_or_else(|| Error::Internal(format!("the setting {name} is not a number")))
    }

    fn flag(&self, name: &str, optimizer: &str) -> Result<bool> {
        let value = self.value(name, optimizer)?;
        value.flag().ok_or_else(|| Error::Internal(format!("the setting {name} is not a flag")))
    }

    fn name(&self, name: &str, optimizer: &str) -> Result<String> {
        let value = self.value(name, optimizer)?;
        value.text().map(String::from).ok_or_else(|| Error::Internal(format!("the setting {name} is not a name")))
    }

    /// The learning rate, optimizer and schedule these settings make, the
    /// unset ones taking their defaults. Refuses settings the chosen
    /// optimizer or schedule does not use; the rules that tie settings
    /// together are checked by [`super::FitConfig::validate`].
    pub fn resolve(&self) -> Result<(f64, Optimizer, Schedule)> {
        let optimizer = self.name("optimizer", "")?;
        let schedule = self.name("schedule", &optimizer)?;
        let warmup_epochs = self.number("warmupEpochs", &optimizer)? as usize;
        for (name, _) in &self.given {
            if let Some(spec) = spec(Command::Fit, name) {
                spec.applies_to(&optimizer, &schedule, warmup_epochs)?;
            }
        }
        let o = optimizer.as_str();
        let weight_decay = self.number("weightDecay", o)?;
        let built = match o {
            "sgd" => {
                Optimizer::Sgd(SgdSettings { momentum: self.number("momentum", o)?, nesterov: self.flag("nesterov", o)?, weight_decay })
            }
            _ => {
                let settings = AdamSettings {
                    beta1: self.number("beta1", o)?,
                    beta2: self.number("beta2", o)?,
                    eps: self.number("eps", o)?,
                    weight_decay,
                };
                if o == "adam" {
                    Optimizer::Adam(settings)
                } else {
                    Optimizer::AdamW(settings)
                }
            }
        };
        let decay = match schedule.as_str() {
            "step" => Decay::Step { every_epochs: self.number("stepEpochs", o)? as usize, gamma: self.number("stepGamma", o)? },
            "cosine" => Decay::Cosine,
            _ => Decay::Constant,
        };
        let warmup_start_factor = self.number("warmupStartFactor", o)?;
        Ok((self.number("lr", o)?, built, Schedule { decay, warmup_epochs, warmup_start_factor }))
    }

    /// The training images' augmentation these settings make, for a run
    /// with `optimizer` (every part off unless given).
    pub(crate) fn augmentation(&self, optimizer: &str) -> Result<Augmentation> {
        Ok(Augmentation {
            crop_padding: self.number("cropPadding", optimizer)? as usize,
            flip: self.flag("flip", optimizer)?,
            max_rotation_degrees: self.number("rotation", optimizer)? as f32,
        })
    }

    /// The settings of a resolved recipe: every one its optimizer and
    /// schedule use, and only those.
    pub fn of(lr: f64, optimizer: &Optimizer, schedule: &Schedule, label_smoothing: f64, augmentation: &Augmentation) -> Self {
        let mut given: Vec<(&'static str, Value)> = vec![("optimizer", optimizer.name().into()), ("lr", lr.into())];
        match optimizer {
            Optimizer::Sgd(s) => {
                given.extend([("momentum", s.momentum.into()), ("nesterov", s.nesterov.into()), ("weightDecay", s.weight_decay.into())])
            }
            Optimizer::Adam(a) | Optimizer::AdamW(a) => given.extend([
                ("beta1", a.beta1.into()),
                ("beta2", a.beta2.into()),
                ("eps", a.eps.into()),
                ("weightDecay", a.weight_decay.into()),
            ]),
        }
        given.push(("schedule", schedule.name().into()));
        if let Decay::Step { every_epochs, gamma } = schedule.decay {
            given.extend([("stepEpochs", every_epochs.into()), ("stepGamma", gamma.into())]);
        }
        given.push(("warmupEpochs", schedule.warmup_epochs.into()));
        if schedule.warmup_epochs > 0 {
            given.push(("warmupStartFactor", schedule.warmup_start_factor.into()));
        }
        given.push(("labelSmoothing", label_smoothing.into()));
        // The angle is an f32: its shortest decimal (10, not 10.000000149…
        // for 10.0000001) reads back as the same f32, and shows as given.
        let rotation: f64 = augmentation.max_rotation_degrees.to_string().parse().expect("an f32 prints as a number");
        given.extend([
            ("cropPadding", augmentation.crop_padding.into()),
            ("flip", augmentation.flip.into()),
            ("rotation", rotation.into()),
        ]);
        Self { given }
    }

    /// Each recipe setting as (its name in the TypeScript API, its key in a
    /// checkpoint's metadata, its value as text if given), in the order of
    /// the options' declaration.
    pub fn entries(&self) -> Vec<(&'static str, String, Option<String>)> {
        specs_of(Command::Fit)
            .filter(|s| s.recipe)
            .map(|s| {
                let text = self.get(s.name).map(|v| match v {
                    Value::Number(x) => x.to_string(),
                    Value::Flag(b) => b.to_string(),
                    Value::Text(t) | Value::Other(t) => t.clone(),
                });
                (s.name, s.key(), text)
            })
            .collect()
    }

    /// The settings given, by name, in the order given.
    pub fn given(&self) -> &[(&'static str, Value)] {
        &self.given
    }

    /// Reads the settings back from a checkpoint's metadata (`get` a key's
    /// value); a key that is absent is a setting not given, so checkpoints
    /// written before there was a choice read as SGD at a constant rate.
    /// Fails with the key whose value does not parse or breaks its rule.
    pub fn from_metadata<'a>(get: impl Fn(&str) -> Option<&'a String>) -> std::result::Result<Self, String> {
        let mut given = Vec::new();
        for spec in specs_of(Command::Fit).filter(|s| s.recipe) {
            let key = spec.key();
            let Some(text) = get(&key) else { continue };
            let bad = || format!("checkpoint metadata '{key}' is not valid: {text:?}");
            let value = match spec.kind {
                crate::options::Kind::Flag => Value::Flag(text.parse().map_err(|_| bad())?),
                crate::options::Kind::Choice(_) => Value::Text(text.clone()),
                _ => Value::Number(text.parse().map_err(|_| bad())?),
            };
            given.push((spec.name, value));
        }
        Self::new(given).map_err(|e| format!("checkpoint metadata: {e}"))
    }
}
