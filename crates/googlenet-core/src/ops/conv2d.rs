use candle_core::Tensor;

use super::im2col;

/// Stride-1 convolution with `pad` zeros around and a per-channel `bias`,
/// on channel-major activations: `x` is C×N×H×W, the result Cout×N×Ho×Wo,
/// and `weight` Cout×C×k×k as in PyTorch. In this layout the convolution is
/// one GEMM over the whole batch, `W(Cout × C·k·k) · cols(C·k·k × N·Ho·Wo)`,
/// whose result already is the output, and a 1×1 convolution needs no
/// column matrix at all: the input is one. Gradients flow through candle's
/// matmul backward (two more GEMMs) and im2col's adjoint.
pub fn conv2d_gemm(x: &Tensor, weight: &Tensor, bias: &Tensor, pad: usize) -> candle_core::Result<Tensor> {
    let (c, n, h, w) = x.dims4()?;
    let (c_out, c_in, k, k2) = weight.dims4()?;
    if c_in != c || k != k2 {
        candle_core::bail!("conv2d: weight {:?} does not fit channel-major input {:?}", weight.dims(), x.dims());
    }
    let (oh, ow) = (h + 2 * pad + 1 - k, w + 2 * pad + 1 - k);
    let cols = if k == 1 && pad == 0 { x.reshape((c, n * h * w))? } else { im2col(x, k, pad)? };
    let y = weight.reshape((c_out, c * k * k))?.matmul(&cols)?.broadcast_add(&bias.reshape((c_out, 1))?)?;
    y.reshape((c_out, n, oh, ow))
}
