//! All of a model's parameters in one flat buffer, in an order chosen by the
//! engine (tensors that one GEMM reads together sit side by side), and the
//! mapping back to the model's named tensors.

use std::ops::Range;

use candle_core::Tensor;

use crate::model::Model;
use crate::{Error, Result};

/// A run of the flat buffer holding one layer's weight and then its bias.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub offset: usize,
    pub len: usize,
}

impl Slot {
    fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }

    /// The weight and the last `bias_len` floats, the bias.
    pub fn weight_bias<'a>(&self, buf: &'a [f32], bias_len: usize) -> (&'a [f32], &'a [f32]) {
        buf[self.range()].split_at(self.len - bias_len)
    }

    pub fn weight_bias_mut<'a>(&self, buf: &'a mut [f32], bias_len: usize) -> (&'a mut [f32], &'a mut [f32]) {
        buf[self.range()].split_at_mut(self.len - bias_len)
    }
}

/// Where each of a model's named tensors lives in the flat buffer.
pub(crate) struct ParamLayout {
    /// PyTorch name, offset, length, in the engine's order.
    entries: Vec<(String, usize, usize)>,
}

impl ParamLayout {
    /// Lays out `model`'s parameters in the order of `names`, which must name
    /// each of them exactly once.
    pub fn new(model: &dyn Model, names: &[String]) -> Result<Self> {
        let params = model.parameters();
        if names.len() != params.len() {
            return Err(Error::Internal(format!("engine layout names {} tensors, the model has {}", names.len(), params.len())));
        }
        let mut offset = 0;
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let param =
                params.iter().find(|p| &p.name == name).ok_or_else(|| Error::Internal(format!("the model has no parameter {name}")))?;
            let len = param.var.elem_count();
            entries.push((name.clone(), offset, len));
            offset += len;
        }
        Ok(Self { entries })
    }

    pub fn total_len(&self) -> usize {
        self.entries.last().map_or(0, |(_, offset, len)| offset + len)
    }

    /// The model's current parameter values, flattened.
    pub fn gather(&self, model: &dyn Model) -> Result<Vec<f32>> {
        let mut flat = vec![0f32; self.total_len()];
        for (name, offset, len) in &self.entries {
            let var = &model.parameters().iter().find(|p| &p.name == name).expect("layout built from this model").var;
            flat[*offset..offset + len].copy_from_slice(&var.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(flat)
    }

    /// Writes `flat` back into the model's tensors.
    pub fn scatter(&self, flat: &[f32], model: &dyn Model) -> Result<()> {
        for (name, offset, len) in &self.entries {
            let var = &model.parameters().iter().find(|p| &p.name == name).expect("layout built from this model").var;
            let values = Tensor::from_slice(&flat[*offset..offset + len], var.shape(), var.device())?;
            var.set(&values)?;
        }
        Ok(())
    }

    /// Copies `values` into tensor `name`'s run of `flat`.
    pub fn fill(&self, flat: &mut [f32], name: &str, values: &[f32]) -> Result<()> {
        let (_, offset, len) = self
            .entries
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| Error::InvalidArgument(format!("the model has no parameter {name}")))?;
        if values.len() != *len {
            return Err(Error::InvalidArgument(format!("{name} takes {len} values, got {}", values.len())));
        }
        flat[*offset..offset + len].copy_from_slice(values);
        Ok(())
    }

    /// Each tensor of `flat` under its PyTorch name.
    pub fn named<'a>(&'a self, flat: &'a [f32]) -> impl Iterator<Item = (&'a str, &'a [f32])> + 'a {
        self.entries.iter().map(move |(name, offset, len)| (name.as_str(), &flat[*offset..offset + len]))
    }
}
