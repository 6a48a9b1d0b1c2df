//! Model descriptions across the boundary, as JSON text
//! (docs/model-description.md): the zoo's, and a user's checked and put in
//! canonical form. The rules live in the core; a description that breaks
//! one throws a `RangeError` with the core's message, which names the JSON
//! path at fault.

use candle_core::Device;
use googlenet_core::data::Dataset;
use googlenet_core::model::{
    build_model_for_data, build_model_from_spec, build_model_with_depth, catalog, lower, Description, Model, ModelSource, ModelSpec,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guarded, range_checked};

/// The description of zoo model `name` (or an alias) at `depth` (its
/// default when left out), as canonical JSON.
#[napi(catch_unwind)]
pub fn describe_model(env: Env, name: String, depth: Option<u32>) -> Result<String> {
    range_checked(&env, guarded(|| Ok(catalog::find(&name)?.spec(depth.map(|d| d as usize))?.to_json())))
}

/// Checks the description `json` (every rule, limit and shape) and returns
/// it in canonical form: fields in a fixed order, defaults left out.
#[napi(catch_unwind)]
pub fn check_description(env: Env, json: String) -> Result<String> {
    range_checked(
        &env,
        guarded(|| {
            let spec = ModelSpec::parse(&json)?;
            lower(&spec)?;
            Ok(spec.to_json())
        }),
    )
}

/// Whether `model` (an argument that names a model) holds a description's
/// JSON rather than a zoo name: no name starts with a brace.
fn is_json(model: &str) -> bool {
    model.trim_start().starts_with('{')
}

/// The description `model` stands for: a zoo name (or alias) at `depth`, or
/// a description's JSON (which has no depth option).
pub fn resolve(model: &str, depth: Option<u32>) -> googlenet_core::Result<Description> {
    let depth = depth.map(|d| d as usize);
    if !is_json(model) {
        return catalog::describe(model, depth);
    }
    refuse_depth(depth)?;
    lower(&ModelSpec::parse(model)?)
}

/// A freshly initialized model that `model` stands for (see [`resolve`]),
/// made for `data` when given (see [`build_model_for_data`]).
pub fn build(
    model: &str,
    seed: u64,
    depth: Option<u32>,
    data: Option<&Dataset>,
    device: &Device,
) -> googlenet_core::Result<Box<dyn Model>> {
    let depth = depth.map(|d| d as usize);
    let spec = if is_json(model) {
        refuse_depth(depth)?;
        Some(ModelSpec::parse(model)?)
    } else {
        None
    };
    let source = match &spec {
        Some(spec) => ModelSource::Spec(spec),
        None => ModelSource::Zoo { name: model, depth },
    };
    match (data, &spec) {
        (Some(data), _) => build_model_for_data(source, seed, data, device),
        (None, Some(spec)) => build_model_from_spec(spec, seed, device),
        (None, None) => build_model_with_depth(model, seed, depth, device),
    }
}

fn refuse_depth(depth: Option<usize>) -> googlenet_core::Result<()> {
    match depth {
        Some(_) => Err(googlenet_core::Error::InvalidArgument(
            "a depth applies to the zoo's ResNets; a description is written at its depth".into(),
        )),
        None => Ok(()),
    }
}

/// The longest description read, in bytes of JSON: a file over it is
/// refused before it is read.
#[napi]
pub const MAX_DESCRIPTION_BYTES: u32 = googlenet_core::model::spec::MAX_TEXT_BYTES as u32;
