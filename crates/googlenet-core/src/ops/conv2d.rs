use candle_core::Tensor;

use super::im2col;

/// Stride-1 convolution of N×C×H×W `x` with a Cout×C×k×k `weight` and
/// `pad` zeros, as GEMMs: 1×1 kernels multiply the input directly, larger
/// ones go through [`im2col`]. Gradients flow through candle's matmul
/// backward and im2col's adjoint.
pub fn conv2d_gemm(x: &Tensor, weight: &Tensor, pad: usize) -> candle_core::Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (c_out, c_in, k, k2) = weight.dims4()?;
    if c_in != c || k != k2 {
        candle_core::bail!("conv2d: weight {:?} does not fit input {:?}", weight.dims(), x.dims());
    }
    let (oh, ow) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
    let cols = if k == 1 && pad == 0 { x.reshape((n, c, h * w))? } else { im2col(x, k, pad)? };
    let kernel = weight.reshape((c_out, c * k * k))?;
    kernel.broadcast_matmul(&cols)?.reshape((n, c_out, oh, ow))
}
