//! The model catalog, as the TypeScript layer shows it (the options'
//! defaults are in `options.rs`). The rules live in the core
//! (`model::catalog`); TypeScript reads them from here and keeps no copy.

use googlenet_core::model::catalog::{self, DepthRule};
use googlenet_core::model::CATALOG;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guarded, range_checked};

/// The image size a model takes.
#[napi(object)]
pub struct NativeInputSize {
    pub channels: u32,
    pub height: u32,
    pub width: u32,
}

/// How deep a model with a depth option may be (residual units per stage).
#[napi(object)]
pub struct NativeDepthRule {
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

impl From<DepthRule> for NativeDepthRule {
    fn from(r: DepthRule) -> Self {
        Self { min: r.min as u32, max: r.max as u32, default: r.default as u32 }
    }
}

/// One model of the zoo.
#[napi(object)]
pub struct NativeCatalogEntry {
    /// The name it is created by.
    pub name: String,
    /// Other names for the same model.
    pub aliases: Vec<String>,
    /// One line on what it is.
    pub about: String,
    pub input: NativeInputSize,
    /// The depth option; null for a model of fixed depth.
    #[napi(ts_type = "NativeDepthRule | null")]
    pub depth: Either<NativeDepthRule, Null>,
}

/// The model used where none is named (the core's catalog decides).
#[napi]
pub const DEFAULT_MODEL: &str = catalog::DEFAULT_MODEL;

/// Every model of the zoo, in the order they are listed to users.
#[napi(catch_unwind)]
pub fn model_catalog() -> Vec<NativeCatalogEntry> {
    CATALOG
        .iter()
        .map(|e| {
            let [channels, height, width] = e.input().map(|d| d as u32);
            NativeCatalogEntry {
                name: e.name.to_string(),
                aliases: e.aliases.iter().map(|a| a.to_string()).collect(),
                about: e.about.to_string(),
                input: NativeInputSize { channels, height, width },
                depth: match e.depth {
                    Some(rule) => Either::A(rule.into()),
                    None => Either::B(Null),
                },
            }
        })
        .collect()
}

/// Checks that `name` (or an alias) is a model of the zoo and takes `depth`
/// (its units per stage; `undefined` for its default). Returns the depth the
/// model gets: `depth`, or its default; null for a model of fixed depth.
/// Throws a `RangeError` with the core's message for an unknown name, a
/// depth out of range or a depth given to a model of fixed depth.
#[napi(catch_unwind, ts_return_type = "number | null")]
pub fn check_model(env: Env, name: String, depth: Option<u32>) -> Result<Either<u32, Null>> {
    let resolved = range_checked(&env, guarded(|| catalog::find(&name)?.resolve_depth(depth.map(|d| d as usize))))?;
    Ok(match resolved {
        Some(d) => Either::A(d as u32),
        None => Either::B(Null),
    })
}

/// Checks that a run resumed from a checkpoint of model `actual` (at
/// `actual_depth`) is not asked to be another model (`asked`, a name or an
/// alias) or depth: a `RangeError` with the core's message.
#[napi(catch_unwind)]
pub fn check_resumed_model(env: Env, asked: Option<String>, depth: Option<u32>, actual: String, actual_depth: Option<u32>) -> Result<()> {
    let (depth, actual_depth) = (depth.map(|d| d as usize), actual_depth.map(|d| d as usize));
    range_checked(&env, guarded(|| catalog::check_resumed_model(asked.as_deref(), depth, &actual, actual_depth)))
}
