use std::panic::{catch_unwind, AssertUnwindSafe};

use googlenet_core::Error as CoreError;
use napi::{Error, Status};

/// Maps a core error to a JS `Error` whose message is the core's own line.
/// Usage errors get `InvalidArg` as their `code`; aborts say "aborted" so the
/// TypeScript layer can turn them into an `AbortError`.
pub fn to_napi(error: CoreError) -> Error {
    let status = match error {
        CoreError::InvalidArgument(_) => Status::InvalidArg,
        CoreError::Aborted => Status::Cancelled,
        _ => Status::GenericFailure,
    };
    Error::new(status, error.to_string())
}

/// Runs core work on a worker thread, turning both errors and panics into JS
/// errors, so a bug in the core rejects a promise instead of killing Node.
pub fn guarded<T>(work: impl FnOnce() -> googlenet_core::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result.map_err(to_napi),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::new(Status::GenericFailure, format!("internal error in googlenet-native: {message}")))
        }
    }
}
