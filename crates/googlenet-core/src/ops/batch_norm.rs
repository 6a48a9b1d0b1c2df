//! BatchNorm over channel-major activations (C×N×H×W) as two fused CPU
//! kernels: per-channel batch statistics, and normalization with a backward
//! pass that gives the input, γ and β gradients in one sweep. Built from
//! candle's element-wise ops the same layer took about ten single-threaded
//! passes forward and twenty backward, each allocating.
//!
//! The normalization takes its statistics and affine parameters packed as
//! one C×4 tensor, columns (mean, variance, γ, β). In training the mean and
//! variance are the batch's own (computed by [`batch_stats`], detached), and
//! the backward pass accounts for their dependence on the input analytically;
//! in evaluation they are the running statistics and constant.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

/// f32 and f64 (f64 for tests against finite differences); sums run in f64.
trait Real: Copy + Send + Sync + 'static {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// The values of a contiguous f32 or f64 tensor argument, as `T`.
fn values<'a, T: Real>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [T]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("batch norm needs contiguous inputs");
    };
    let slice: &dyn std::any::Any = match storage {
        CpuStorage::F32(v) => v,
        CpuStorage::F64(v) => v,
        other => candle_core::bail!("batch norm supports f32 and f64, got {:?}", other.dtype()),
    };
    match slice.downcast_ref::<Vec<T>>() {
        Some(v) => Ok(&v[start..end]),
        None => candle_core::bail!("batch norm: all inputs must have the same dtype"),
    }
}

fn wrap<T: Real>(v: Vec<T>) -> CpuStorage {
    let any: Box<dyn std::any::Any> = Box::new(v);
    match any.downcast::<Vec<f32>>() {
        Ok(v) => CpuStorage::F32(*v),
        Err(any) => CpuStorage::F64(*any.downcast::<Vec<f64>>().expect("f32 or f64")),
    }
}

/// Runs `$body` with `$t` bound to the storage's float type.
macro_rules! by_dtype {
    ($storage:expr, $t:ident => $body:expr) => {
        match $storage {
            CpuStorage::F32(_) => {
                type $t = f32;
                $body
            }
            CpuStorage::F64(_) => {
                type $t = f64;
                $body
            }
            other => candle_core::bail!("batch norm supports f32 and f64, got {:?}", other.dtype()),
        }
    };
}

/// Per-channel mean and biased variance of C×… → C×2.
struct BatchStats;

impl CustomOp1 for BatchStats {
    fn name(&self) -> &'static str {
        "batch-stats"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let c = layout.shape().dims()[0];
        by_dtype!(storage, T => {
            let x = values::<T>(storage, layout)?;
            let per = x.len() / c;
            let mut out = vec![T::from_f64(0.0); 2 * c];
            out.par_chunks_mut(2).zip(x.par_chunks(per)).for_each(|(o, row)| {
                let mean = row.iter().map(|v| v.to_f64()).sum::<f64>() / per as f64;
                let var = row.iter().map(|v| (v.to_f64() - mean).powi(2)).sum::<f64>() / per as f64;
                o[0] = T::from_f64(mean);
                o[1] = T::from_f64(var);
            });
            Ok((wrap(out), Shape::from((c, 2))))
        })
    }
}

/// y = γ·(x − mean)/√(var + eps) + β, per channel; the second argument is
/// the packed C×4 (mean, var, γ, β).
struct Normalize {
    eps: f64,
    /// Whether mean and var are the batch's own (training), which changes
    /// the input gradient.
    batch_stats: bool,
}

/// The backward pass of [`Normalize`]: arguments x, packed, dy; result
/// C×(S + 4): each channel's input gradient, then the gradient of its packed
/// row (0, 0, dγ, dβ).
struct NormalizeGrad(Normalize);

/// mean, 1/√(var + eps), γ, β of one packed row.
fn unpack<T: Real>(p: &[T], eps: f64) -> (f64, f64, f64, f64) {
    (p[0].to_f64(), 1.0 / (p[1].to_f64() + eps).sqrt(), p[2].to_f64(), p[3].to_f64())
}

impl CustomOp2 for Normalize {
    fn name(&self) -> &'static str {
        "batch-norm"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let c = l1.shape().dims()[0];
        if l2.shape().dims() != [c, 4] {
            candle_core::bail!("batch norm: packed statistics {:?} do not fit {c} channels", l2.shape());
        }
        by_dtype!(s1, T => {
            let (x, packed) = (values::<T>(s1, l1)?, values::<T>(s2, l2)?);
            let per = x.len() / c;
            let mut y = vec![T::from_f64(0.0); x.len()];
            y.par_chunks_mut(per).zip(x.par_chunks(per)).zip(packed.par_chunks(4)).for_each(|((y, x), p)| {
                let (mean, inv_std, gamma, beta) = unpack(p, self.eps);
                let (scale, shift) = (gamma * inv_std, beta - gamma * inv_std * mean);
                y.iter_mut().zip(x).for_each(|(y, x)| *y = T::from_f64(x.to_f64() * scale + shift));
            });
            Ok((wrap(y), l1.shape().clone()))
        })
    }

    fn bwd(&self, x: &Tensor, packed: &Tensor, _res: &Tensor, dy: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let c = x.dim(0)?;
        let per = x.elem_count() / c;
        let op = NormalizeGrad(Normalize { eps: self.eps, batch_stats: self.batch_stats });
        let both = x.apply_op3_no_bwd(packed, &dy.contiguous()?, &op)?;
        let dx = both.narrow(1, 0, per)?.reshape(x.shape())?;
        Ok((Some(dx), Some(both.narrow(1, per, 4)?)))
    }
}

impl CustomOp3 for NormalizeGrad {
    fn name(&self) -> &'static str {
        "batch-norm-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let c = l1.shape().dims()[0];
        by_dtype!(s1, T => {
            let (x, packed, dy) = (values::<T>(s1, l1)?, values::<T>(s2, l2)?, values::<T>(s3, l3)?);
            let per = x.len() / c;
            let mut out = vec![T::from_f64(0.0); c * (per + 4)];
            out.par_chunks_mut(per + 4).enumerate().for_each(|(ch, o)| {
                let (x, dy) = (&x[ch * per..][..per], &dy[ch * per..][..per]);
                let (mean, inv_std, gamma, _) = unpack(&packed[ch * 4..][..4], self.0.eps);
                let (mut d_beta, mut d_gamma) = (0.0, 0.0);
                for (x, dy) in x.iter().zip(dy) {
                    d_beta += dy.to_f64();
                    d_gamma += dy.to_f64() * (x.to_f64() - mean) * inv_std;
                }
                let (dx, dp) = o.split_at_mut(per);
                let k = gamma * inv_std;
                if self.0.batch_stats {
                    // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
                    let (mean_dy, mean_dyx) = (d_beta / per as f64, d_gamma / per as f64);
                    for ((dx, x), dy) in dx.iter_mut().zip(x).zip(dy) {
                        let x_hat = (x.to_f64() - mean) * inv_std;
                        *dx = T::from_f64(k * (dy.to_f64() - mean_dy - x_hat * mean_dyx));
                    }
                } else {
                    dx.iter_mut().zip(dy).for_each(|(dx, dy)| *dx = T::from_f64(k * dy.to_f64()));
                }
                dp[2] = T::from_f64(d_gamma);
                dp[3] = T::from_f64(d_beta);
            });
            Ok((wrap(out), Shape::from((c, per + 4))))
        })
    }
}

/// Per-channel mean and biased variance of channel-major `x` (C×…), as C×2;
/// no gradient flows through them.
pub fn batch_stats(x: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1_no_bwd(&BatchStats)
}

/// γ·(x − mean)/√(var + eps) + β over channel-major `x` (C×…), with
/// `packed` = C×4 (mean, var, γ, β). `batch_stats`: mean and var are `x`'s
/// own (training), so the input gradient includes their dependence on it.
pub fn batch_norm(x: &Tensor, packed: &Tensor, eps: f64, batch_stats: bool) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op2(&packed.contiguous()?, Normalize { eps, batch_stats })
}
