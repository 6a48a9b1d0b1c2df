//! Which devices this binary can run on, and the candle device for a name.

use std::sync::OnceLock;

use candle_core::Device;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// What the loaded binary offers.
#[napi(object)]
pub struct NativeRuntimeInfo {
    /// Built with the `cuda` feature.
    pub cuda_build: bool,
    /// A CUDA device could be opened.
    pub cuda_available: bool,
    /// Why CUDA is not available, when it is not.
    pub cuda_error: Option<String>,
}

/// The first CUDA device, opened once per process (or why it could not be).
fn cuda() -> &'static std::result::Result<Device, String> {
    static CUDA: OnceLock<std::result::Result<Device, String>> = OnceLock::new();
    CUDA.get_or_init(|| {
        if !cfg!(feature = "cuda") {
            return Err("this binary was built without CUDA".into());
        }
        // The driver's first error line says what is missing (no device,
        // a driver too old for this CUDA version, …).
        Device::new_cuda(0).map_err(|e| e.to_string().lines().next().unwrap_or("unknown CUDA error").to_string())
    })
}

#[napi(catch_unwind)]
pub fn runtime_info() -> NativeRuntimeInfo {
    let cuda = cuda();
    NativeRuntimeInfo { cuda_build: cfg!(feature = "cuda"), cuda_available: cuda.is_ok(), cuda_error: cuda.as_ref().err().cloned() }
}

/// The CPU engine as it runs in this process.
#[napi(object)]
pub struct NativeCpuInfo {
    /// The vector instructions the kernels use (`baseline`, `avx2`, `avx512`).
    pub isa: String,
    /// Threads each batch is split across.
    pub threads: u32,
}

/// The CPU engine's instruction set and threads. It starts the thread pool,
/// so a browser tab (which sizes the pool with [`use_threads`]) must not
/// call it first.
#[napi(catch_unwind)]
pub fn cpu_info() -> NativeCpuInfo {
    NativeCpuInfo { isa: googlenet_core::cpu::isa().name().into(), threads: googlenet_core::runtime::threads() as u32 }
}

/// Sizes the CPU engine's thread pool before its first use and returns the
/// size in effect: for a browser tab, where the WebAssembly build sees one
/// core and no environment (pass `navigator.hardwareConcurrency`).
/// `GOOGLENET_NATIVE_THREADS`, where set, wins; once the pool has run, its
/// size stands.
#[napi(catch_unwind)]
pub fn use_threads(count: u32) -> u32 {
    googlenet_core::runtime::use_threads(count as usize) as u32
}

/// `cpu` or `cuda` (the first GPU).
pub(crate) fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda().clone().map_err(|e| Error::new(Status::InvalidArg, format!("CUDA is not available: {e}"))),
        other => Err(Error::new(Status::InvalidArg, format!("unknown device '{other}' (expected cpu or cuda)"))),
    }
}
