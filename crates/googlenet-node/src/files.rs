//! The core's one way to write a user's file, for the TypeScript layer:
//! reports are written by the same code as model files and checkpoints.

use std::path::Path;

use googlenet_core::files::{check_output_path, write_atomically};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::guarded;

/// Checks that a file can be written at `path` before work starts: refuses
/// a target that is not a regular file (links followed), a missing folder
/// or one where no file can be created. Returns the file that will be
/// written.
#[napi(catch_unwind)]
pub fn check_output_path_for(path: String) -> Result<String> {
    guarded(|| Ok(check_output_path(Path::new(&path))?.display().to_string()))
}

/// Writes `data` to `path` atomically (links followed; a target that is not
/// a regular file refused). Returns the file written.
#[napi(catch_unwind)]
pub fn write_output_file(path: String, data: Buffer) -> Result<String> {
    guarded(|| Ok(write_atomically(Path::new(&path), &data)?.display().to_string()))
}
