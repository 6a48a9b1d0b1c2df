use std::collections::HashMap;

use candle_core::{DType, Tensor};

use super::Model;
use crate::{Error, Result};

/// Copies `tensors` into the model's parameters and buffers (BatchNorm
/// running statistics) by PyTorch name, so a PyTorch `state_dict` fits.
/// Every one must be present with its exact shape and no unknown name may
/// appear (BatchNorm's `num_batches_tracked`, which nothing here uses, is
/// accepted); on any mismatch nothing is changed. Weights must be floats
/// (an integer tensor is no weight) and finite (NaN or infinity would make
/// every prediction NaN).
pub fn load_weights(model: &dyn Model, tensors: &HashMap<String, Tensor>) -> Result<()> {
    let params: Vec<_> = model.parameters().iter().chain(model.buffers()).collect();
    let params = params.as_slice();
    for p in params {
        let t =
            tensors.get(&p.name).ok_or_else(|| Error::InvalidArgument(format!("weights lack '{}' of model '{}'", p.name, model.name())))?;
        if t.dims() != p.var.dims() {
            return Err(Error::InvalidArgument(format!(
                "'{}' has shape {:?}, model '{}' needs {:?}",
                p.name,
                t.dims(),
                model.name(),
                p.var.dims()
            )));
        }
        check_finite_floats(&p.name, t)?;
    }
    let tracked = |k: &str| {
        k.strip_suffix(".num_batches_tracked").is_some_and(|bn| model.buffers().iter().any(|b| b.name == format!("{bn}.running_mean")))
    };
    if let Some(extra) = tensors.keys().find(|k| !params.iter().any(|p| &p.name == *k) && !tracked(k)) {
        return Err(Error::InvalidArgument(format!("model '{}' has no parameter '{extra}'", model.name())));
    }
    for p in params {
        let t = &tensors[&p.name];
        p.var.set(&t.to_dtype(p.var.dtype())?.to_device(p.var.device())?)?;
    }
    Ok(())
}

/// Refuses a weight that is not a float tensor or holds NaN or infinity.
fn check_finite_floats(name: &str, t: &Tensor) -> Result<()> {
    if !matches!(t.dtype(), DType::F16 | DType::BF16 | DType::F32 | DType::F64) {
        return Err(Error::InvalidArgument(format!("'{name}' holds {:?} values; weights must be floating-point", t.dtype())));
    }
    let values = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!("'{name}' holds {v} at index {i}; weights must be finite")));
    }
    Ok(())
}
