//! How failures cross into JS: core errors become JS errors with the core's
//! own line, and panics become JS errors instead of aborting Node.
//!
//! Every path into Rust is covered: each `#[napi]` function and method has
//! napi-rs's `catch_unwind` (which covers its argument conversion too), core
//! work runs under [`guarded`], and the `compute` and `resolve` of the async
//! tasks, which napi-rs calls from `extern "C"` callbacks that would abort on
//! a panic, run under [`guarded`] and [`caught`].

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

use googlenet_core::Error as CoreError;
use napi::{Env, Error, Status};

thread_local! {
    /// Whether this thread is inside [`caught`], whose error will carry the
    /// panic's message and location.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic on this thread under [`caught`] happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps panics that [`caught`] turns into JS errors off stderr (the error
/// carries the message and the location; a CLI must print one line, not
/// Rust's panic report) and records where they happened. Other panics, such
/// as one on a thread of a library the core uses, are reported as usual.
pub fn install_panic_hook() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if CATCHING.get() {
            LOCATION.set(info.location().map(|l| format!("{}:{}", l.file(), l.line())));
        } else {
            report(info);
        }
    }));
}

/// Maps a core error to a JS `Error` whose message is the core's own line.
/// Usage errors get `InvalidArg` as their `code`; aborts say "aborted" so the
/// TypeScript layer can turn them into an `AbortError`.
pub fn to_napi(error: CoreError) -> Error {
    let status = match error {
        CoreError::InvalidArgument(_) | CoreError::InvalidOption(_) => Status::InvalidArg,
        CoreError::Aborted => Status::Cancelled,
        _ => Status::GenericFailure,
    };
    Error::new(status, error.to_string())
}

/// Throws a usage error (`InvalidArg`: a value the core's rule refuses,
/// such as an unknown model name or a depth out of range) as a JS
/// `RangeError` with the core's message and `code: 'InvalidArg'`; other
/// errors pass through unchanged. For synchronous calls, which own `env`.
pub fn range_checked<T>(env: &Env, result: napi::Result<T>) -> napi::Result<T> {
    result.map_err(|error| {
        if error.status != Status::InvalidArg {
            return error;
        }
        match env.throw_range_error(&error.reason, Some(Status::InvalidArg.as_ref())) {
            // napi-rs leaves a pending exception in place when the error says so.
            Ok(()) => Error::new(Status::PendingException, error.reason),
            Err(_) => error,
        }
    })
}

/// Runs core work, turning both its errors and its panics into JS errors,
/// so a bug in the core rejects a promise instead of killing Node.
pub fn guarded<T>(work: impl FnOnce() -> googlenet_core::Result<T>) -> napi::Result<T> {
    caught(|| work().map_err(to_napi))
}

/// Runs binding work, turning a panic into a JS error that says it is a bug
/// of this package and where it happened.
pub fn caught<T>(work: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    let outer = CATCHING.replace(true);
    let outcome = catch_unwind(AssertUnwindSafe(work));
    CATCHING.set(outer);
    outcome.unwrap_or_else(|payload| Err(internal_error(payload.as_ref(), LOCATION.take())))
}

fn internal_error(payload: &(dyn Any + Send), location: Option<String>) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
    Error::new(Status::GenericFailure, format!("internal error in googlenet-native: {message}{at} (a bug: please report it)"))
}
