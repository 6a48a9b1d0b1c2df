//! Values as users give them, and the structured refusal of one.

use std::fmt;

use super::schema::Command;
use super::table::spec;

/// A value as given, before any check: what a JS value or a flag's text
/// became. `Other` is a value of no kind an option takes (an object,
/// `null`), named by its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Flag(bool),
    Text(String),
    Other(String),
}

impl Value {
    /// The value as a message shows it after "got": numbers as JavaScript
    /// prints them, text quoted.
    pub fn shown(&self) -> String {
        match self {
            Self::Number(n) => js_number(*n),
            Self::Flag(b) => b.to_string(),
            Self::Text(t) => serde_json::to_string(t).unwrap_or_else(|_| format!("{t:?}")),
            Self::Other(kind) => kind.clone(),
        }
    }

    /// The number, for a value checked as one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The text, for a value checked as a choice.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The flag, for a value checked as one.
    pub fn flag(&self) -> Option<bool> {
        match self {
            Self::Flag(b) => Some(*b),
            _ => None,
        }
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Self::Number(n as f64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Flag(b)
    }
}

impl From<&str> for Value {
    fn from(t: &str) -> Self {
        Self::Text(t.into())
    }
}

/// `n` as JavaScript's `String(n)` writes it, so a refusal quotes the
/// number the user wrote (`1e-8`, not `0.00000001`; `Infinity`, not `inf`).
fn js_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == n.trunc() && n.abs() < 1e21 {
        return format!("{n:.0}");
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        return n.to_string();
    }
    // Rust's exponent form is JavaScript's without the sign of a positive exponent.
    let text = format!("{n:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

/// The options given to a command, by name, in the order given.
pub type Given = Vec<(String, Value)>;

/// A refused option: which, the rule it broke (`must be a finite number >
/// 0`, `does not apply to the adam optimizer`), and the value, when one
/// value alone broke it. The binding throws it with these fields, so the
/// CLI names the flag by the option's name, never by reading a message.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionError {
    pub option: String,
    pub rule: String,
    pub got: Option<String>,
    /// The value was of the wrong kind (a `TypeError` in JS), not out of range.
    pub wrong_type: bool,
}

impl OptionError {
    /// `option` broke `rule` with the value `got`.
    pub fn value(option: &str, rule: impl Into<String>, got: &Value) -> Self {
        Self { option: option.into(), rule: rule.into(), got: Some(got.shown()), wrong_type: false }
    }

    /// `option` does not fit with the others: `rule` says why.
    pub fn conflict(option: &str, rule: impl Into<String>) -> Self {
        Self { option: option.into(), rule: rule.into(), got: None, wrong_type: false }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.option, self.rule)?;
        match &self.got {
            Some(got) => write!(f, " (got {got})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for OptionError {}

/// Checks each option given to `command` against its declaration: an
/// option `command` does not take, or a value of the wrong kind or out of
/// range, is refused. Returns the values as given (numbers, flags, names).
pub fn check_given(command: Command, given: &Given) -> Result<Vec<(&'static str, Value)>, OptionError> {
    given
        .iter()
        .map(|(name, value)| {
            let Some(spec) = spec(command, name) else {
                return Err(OptionError {
                    option: name.clone(),
                    rule: format!("is not an option of {}", command.name()),
                    got: None,
                    wrong_type: true,
                });
            };
            spec.check(value)?;
            Ok((spec.name, value.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn numbers_read_as_javascript_writes_them() {
        for (n, js) in [
            (1.0, "1"),
            (-1.0, "-1"),
            (0.5, "0.5"),
            (1e-8, "1e-8"),
            (1.5e-9, "1.5e-9"),
            (0.001, "0.001"),
            (1e21, "1e+21"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
            (4294967296.0, "4294967296"),
            (1.0 / 3.0, "0.3333333333333333"),
        ] {
            assert_eq!(js_number(n), js, "{n}");
        }
    }
}
