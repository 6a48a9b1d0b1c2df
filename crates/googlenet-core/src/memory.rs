//! The engine's large buffers are allocated fallibly, so that a model whose
//! buffers do not fit in memory gets an error the caller can catch, not an
//! abort. An abort matters most in the WebAssembly build: there it is a
//! trap (`unreachable`) that ends the whole process from whichever thread it
//! happens on, and its memory ends early (see [`LIMIT`]).

use crate::files::size_in_words;
use crate::{Error, Result};

/// The most the heap can hold, in words, where it is bounded by more than
/// the machine: in the WebAssembly build, 2 GiB. wasm32 memory could grow to
/// 4 GiB (napi-rs's loader allows it), but napi-rs's allocator hook never
/// moves the heap's end past 2^31 bytes, because Node's WASI refuses
/// pointers above that.
#[cfg(target_family = "wasm")]
pub const LIMIT: Option<&str> = Some("2 GiB");
#[cfg(not(target_family = "wasm"))]
pub const LIMIT: Option<&str> = None;

/// Left free beyond a set of buffers: the allocations of the steps that use
/// them are small, and must not be the ones that meet the end of memory.
const HEADROOM: usize = 64 << 20;

/// Allocates a set of zeroed `f32` buffers (a pass's workspaces, one per
/// thread), counting the bytes asked for, so that when one cannot be had the
/// error says what the whole set needs. After the first failure nothing more
/// is allocated; the count goes on.
#[derive(Default)]
pub struct Buffers {
    asked: usize,
    failed: bool,
}

impl Buffers {
    /// A zeroed buffer of `len` floats; empty once an allocation has failed.
    pub fn zeroed(&mut self, len: usize) -> Vec<f32> {
        self.asked = self.asked.saturating_add(len.saturating_mul(size_of::<f32>()));
        let mut buffer = Vec::new();
        if self.failed || buffer.try_reserve_exact(len).is_err() {
            self.failed = true;
            return Vec::new();
        }
        buffer.resize(len, 0.0);
        buffer
    }

    /// `Ok` when every buffer was allocated and [`HEADROOM`] is left beyond
    /// them; else the error naming what `what` ("the engine's buffers for 2
    /// threads") needed, and the limit of the build.
    pub fn finish(self, what: &str) -> Result<()> {
        let mut headroom = Vec::<u8>::new();
        if !self.failed && headroom.try_reserve_exact(HEADROOM).is_ok() {
            return Ok(());
        }
        let limit = match LIMIT {
            Some(limit) => format!("the WebAssembly build's memory, {limit} in all,"),
            None => "this machine".to_string(),
        };
        Err(Error::OutOfMemory(format!(
            "{what} take {}, more than {limit} has left; fewer threads (GOOGLENET_NATIVE_THREADS) or a smaller model need less",
            size_in_words(self.asked as u64)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_that_cannot_be_had_is_an_error_naming_the_whole_need() {
        let mut buffers = Buffers::default();
        assert_eq!(buffers.zeroed(4), vec![0.0; 4]);
        // 8 EiB: no allocator has it.
        assert!(buffers.zeroed(usize::MAX / 8).is_empty());
        assert!(buffers.zeroed(4).is_empty(), "nothing is allocated after a failure");
        let message = buffers.finish("the buffers").unwrap_err().to_string();
        let need = size_in_words((16 + (usize::MAX / 8) * 4 + 16) as u64);
        assert_eq!(message, format!("out of memory: the buffers take {need}, more than this machine has left; fewer threads (GOOGLENET_NATIVE_THREADS) or a smaller model need less"));
        assert!(Buffers::default().finish("none").is_ok());
    }
}
