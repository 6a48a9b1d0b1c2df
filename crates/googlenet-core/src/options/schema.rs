//! What an option is: the shape of one row of [`super::OPTIONS`], and the
//! checks and wordings every row gets from it.

use super::value::{OptionError, Value};

/// Who takes an option: an API function and the CLI command of the same job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `Model.fit`, `train()` and the `train` command.
    Fit,
    /// `benchmark()` and the `bench` command.
    Bench,
    /// `createModel` and every command that makes or loads a model.
    Model,
    /// The data a run reads: `train`, `test` and `compare` (API and CLI).
    Data,
    /// `Model.evaluate` and the `test` command.
    Evaluate,
    /// `compareModels` and the `compare` command.
    Compare,
    /// `traceShapes` and the `trace` command.
    Trace,
    /// The `serve` command.
    Serve,
    /// `Model.predict` and `Model.logits` on raw pixels.
    Predict,
    /// Reading a folder of images: `loadData`, `Dataset.fromFolder`, and
    /// `--data` of `train`, `test` and `info`.
    Folder,
}

impl Command {
    pub const ALL: [Command; 10] = [
        Command::Fit,
        Command::Bench,
        Command::Model,
        Command::Data,
        Command::Evaluate,
        Command::Compare,
        Command::Trace,
        Command::Serve,
        Command::Predict,
        Command::Folder,
    ];

    /// Its name in the exported schema and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fit => "fit",
            Self::Bench => "bench",
            Self::Model => "model",
            Self::Data => "data",
            Self::Evaluate => "evaluate",
            Self::Compare => "compare",
            Self::Trace => "trace",
            Self::Serve => "serve",
            Self::Predict => "predict",
            Self::Folder => "folder",
        }
    }
}

/// One end of a range of numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Unbounded,
    /// The value may be this.
    Closed(f64),
    /// The value must differ from this.
    Open(f64),
}

/// What values an option takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A finite number between `min` and `max`.
    Decimal { min: Bound, max: Bound },
    /// A whole number in `[min, max]`: counts, sizes and seeds, which cross
    /// into the addon as unsigned 32-bit integers, so `max` is at most 2^32 − 1.
    Whole { min: u64, max: u64 },
    /// One of these whole numbers (channels: 1 or 3).
    WholeOf(&'static [u64]),
    /// On or off.
    Flag,
    /// One of these names.
    Choice(&'static [&'static str]),
}

/// What an option is when it is not given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// Nothing: the option is off (a limit, a file) until given.
    Unset,
    Number(f64),
    Flag(bool),
    Name(&'static str),
    /// Each optimizer's own (PyTorch's for Adam and AdamW): `(optimizer, value)`.
    ByOptimizer(&'static [(&'static str, f64)]),
}

/// Which runs use an option; given for another, it is refused, so
/// `momentum` with Adam cannot be silently ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AppliesTo {
    Always,
    Optimizers(&'static [&'static str]),
    Schedules(&'static [&'static str]),
    /// Runs with a warm-up (`warmupEpochs` > 0).
    Warmup,
}

/// One option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionSpec {
    pub command: Command,
    /// The name in the TypeScript API (`weightDecay`); the CLI's flag
    /// (`--weight-decay`) and the checkpoint's key (`weight_decay`) are made from it.
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub applies: AppliesTo,
    /// Part of the recipe a checkpoint records, which a resumed run keeps.
    pub recipe: bool,
    /// What help calls its value (`rate` in `--lr <rate>`).
    pub placeholder: &'static str,
    /// One line for help, the API reference and the manual.
    pub doc: &'static str,
}

/// `name` with each capital turned into `separator` and the letter in lower case.
fn split_words(name: &str, separator: char) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push(separator);
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `a` as a message writes a bound: `0`, `1`, `0.5`.
fn bound_text(x: f64) -> String {
    Value::Number(x).shown()
}

impl OptionSpec {
    /// The CLI's flag: `--weight-decay`.
    pub fn flag(&self) -> String {
        format!("--{}", split_words(self.name, '-'))
    }

    /// The key of a checkpoint's metadata: `weight_decay`.
    pub fn key(&self) -> String {
        split_words(self.name, '_')
    }

    /// What a valid value is, as a refusal words it after "must be":
    /// `a finite number in [0, 1)`, `an integer in [1, 1024]`, `one of sgd, adam, adamw`.
    pub fn rule(&self) -> String {
        match self.kind {
            Kind::Decimal { min, max } => {
                let range = match (min, max) {
                    (Bound::Unbounded, Bound::Unbounded) => String::new(),
                    (Bound::Closed(a), Bound::Unbounded) => format!(" >= {}", bound_text(a)),
                    (Bound::Open(a), Bound::Unbounded) => format!(" > {}", bound_text(a)),
                    (Bound::Unbounded, Bound::Closed(b)) => format!(" <= {}", bound_text(b)),
                    (Bound::Unbounded, Bound::Open(b)) => format!(" < {}", bound_text(b)),
                    (low, high) => {
                        let (open, a) = match low {
                            Bound::Closed(a) => ('[', a),
                            Bound::Open(a) => ('(', a),
                            Bound::Unbounded => unreachable!("matched above"),
                        };
                        let (close, b) = match high {
                            Bound::Closed(b) => (']', b),
                            Bound::Open(b) => (')', b),
                            Bound::Unbounded => unreachable!("matched above"),
                        };
                        format!(" in {open}{}, {}{close}", bound_text(a), bound_text(b))
                    }
                };
                format!("a finite number{range}")
            }
            Kind::Whole { min, max } => format!("an integer in [{min}, {max}]"),
            Kind::WholeOf(list) => {
                let (last, rest) = list.split_last().expect("a list of at least one number");
                let rest: Vec<String> = rest.iter().map(u64::to_string).collect();
                if rest.is_empty() {
                    last.to_string()
                } else {
                    format!("{} or {last}", rest.join(", "))
                }
            }
            Kind::Flag => "a boolean".into(),
            Kind::Choice(names) => format!("one of {}", names.join(", ")),
        }
    }

    /// Refuses a value of the wrong kind or out of range, with
    /// `must be <rule>` and the value.
    pub fn check(&self, value: &Value) -> Result<(), OptionError> {
        let fits_kind = matches!(
            (self.kind, value),
            (Kind::Decimal { .. } | Kind::Whole { .. } | Kind::WholeOf(_), Value::Number(_))
                | (Kind::Flag, Value::Flag(_))
                | (Kind::Choice(_), Value::Text(_))
        );
        let refused = |wrong_type| OptionError { wrong_type, ..OptionError::value(self.name, format!("must be {}", self.rule()), value) };
        if !fits_kind {
            return Err(refused(true));
        }
        let ok = match (self.kind, value) {
            (Kind::Decimal { min, max }, Value::Number(x)) => {
                let above = match min {
                    Bound::Unbounded => true,
                    Bound::Closed(a) => *x >= a,
                    Bound::Open(a) => *x > a,
                };
                let below = match max {
                    Bound::Unbounded => true,
                    Bound::Closed(b) => *x <= b,
                    Bound::Open(b) => *x < b,
                };
                x.is_finite() && above && below
            }
            (Kind::Whole { min, max }, Value::Number(x)) => x.fract() == 0.0 && *x >= min as f64 && *x <= max as f64,
            (Kind::WholeOf(list), Value::Number(x)) => list.iter().any(|&n| n as f64 == *x),
            (Kind::Choice(names), Value::Text(name)) => names.contains(&name.as_str()),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(refused(false))
        }
    }

    /// Its value when not given, for a run with `optimizer`; `None` when it
    /// has none (unset, or not one this optimizer uses).
    pub fn default_for(&self, optimizer: &str) -> Option<Value> {
        match self.default {
            DefaultValue::Unset => None,
            DefaultValue::Number(x) => Some(Value::Number(x)),
            DefaultValue::Flag(b) => Some(Value::Flag(b)),
            DefaultValue::Name(n) => Some(Value::Text(n.into())),
            DefaultValue::ByOptimizer(values) => values.iter().find(|(o, _)| *o == optimizer).map(|(_, x)| Value::Number(*x)),
        }
    }

    /// The default as help and the manual show it: `0.01; 0.001 with adam
    /// and adamw`, `1/3`, `'sgd'`; `None` for an option with none.
    pub fn default_text(&self) -> Option<String> {
        let number = |x: f64| if x == 1.0 / 3.0 { "1/3".to_string() } else { bound_text(x) };
        match self.default {
            DefaultValue::Unset => None,
            DefaultValue::Number(x) => Some(number(x)),
            DefaultValue::Flag(b) => Some(b.to_string()),
            DefaultValue::Name(n) => Some(format!("'{n}'")),
            DefaultValue::ByOptimizer(values) => {
                // The first optimizer's value, then each other value with the optimizers that take it.
                let mut groups: Vec<(f64, Vec<&str>)> = Vec::new();
                for &(optimizer, x) in values {
                    match groups.iter_mut().find(|(v, _)| *v == x) {
                        Some((_, names)) => names.push(optimizer),
                        None => groups.push((x, vec![optimizer])),
                    }
                }
                let mut parts = groups.iter().map(|(x, names)| format!("{} with {}", number(*x), names.join(" and ")));
                let first = groups.first().map(|(x, _)| number(*x))?;
                parts.next();
                Some(std::iter::once(first).chain(parts).collect::<Vec<_>>().join("; "))
            }
        }
    }

    /// Whether a run with this optimizer, schedule and warm-up uses it;
    /// `Err` with the words of the refusal when it does not.
    pub fn applies_to(&self, optimizer: &str, schedule: &str, warmup_epochs: usize) -> Result<(), OptionError> {
        let refusal = match self.applies {
            AppliesTo::Always => return Ok(()),
            AppliesTo::Optimizers(names) if names.contains(&optimizer) => return Ok(()),
            AppliesTo::Schedules(names) if names.contains(&schedule) => return Ok(()),
            AppliesTo::Warmup if warmup_epochs > 0 => return Ok(()),
            AppliesTo::Optimizers(names) => format!("does not apply to the {optimizer} optimizer (only to {})", names.join(" and ")),
            AppliesTo::Schedules(names) => format!("does not apply to the {schedule} schedule (only to {})", names.join(" and ")),
            AppliesTo::Warmup => "does not apply to a run without warm-up (set warmupEpochs)".into(),
        };
        Err(OptionError::conflict(self.name, refusal))
    }
}
