//! napi-rs binding of googlenet-core: datasets and models as JS classes,
//! long work as promises on libuv's thread pool, progress through a
//! thread-safe function, cancellation through a shared flag. No panic
//! crosses into Node: see `errors`.
//! The public, documented API is the TypeScript layer in `src/`.

mod bench;
mod catalog;
mod checkpoint;
mod claim;
mod dataset;
mod description;
mod device;
mod errors;
mod files;
mod folder;
mod image;
mod model;
mod onnx;
mod options;
mod progress;
mod recipe;
mod saved;
mod summary;

#[global_allocator]
static GLOBAL: googlenet_core::runtime::Allocator = googlenet_core::runtime::Allocator {};

#[napi_derive::module_init]
fn init() {
    googlenet_core::runtime::configure();
    errors::install_panic_hook();
}
