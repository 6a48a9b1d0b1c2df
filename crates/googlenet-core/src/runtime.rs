//! Process-wide settings: threads of the CPU backend and the allocator.
//! Programs built on the core (the Node addon, the examples) install
//! [`Allocator`] as their global allocator and call [`configure`] first thing.

use std::sync::OnceLock;

use crate::{cpu, Error, Result};

/// The environment variable that sets how many threads the CPU engine uses.
pub const THREADS_ENV: &str = "GOOGLENET_NATIVE_THREADS";

/// mimalloc. candle allocates a fresh buffer for every op's output; glibc
/// hands large ones back to the kernel on free, so each training step paid
/// for zeroing fresh pages (half the CPU time on 2 cores).
#[cfg(not(target_family = "wasm"))]
pub type Allocator = mimalloc::MiMalloc;

/// Rust's own allocator on WebAssembly, where mimalloc (C) does not build
/// and a linear memory never goes back to the system anyway.
#[cfg(target_family = "wasm")]
pub type Allocator = std::alloc::System;

/// `mi_option_purge_delay` in mimalloc.h (the same in its v2 and v3); the
/// Rust bindings do not name it.
#[cfg(not(target_family = "wasm"))]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Applies the settings; call it before the first tensor op. A wrong
/// setting is not applied, and [`check`] says why.
pub fn configure() {
    configure_cpu_threads();
    configure_engine_threads();
    #[cfg(not(target_family = "wasm"))]
    keep_freed_memory();
}

/// Whether the environment's settings (`GOOGLENET_NATIVE_THREADS`,
/// `GOOGLENET_NATIVE_CPU`) can be used: every run checks before it starts,
/// so a mistyped value is an error, not a silent default.
pub fn check() -> Result<()> {
    engine_threads().clone().map(drop).and_then(|()| cpu::check()).map_err(Error::InvalidArgument)
}

/// Threads the CPU engine splits each batch across.
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// Sizes the engine's pool to `count` threads when nothing has used it yet,
/// and returns the size in effect. For hosts that cannot pass the core count
/// in the environment: a browser tab gives the WebAssembly build no
/// environment, and WASI shows it one core. `GOOGLENET_NATIVE_THREADS`,
/// where set, wins.
pub fn use_threads(count: usize) -> usize {
    if !matches!(engine_threads(), Ok(Some(_))) && count > 0 {
        // Fails when the pool exists already; its size then stands.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(count.min(1024)).build_global();
    }
    threads()
}

/// `GOOGLENET_NATIVE_THREADS`, read once: a count, none (the machine's
/// cores), or why the value is wrong.
fn engine_threads() -> &'static std::result::Result<Option<usize>, String> {
    static THREADS: OnceLock<std::result::Result<Option<usize>, String>> = OnceLock::new();
    THREADS.get_or_init(|| {
        let Some(value) = std::env::var_os(THREADS_ENV) else { return Ok(None) };
        let value = value.to_string_lossy();
        match value.trim().parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{THREADS_ENV} must be a whole number of threads from 1 to 1024, not {value:?}")),
        }
    })
}

/// The engine runs on rayon's global pool, one task per thread; its size
/// is the user's choice or rayon's default (the cores this process may
/// use). The pool is built lazily, at its first use, from
/// `RAYON_NUM_THREADS`: building it here instead would start threads while
/// the addon is still being loaded, and they wait for the loader's lock.
fn configure_engine_threads() {
    if let Ok(Some(n)) = engine_threads() {
        // Called at start-up, before this library has started any thread.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    } else if cfg!(target_family = "wasm") && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // WASI cannot see the host's cores (rayon would find one): the
        // TypeScript loader passes Node's count.
        if let Some(n) = std::env::var_os(HOST_THREADS_ENV) {
            std::env::set_var("RAYON_NUM_THREADS", n);
        }
    }
}

/// Where the TypeScript loader puts the host's core count
/// (`os.availableParallelism()`), for the WebAssembly build.
const HOST_THREADS_ENV: &str = "GOOGLENET_NATIVE_HOST_THREADS";

/// candle 0.11 runs large element-wise ops on a spinning barrier pool of
/// (threads − 1) workers beside its rayon pools. On small machines the
/// spinners fight the GEMM threads for cores (a third of all samples were
/// spin-waits on 2 cores), so unless the user chose otherwise we run those
/// ops inline and leave the cores to the GEMMs. candle reads the variable
/// once, at its first element-wise op.
fn configure_cpu_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // Called at start-up, before this library has started any thread.
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

/// A training step frees and reallocates the same few dozen buffers; by
/// default mimalloc returns freed memory to the OS after 10 ms, so every
/// step faulted it back in, page by zeroed page. Keeping it caps resident
/// memory at the step's high-water mark instead.
#[cfg(not(target_family = "wasm"))]
fn keep_freed_memory() {
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table;
    // 15 is mi_option_purge_delay in the bundled mimalloc.h, and −1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
