//! Launching our CUDA kernels (`kernels/ops.cu`, compiled to PTX by
//! build.rs) from the custom ops' `cuda_fwd`.

use candle_core::backend::BackendStorage;
use std::sync::Arc;

use candle_core::cuda_backend::cudarc::driver::{CudaFunction, CudaSlice, CudaStream, CudaView, LaunchArgs, LaunchConfig};
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaDevice, CudaStorage, Layout, Result};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/ops.ptx"));

/// The f32 values an op reads, seen through its contiguous layout.
pub(crate) fn input<'a>(op: &str, storage: &'a CudaStorage, layout: &Layout) -> Result<CudaView<'a, f32>> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op} needs a contiguous input");
    };
    Ok(storage.as_cuda_slice::<f32>()?.slice(start..end))
}

/// Kernel `name` of ops.cu (loaded once per device) and the device's
/// stream, to build a launch with `stream.launch_builder(&function)`.
pub(crate) fn kernel(dev: &CudaDevice, name: &str) -> Result<(Arc<CudaStream>, CudaFunction)> {
    let function = dev.get_or_load_custom_func(name, "googlenet_ops", PTX)?.into_cuda_function();
    Ok((dev.cuda_stream(), function))
}

/// Launch shape for `elements` outputs: 256 threads a block; the kernels
/// loop with the grid's stride, so a capped grid still covers every element.
pub(crate) fn config(elements: usize) -> LaunchConfig {
    let blocks = elements.div_ceil(256).clamp(1, 65_535) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 }
}

/// Launches `args` (a kernel of ops.cu with its arguments pushed).
///
/// # Safety
/// The arguments must be exactly those the kernel declares, in order, with
/// device buffers at least as large as the sizes passed imply.
pub(crate) unsafe fn launch(mut args: LaunchArgs<'_>, elements: usize) -> Result<()> {
    // SAFETY: the caller vouches for the arguments (above); `config` covers
    // `elements` with a grid the kernels stride over.
    unsafe { args.launch(config(elements)) }.w()?;
    Ok(())
}

/// A device buffer of `len` floats that a kernel will fill completely.
pub(crate) fn output(dev: &CudaDevice, len: usize) -> Result<CudaSlice<f32>> {
    // SAFETY: the memory is uninitialized on the device only: every bit
    // pattern is a valid f32, so reading it early gives arbitrary numbers,
    // not undefined behaviour; and the callers' kernels write every element
    // before anything reads it.
    unsafe { dev.alloc::<f32>(len) }
}

/// Wraps a filled buffer as the op's result storage.
pub(crate) fn storage(slice: CudaSlice<f32>, like: &CudaStorage) -> CudaStorage {
    CudaStorage::wrap_cuda_slice(slice, like.device().clone())
}

/// Sizes as the kernels take them.
pub(crate) fn int(v: usize) -> Result<i32> {
    i32::try_from(v).map_err(|_| candle_core::Error::Msg(format!("size {v} is too large for the CUDA kernels")))
}

/// Runs a kernel of ops.cu whose arguments are `inputs` (device views),
/// then `dst`, then the plane count, height and width of `dims` (…×H×W):
/// the shape of the pooling kernels.
pub(crate) fn launch_planes(
    kernel: &str,
    dev: &CudaDevice,
    inputs: &[&CudaView<'_, f32>],
    dst: &CudaSlice<f32>,
    dims: &[usize],
    elements: usize,
) -> Result<()> {
    use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
    let [.., h, w] = *dims else {
        candle_core::bail!("{kernel} needs at least 2 dimensions, got {dims:?}");
    };
    let planes = dims[..dims.len() - 2].iter().product::<usize>();
    let sizes = [int(planes)?, int(h)?, int(w)?];
    let (stream, function) = self::kernel(dev, kernel)?;
    let mut args = stream.launch_builder(&function);
    for input in inputs {
        args.arg(*input);
    }
    args.arg(dst);
    for size in &sizes {
        args.arg(size);
    }
    // SAFETY: the pooling kernels take (inputs…, dst, planes, h, w); the
    // callers pass inputs of `dims`'s size and a `dst` sized for the output.
    unsafe { launch(args, elements) }
}
