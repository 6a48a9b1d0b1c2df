//! napi-rs binding of googlenet-core: datasets and models as JS classes,
//! long work as promises on libuv's thread pool, progress through a
//! thread-safe function, cancellation through a shared flag.
//! The public, documented API is the TypeScript layer in `src/`.

mod dataset;
mod errors;
mod model;
mod progress;

/// candle allocates a fresh buffer for every op's output; glibc hands large
/// ones back to the kernel on free, so each training step paid for zeroing
/// fresh pages (half the CPU time). mimalloc keeps and reuses them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[napi_derive::module_init]
fn init() {
    googlenet_core::runtime::configure_cpu_threads();
}
