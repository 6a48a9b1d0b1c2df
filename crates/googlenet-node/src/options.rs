//! The options schema across the boundary: the core's declarations for
//! TypeScript (which generates its types, flags and tables from them), JS
//! values read into the core's `Value`s so the core alone checks them, and
//! refusals thrown with their structure (`option`, `rule`, `got`).

use std::collections::HashMap;

use googlenet_core::options::{AppliesTo, Bound, Command, DefaultValue, Given, Kind, OptionError, Value, OPTIONS};
use googlenet_core::Error as CoreError;
use napi::bindgen_prelude::*;
use napi::{JsRangeError, JsTypeError, ValueType};
use napi_derive::napi;

use crate::errors::{guarded, range_checked};

/// One option as the core declares it.
#[napi(object)]
pub struct NativeOptionSpec {
    /// Which command takes it (`fit`, also the `train` command; `bench`, `model`, `data`, …).
    pub command: String,
    /// Its name in the API (`weightDecay`).
    pub name: String,
    /// Its CLI flag (`--weight-decay`).
    pub flag: String,
    /// `decimal`, `whole`, `flag` or `choice`.
    pub kind: String,
    /// What a valid value is, as refusals word it after "must be".
    pub rule: String,
    pub min: Option<f64>,
    /// Whether `min` itself is allowed.
    pub min_inclusive: bool,
    pub max: Option<f64>,
    pub max_inclusive: bool,
    /// The names a choice takes.
    pub choices: Option<Vec<String>>,
    /// The default, unless it depends on the optimizer (`null`: none).
    #[napi(ts_type = "number | boolean | string | null")]
    pub default: Either3<f64, bool, Either<String, Null>>,
    /// Each optimizer's default, when it depends on the optimizer.
    pub default_by_optimizer: Option<HashMap<String, f64>>,
    /// The default as help shows it (`0.01; 0.001 with adam and adamw`).
    pub default_text: Option<String>,
    /// The optimizers it applies to (`null`: any).
    pub optimizers: Option<Vec<String>>,
    /// The schedules it applies to (`null`: any).
    pub schedules: Option<Vec<String>>,
    /// Whether it needs a warm-up (`warmupEpochs` > 0).
    pub needs_warmup: bool,
    /// Part of the recipe a checkpoint keeps.
    pub recipe: bool,
    /// What help calls its value.
    pub placeholder: String,
    pub doc: String,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| n.to_string()).collect()
}

/// Every option of every command, in help's order.
#[napi(catch_unwind)]
pub fn option_schema() -> Vec<NativeOptionSpec> {
    OPTIONS
        .iter()
        .map(|s| {
            let (kind, (min, min_inclusive), (max, max_inclusive), choices) = match s.kind {
                Kind::Decimal { min, max } => {
                    let end = |b: Bound| match b {
                        Bound::Unbounded => (None, false),
                        Bound::Closed(x) => (Some(x), true),
                        Bound::Open(x) => (Some(x), false),
                    };
                    ("decimal", end(min), end(max), None)
                }
                Kind::Whole { min, max } => ("whole", (Some(min as f64), true), (Some(max as f64), true), None),
                // Whole numbers from a list: their texts are the choices (as the CLI reads them).
                Kind::WholeOf(list) => {
                    let (min, max) = (list.iter().min().copied().unwrap_or(0), list.iter().max().copied().unwrap_or(0));
                    ("whole", (Some(min as f64), true), (Some(max as f64), true), Some(list.iter().map(u64::to_string).collect()))
                }
                Kind::Flag => ("flag", (None, false), (None, false), None),
                Kind::Choice(list) => ("choice", (None, false), (None, false), Some(names(list))),
            };
            let (default, default_by_optimizer) = match s.default {
                DefaultValue::Unset => (Either3::C(Either::B(Null)), None),
                DefaultValue::Number(x) => (Either3::A(x), None),
                DefaultValue::Flag(b) => (Either3::B(b), None),
                DefaultValue::Name(n) => (Either3::C(Either::A(n.to_string())), None),
                DefaultValue::ByOptimizer(list) => {
                    (Either3::C(Either::B(Null)), Some(list.iter().map(|(o, x)| (o.to_string(), *x)).collect()))
                }
            };
            let (optimizers, schedules) = match s.applies {
                AppliesTo::Optimizers(list) => (Some(names(list)), None),
                AppliesTo::Schedules(list) => (None, Some(names(list))),
                _ => (None, None),
            };
            NativeOptionSpec {
                command: s.command.name().into(),
                name: s.name.into(),
                flag: s.flag(),
                kind: kind.into(),
                rule: s.rule(),
                min,
                min_inclusive,
                max,
                max_inclusive,
                choices,
                default,
                default_by_optimizer,
                default_text: s.default_text(),
                optimizers,
                schedules,
                needs_warmup: s.applies == AppliesTo::Warmup,
                recipe: s.recipe,
                placeholder: s.placeholder.into(),
                doc: s.doc.into(),
            }
        })
        .collect()
}

/// The options of `object` that are set (`undefined` ones are not), as the
/// core's values: what the user gave, of whatever type, for the core to check.
pub fn given_options(object: &Object) -> Result<Given> {
    let mut given = Vec::new();
    for key in Object::keys(object)? {
        let Some(value) = object.get::<Unknown>(&key)? else { continue };
        // SAFETY: each cast follows the type napi reports for the value.
        let value = unsafe {
            match value.get_type()? {
                ValueType::Undefined => continue,
                ValueType::Number => Value::Number(value.cast::<f64>()?),
                ValueType::Boolean => Value::Flag(value.cast::<bool>()?),
                ValueType::String => Value::Text(value.cast::<String>()?),
                ValueType::Null => Value::Other("null".into()),
                ValueType::BigInt => Value::Other("bigint".into()),
                ValueType::Function => Value::Other("function".into()),
                ValueType::Symbol => Value::Other("symbol".into()),
                _ => Value::Other("object".into()),
            }
        };
        given.push((key, value));
    }
    Ok(given)
}

/// The core's result, a refused option thrown as a JS error with its
/// structure: a `TypeError` (a value of the wrong kind, or no such option)
/// or a `RangeError`, with `code: 'InvalidArg'`, `option`, `rule` and
/// `got` (absent when no single value broke the rule). Other usage errors
/// are `RangeError`s as [`range_checked`] throws them.
pub fn option_checked<T>(env: &Env, result: googlenet_core::Result<T>) -> Result<T> {
    match result {
        Err(CoreError::InvalidOption(e)) => Err(throw_option_error(env, &e)),
        other => range_checked(env, guarded(|| other)),
    }
}

fn throw_option_error(env: &Env, e: &OptionError) -> Error {
    let message = e.to_string();
    let error = Error::new(Status::InvalidArg, message.clone());
    let thrown = (|| -> Result<()> {
        let value = if e.wrong_type { JsTypeError::from(error).into_unknown(*env) } else { JsRangeError::from(error).into_unknown(*env) };
        // SAFETY: napi made `value` an error object just above.
        let mut object = unsafe { value.cast::<Object>()? };
        object.set("option", e.option.as_str())?;
        object.set("rule", e.rule.as_str())?;
        if let Some(got) = &e.got {
            object.set("got", got.as_str())?;
        }
        env.throw(object)
    })();
    match thrown {
        // napi-rs leaves a pending exception in place when the error says so.
        Ok(()) => Error::new(Status::PendingException, message),
        Err(_) => Error::new(Status::InvalidArg, message),
    }
}

/// Checks `options` given to `command` (`fit`, `bench`, `model`): an option
/// it does not take, or a value of the wrong kind or out of range, throws
/// as [`option_checked`] does. What the options mean together is checked
/// where they are used.
#[napi(catch_unwind, ts_args_type = "command: string, options: Record<string, unknown>")]
pub fn check_options(env: Env, command: String, options: Object) -> Result<()> {
    let Some(command) = Command::ALL.into_iter().find(|c| c.name() == command) else {
        return Err(Error::new(Status::InvalidArg, format!("no command is named {command:?}")));
    };
    let given = given_options(&options)?;
    option_checked(&env, googlenet_core::options::check_given(command, &given).map(|_| ()).map_err(Into::into))
}
