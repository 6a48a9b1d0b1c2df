//! The CPU engine: a hand-written forward and backward pass of the reference
//! GoogLeNet on plain f32 buffers, with no autograd graph and no allocation
//! per step.
//!
//! Why: through candle's autograd a training step of this small model spent
//! most of its time outside arithmetic (allocating, zero-filling and adding
//! gradient tensors, one op at a time). Here each core takes a contiguous
//! share of the batch and runs it in chunks through buffers it owns, with
//! single-threaded GEMMs (the `gemm` crate) and the same im2col, pool and
//! ReLU kernels as the candle ops in [`crate::ops`]; the shares' parameter
//! gradients are then summed and SGD updates one flat parameter buffer.
//! The candle model stays the source of truth for names, init, checkpoints
//! and other devices: the engine reads its weights and writes them back.

mod conv;
mod gemm;
mod googlenet;
mod inception;
mod loss;
mod params;

use rayon::prelude::*;

use self::googlenet::{GoogLeNetGraph, Workspace};
use self::params::ParamLayout;
use crate::data::NUM_CLASSES;
use crate::model::Model;
use crate::{Error, Result};

pub(crate) use loss::{cross_entropy, softmax_in_place};

/// Images each thread pushes through the network at once: large enough for
/// efficient GEMMs, small enough that a chunk's buffers stay in the core's
/// caches. Training keeps about twice as much per image (activations for
/// the backward pass, their gradients), hence the smaller chunk. Measured
/// on a 2-core AMD EPYC with `examples/tune_chunks.rs`.
const TRAIN_CHUNK: usize = 2;
const INFER_CHUNK: usize = 6;

/// Trains and runs a [`Model`] on the CPU from a copy of its parameters.
pub struct Engine {
    graph: GoogLeNetGraph,
    layout: ParamLayout,
    params: Vec<f32>,
    grads: Vec<f32>,
    /// SGD momentum buffers, created by the first step.
    momentum: Option<Vec<f32>>,
    workspaces: Vec<Workspace>,
    train_chunk: usize,
    infer_chunk: usize,
}

impl Engine {
    /// An engine for `model` if it has one (the reference GoogLeNet does),
    /// holding a copy of its current weights.
    pub fn for_model(model: &dyn Model) -> Result<Option<Self>> {
        if model.name() != "googlenet" {
            return Ok(None);
        }
        let layout = ParamLayout::new(model, &googlenet::layout_names())?;
        let params = layout.gather(model)?;
        let grads = vec![0.0; params.len()];
        let graph = GoogLeNetGraph::new(&layout);
        Ok(Some(Self {
            graph,
            layout,
            params,
            grads,
            momentum: None,
            workspaces: Vec::new(),
            train_chunk: TRAIN_CHUNK,
            infer_chunk: INFER_CHUNK,
        }))
    }

    /// Sets the images per chunk, for training and inference alike (see
    /// [`TRAIN_CHUNK`]); for tuning and tests.
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.train_chunk = chunk.max(1);
        self.infer_chunk = chunk.max(1);
        self.workspaces.clear();
        self
    }

    /// Splits `count` images into one contiguous share per thread and makes
    /// sure each share has a workspace. Returns the shares' (start, len).
    fn shares(&mut self, count: usize) -> Vec<(usize, usize)> {
        let threads = rayon::current_num_threads().clamp(1, count.max(1));
        while self.workspaces.len() < threads {
            let capacity = self.train_chunk.max(self.infer_chunk);
            self.workspaces.push(self.graph.workspace(capacity, self.params.len()));
        }
        let (base, extra) = (count / threads, count % threads);
        let mut start = 0;
        (0..threads)
            .map(|t| {
                let len = base + usize::from(t < extra);
                start += len;
                (start - len, len)
            })
            .collect()
    }

    fn check_images(&self, images: &[f32], count: usize) -> Result<()> {
        let expected = count * self.graph.image_len();
        if images.len() != expected {
            return Err(Error::InvalidArgument(format!("{} pixel values are not {count} images of 28x28", images.len())));
        }
        Ok(())
    }

    /// Computes the gradient of the batch's mean cross-entropy into the
    /// engine (see [`Engine::gradients`]) and returns that mean loss.
    pub fn compute_gradients(&mut self, images: &[f32], labels: &[u32]) -> Result<f32> {
        let count = labels.len();
        self.check_images(images, count)?;
        if count == 0 {
            return Err(Error::InvalidArgument("a training batch needs at least one image".into()));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= NUM_CLASSES) {
            return Err(Error::InvalidArgument(format!("label {bad} is outside 0-{}", NUM_CLASSES - 1)));
        }
        let shares = self.shares(count);
        let (graph, params, chunk, image_len) = (&self.graph, &self.params, self.train_chunk, self.graph.image_len());
        let scale = 1.0 / count as f32;
        self.workspaces.par_iter_mut().zip(shares).for_each(|(ws, (start, len))| {
            ws.grads.fill(0.0);
            ws.loss_sum = 0.0;
            for offset in (start..start + len).step_by(chunk) {
                let n = chunk.min(start + len - offset);
                let pixels = &images[offset * image_len..(offset + n) * image_len];
                graph.accumulate_gradients(params, pixels, &labels[offset..offset + n], ws, n, scale);
            }
        });
        let used = self.workspaces.len().min(count);
        self.grads.copy_from_slice(&self.workspaces[0].grads);
        for ws in &self.workspaces[1..used] {
            self.grads.iter_mut().zip(&ws.grads).for_each(|(g, w)| *g += w);
        }
        let loss_sum: f64 = self.workspaces[..used].iter().map(|ws| ws.loss_sum).sum();
        Ok((loss_sum / count as f64) as f32)
    }

    /// SGD with momentum in PyTorch's form on the last computed gradients:
    /// buf = μ·buf + g (the first buf is g), p −= lr·buf.
    pub fn sgd_step(&mut self, lr: f32, momentum: f32) {
        let direction = match &mut self.momentum {
            Some(buf) if momentum != 0.0 => {
                buf.iter_mut().zip(&self.grads).for_each(|(b, g)| *b = momentum * *b + g);
                buf
            }
            _ => {
                let buf = self.momentum.insert(self.grads.clone());
                &*buf
            }
        };
        self.params.iter_mut().zip(direction.iter()).for_each(|(p, d)| *p -= lr * d);
    }

    /// One training step on a batch; returns its mean loss.
    pub fn train_step(&mut self, images: &[f32], labels: &[u32], lr: f32, momentum: f32) -> Result<f32> {
        let loss = self.compute_gradients(images, labels)?;
        self.sgd_step(lr, momentum);
        Ok(loss)
    }

    /// Logits (count × 10) of `count` normalized 28×28 images.
    pub fn logits(&mut self, images: &[f32], count: usize) -> Result<Vec<f32>> {
        self.check_images(images, count)?;
        let mut out = vec![0f32; count * NUM_CLASSES];
        if count == 0 {
            return Ok(out);
        }
        let shares = self.shares(count);
        let (graph, params, chunk, image_len) = (&self.graph, &self.params, self.infer_chunk, self.graph.image_len());
        let mut outputs: Vec<&mut [f32]> = Vec::with_capacity(shares.len());
        let mut rest = out.as_mut_slice();
        for &(_, len) in &shares {
            let (head, tail) = rest.split_at_mut(len * NUM_CLASSES);
            outputs.push(head);
            rest = tail;
        }
        self.workspaces.par_iter_mut().zip(shares).zip(outputs).for_each(|((ws, (start, len)), out)| {
            for offset in (start..start + len).step_by(chunk) {
                let n = chunk.min(start + len - offset);
                graph.forward(params, &images[offset * image_len..(offset + n) * image_len], ws, n);
                out[(offset - start) * NUM_CLASSES..][..n * NUM_CLASSES].copy_from_slice(&ws.logits[..n * NUM_CLASSES]);
            }
        });
        Ok(out)
    }

    /// The last computed gradients under the model's parameter names.
    pub fn gradients(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.layout.named(&self.grads)
    }

    /// Writes the engine's weights into `model` (the one it was made for).
    pub fn store(&self, model: &dyn Model) -> Result<()> {
        self.layout.scatter(&self.params, model)
    }

    /// The SGD momentum buffers under the model's parameter names, once a
    /// step has created them.
    pub fn momentum(&self) -> Option<impl Iterator<Item = (&str, &[f32])>> {
        self.momentum.as_deref().map(|m| self.layout.named(m))
    }

    /// Sets the momentum buffers (from a checkpoint): `buffers` must name
    /// every parameter once, with its number of values.
    pub fn set_momentum<'a>(&mut self, buffers: impl IntoIterator<Item = (&'a str, Vec<f32>)>) -> Result<()> {
        let mut flat = vec![0f32; self.params.len()];
        let mut filled = 0;
        for (name, values) in buffers {
            self.layout.fill(&mut flat, name, &values)?;
            filled += values.len();
        }
        if filled != flat.len() {
            return Err(Error::InvalidArgument(format!("momentum buffers hold {filled} values, the model has {}", flat.len())));
        }
        self.momentum = Some(flat);
        Ok(())
    }
}
