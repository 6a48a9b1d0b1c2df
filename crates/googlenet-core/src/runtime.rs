//! Process-wide settings: threads of the CPU backend and the allocator.
//! Programs built on the core (the Node addon, the examples) install
//! [`Allocator`] as their global allocator and call [`configure`] first thing.

/// mimalloc. candle allocates a fresh buffer for every op's output; glibc
/// hands large ones back to the kernel on free, so each training step paid
/// for zeroing fresh pages (half the CPU time on 2 cores).
pub type Allocator = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the same in its v2 and v3); the
/// Rust bindings do not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Applies both settings; call it before the first tensor op.
pub fn configure() {
    configure_cpu_threads();
    keep_freed_memory();
}

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
fn keep_freed_memory() {
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table;
    // 15 is mi_option_purge_delay in the bundled mimalloc.h, and −1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
