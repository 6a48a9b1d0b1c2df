//! The training recipe across the boundary: the options of `fit` as JS
//! gives them, read by the core (`FitConfig::from_given`), and the
//! resolved recipe it gets back, setting by setting. Names, defaults and
//! rules live in the core's option declarations; nothing here lists them.

use googlenet_core::train::FitConfig;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::options::{given_options, option_checked};

/// One setting of a resolved recipe.
#[napi(object)]
pub struct NativeSetting {
    /// Its name in the API (`weightDecay`).
    pub name: String,
    pub value: Either3<f64, bool, String>,
}

/// `config`'s settings, in the order of the option declarations: a
/// resolved recipe, setting by setting (epochs, batch size, seed, and every
/// setting its optimizer and schedule use, and only those).
pub fn recipe_of(config: &FitConfig) -> Vec<NativeSetting> {
    config
        .values()
        .into_iter()
        .map(|(name, value)| NativeSetting {
            name: name.into(),
            value: match value {
                googlenet_core::options::Value::Number(x) => Either3::A(x),
                googlenet_core::options::Value::Flag(b) => Either3::B(b),
                googlenet_core::options::Value::Text(t) | googlenet_core::options::Value::Other(t) => Either3::C(t),
            },
        })
        .collect()
}

/// The core's recipe of the `fit` options in `options`; a refused option
/// throws as `option_checked` says.
pub fn fit_config(env: &Env, options: &Object) -> Result<FitConfig> {
    let given = given_options(options)?;
    option_checked(env, FitConfig::from_given(&given))
}

/// The recipe `options` make, every default applied.
#[napi(catch_unwind, ts_args_type = "options: Record<string, unknown>")]
pub fn resolve_fit_recipe(env: Env, options: Object) -> Result<Vec<NativeSetting>> {
    Ok(recipe_of(&fit_config(&env, &options)?))
}

/// Checks that a run with `options` continues the one `recorded` in a
/// checkpoint: a `RangeError` names the first setting that differs.
#[napi(catch_unwind, ts_args_type = "options: Record<string, unknown>, recorded: Record<string, unknown>")]
pub fn check_resumed_recipe(env: Env, options: Object, recorded: Object) -> Result<()> {
    let (ours, theirs) = (fit_config(&env, &options)?, fit_config(&env, &recorded)?);
    option_checked(&env, ours.check_continues(&theirs))
}
