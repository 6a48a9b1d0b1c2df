//! The CPU engine: forward and backward passes of any model description on
//! plain f32 buffers, with no autograd graph and no allocation per step.
//!
//! Why: through candle's autograd a training step of these small models
//! spent most of its time outside arithmetic (allocating, zero-filling and
//! adding gradient tensors, one op at a time). Here a [`plan::Plan`] made
//! from the model's description fixes every buffer and fuses what the
//! graph allows; each core takes a contiguous share of the batch and runs
//! it through buffers it owns, with single-threaded kernels: 3×3
//! convolutions with stride 1 over channels in multiples of 8 by
//! Winograd's minimal filtering (2.25× to 4× fewer multiply-adds, see
//! `winograd.rs`, their products by a kernel of our own, `narrow_gemm.rs`),
//! 1×1 convolutions by the `gemm` crate, every other convolution directly
//! from its input planes (`direct.rs`), and the same pool and ReLU kernels
//! as the candle ops in [`crate::ops`]; the shares' parameter
//! gradients are then summed and the optimizer updates one flat parameter buffer. A share goes through in small chunks
//! whose buffers stay in cache. Without batch norm each chunk runs forward
//! and backward before the next; batch norm in training needs the whole
//! batch's statistics, so every activation of the share is kept (chunk
//! after chunk) and the threads meet at every batch norm, forward and
//! backward, to sum their chunks' figures. A single image to predict is
//! cut step by step across the threads instead (`split.rs`).
//! The candle model keeps the weights between runs: the engine reads them
//! and writes them back.

mod batch_norm;
mod conv;
mod direct;
pub(crate) mod elementwise;
mod gemm;
mod lanes;
mod loss;
mod narrow_gemm;
mod params;
mod peak;
mod plan;
mod split;
mod staging;
pub mod steps;
mod winograd;

use rayon::prelude::*;

pub use self::peak::peak_gflops;

use self::conv::Filters;
use self::params::ParamLayout;
use self::plan::{Kind, Plan};
use self::steps::{BatchNormState, Chunk, Shared, Workspace};
use self::winograd::Variant;
use crate::memory::Buffers;
use crate::model::{Description, Model};
use crate::optimizer::Optimizer;
use crate::{Error, Result};

pub use loss::{cross_entropy, cross_entropy_backward, softmax_in_place};

/// The [`Shared`] view of engine `$e`'s fields for a pass: a macro, not a
/// method, so the workspaces can be borrowed mutably beside it.
macro_rules! shared {
    ($e:ident, $params:expr, training: $training:expr, counts: $counts:expr, folds: $folds:expr) => {
        Shared {
            params: $params,
            batch_norms: &$e.batch_norms,
            training: $training,
            bn_counts: $counts,
            folds: $folds,
            filters: filters_of(&$e.filters, $e.filters_from),
        }
    };
}

/// Images each thread pushes through the network at once: large enough
/// for efficient kernels, small enough that a chunk's buffers stay in the
/// core's caches. Chosen with `examples/tune_chunks.rs`. On the Intel Xeon
/// (2026-12-01), once conv2's input gradient was spread, GoogLeNet trained
/// 5–7 % faster in chunks of 8 than of 2 with AVX-512 (6,650 against
/// 7,000 images/s), and within noise with AVX2; lenet5 +4 %, the residual
/// net and resnet-original within noise. Inference was within noise from 2
/// to 16 there; on an AMD EPYC Zen 5 (2026-12-07, medians of four
/// alternating runs, 2 threads) chunks of 8 predicted 1.5–4 % faster than of 4
/// (lenet5 +4 %, the residual net and googlenet +2 %, resnet-original
/// +1.5 %), once linear layers ran by narrow_gemm.
const TRAIN_CHUNK: usize = 8;
const INFER_CHUNK: usize = 8;

/// Trains and runs a [`Model`] on the CPU from a copy of its parameters.
pub struct Engine {
    plan: Plan,
    layout: ParamLayout,
    params: Vec<f32>,
    grads: Vec<f32>,
    /// The optimizer's buffers, one flat buffer per slot (see
    /// [`Optimizer::slots`]), created by the first step.
    optimizer_state: Vec<Vec<f32>>,
    /// Optimizer updates made so far.
    optimizer_step: u64,
    /// The model's buffers (batch norm running statistics), in its order.
    buffers: Vec<Vec<f32>>,
    batch_norms: Vec<BatchNormState>,
    /// Batch norm uses the batch's statistics and updates the running ones.
    training: bool,
    workspaces: Vec<Workspace>,
    /// The parameters with batch norms folded into convs, for inference,
    /// and the `version` they were folded from: an engine kept for
    /// prediction after prediction folds once, not per call.
    folded: Vec<f32>,
    folded_from: Option<u64>,
    /// The Winograd convs' filters, transformed from the parameters a pass
    /// runs with, and what they were transformed from: the `version` of the
    /// parameters and running statistics, and whether folded.
    filters: Vec<f32>,
    filters_from: Option<(u64, bool)>,
    /// Counts the changes to the parameters and running statistics.
    version: u64,
    train_chunk: usize,
    infer_chunk: usize,
    /// ε of the training loss (see [`Engine::set_label_smoothing`]).
    label_smoothing: f32,
}

impl Engine {
    /// An engine for `model`, holding a copy of its current weights; `None`
    /// when its description uses an operation the engine has no kernel for
    /// ([`Engine::declines`] says which).
    pub fn for_model(model: &dyn Model) -> Result<Option<Self>> {
        let Ok(plan) = Plan::new(model.description()) else { return Ok(None) };
        let layout = ParamLayout::new(model, &plan.layout)?;
        let params = layout.gather(model)?;
        let grads = vec![0.0; params.len()];
        let buffers = model.buffers().iter().map(|b| Ok(b.var.as_tensor().flatten_all()?.to_vec1::<f32>()?)).collect::<Result<Vec<_>>>()?;
        let batch_norms = plan.batch_norms.iter().map(|_| BatchNormState::default()).collect();
        Ok(Some(Self {
            plan,
            layout,
            params,
            grads,
            optimizer_state: Vec::new(),
            optimizer_step: 0,
            buffers,
            batch_norms,
            training: false,
            workspaces: Vec::new(),
            folded: Vec::new(),
            folded_from: None,
            filters: Vec::new(),
            filters_from: None,
            version: 0,
            train_chunk: TRAIN_CHUNK,
            infer_chunk: INFER_CHUNK,
            label_smoothing: 0.0,
        }))
    }

    /// Why the engine does not run `description` (candle does), or `None`
    /// when it does.
    pub fn declines(description: &Description) -> Option<String> {
        Plan::new(description).err()
    }

    /// Bytes the buffers of a training step on `batch` images take, all
    /// threads together (without batch norm, chunks keep this small; with
    /// it, every activation of the batch is kept for the backward pass).
    pub fn training_bytes(&self, batch: usize) -> usize {
        let per_image: usize = self.plan.tensor_lens.iter().sum();
        let images = if self.plan.has_batch_norm() { batch } else { self.train_chunk.max(self.infer_chunk) * rayon::current_num_threads() };
        // Activations and their gradients, in f32.
        2 * per_image * images * std::mem::size_of::<f32>()
    }

    /// Frees the workspaces; the next pass allocates them again.
    pub fn release_buffers(&mut self) {
        self.workspaces = Vec::new();
    }

    /// Sets the images per chunk, for training and inference alike (see
    /// [`TRAIN_CHUNK`]); for tuning and tests.
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.train_chunk = chunk.max(1);
        self.infer_chunk = chunk.max(1);
        self.workspaces.clear();
        self
    }

    /// Switches batch norm between the batch's statistics (training, which
    /// also moves the running statistics) and the running ones.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Smooths the labels of the training loss by ε (0, the default, is
    /// plain cross-entropy): each row's loss becomes PyTorch's
    /// `CrossEntropyLoss(label_smoothing = ε)`, (1 − ε)·(−log p_label) +
    /// ε·mean_k(−log p_k). [`Engine::compute_gradients`] and
    /// [`Engine::train_step`] then return and differentiate that loss.
    pub fn set_label_smoothing(&mut self, label_smoothing: f32) {
        self.label_smoothing = label_smoothing;
    }

    /// Whether a pass goes through each share at once (batch norm's batch
    /// statistics) rather than in chunks.
    fn whole_shares(&self) -> bool {
        self.training && self.plan.has_batch_norm()
    }

    /// Splits `count` images into one contiguous share per thread and makes
    /// sure each thread has a workspace, for its whole share (`whole`:
    /// batch norm in training keeps every activation) or for one chunk.
    /// Returns the shares' (start, len), or the error saying how much
    /// memory the workspaces need when it cannot be had.
    fn shares(&mut self, count: usize, whole: bool) -> Result<Vec<(usize, usize)>> {
        let threads = rayon::current_num_threads().clamp(1, count.max(1));
        let (base, extra) = (count / threads, count % threads);
        let chunk = self.train_chunk.max(self.infer_chunk);
        let capacity = if whole { (base + usize::from(extra > 0)).max(chunk) } else { chunk };
        let fits = |ws: &Workspace| ws.capacity >= capacity && ws.chunk >= chunk;
        if self.workspaces.len() < threads || !self.workspaces.iter().take(threads).all(fits) {
            // The old ones go first: both at once could need twice the memory.
            self.workspaces.clear();
            let mut buffers = Buffers::default();
            let workspaces =
                (0..threads).map(|_| Workspace::new(&self.plan, capacity, chunk, self.params.len(), true, &mut buffers)).collect();
            let plural = if threads == 1 { "" } else { "s" };
            buffers.finish(&format!("the engine's buffers for {threads} thread{plural} ({capacity} images each)"))?;
            self.workspaces = workspaces;
        }
        let mut start = 0;
        Ok((0..threads)
            .map(|t| {
                let len = base + usize::from(t < extra);
                start += len;
                (start - len, len)
            })
            .collect())
    }

    fn check_images(&self, images: &[f32], count: usize) -> Result<()> {
        let expected = count * self.plan.input.rows * self.plan.input.plane;
        if images.len() != expected {
            return Err(Error::InvalidArgument(format!(
                "{} pixel values are not {count} images of {} values",
                images.len(),
                self.plan.input.rows * self.plan.input.plane
            )));
        }
        Ok(())
    }

    /// Per batch norm, its statistics for a pass in evaluation: the running ones.
    fn use_running_stats(&mut self) {
        for (state, spec) in self.batch_norms.iter_mut().zip(&self.plan.batch_norms) {
            state.stats.resize(2 * spec.channels, 0.0);
            let (mean, var) = (&self.buffers[spec.buffer], &self.buffers[spec.buffer + 1]);
            batch_norm::running_stats(mean, var, &mut state.stats);
        }
    }

    /// `folded`: the parameters with every folded conv's weights scaled and
    /// bias shifted by its batch norm's running statistics (see [`plan::Fold`]):
    /// W' = W·s, b' = (b − mean)·s + β per channel, s = γ/√(var + eps).
    fn fold_batch_norms(&mut self) {
        self.folded.clear();
        self.folded.extend_from_slice(&self.params);
        for fold in &self.plan.folds {
            let (Kind::Conv(conv), Kind::BatchNorm { index, offset, .. }) =
                (&self.plan.steps[fold.conv].kind, &self.plan.steps[fold.batch_norm].kind)
            else {
                unreachable!("a fold is a conv and a batch norm")
            };
            let stats = &self.batch_norms[*index].stats;
            let (gamma, beta) = self.params[*offset..*offset + 2 * conv.c_out].split_at(conv.c_out);
            let (weight, bias) = conv.slot.weight_bias_mut(&mut self.folded, conv.c_out);
            for (co, row) in weight.chunks_exact_mut(conv.rows()).enumerate() {
                let scale = gamma[co] as f64 * stats[2 * co + 1];
                row.iter_mut().for_each(|w| *w = (*w as f64 * scale) as f32);
                bias[co] = ((bias[co] as f64 - stats[2 * co]) * scale + beta[co] as f64) as f32;
            }
        }
    }

    /// Transforms the Winograd convs' filters from the parameters (or, with
    /// `folded`, from the folded ones) for the next pass.
    fn transform_filters(&mut self, folded: bool) {
        if self.filters_from == Some((self.version, folded)) {
            return;
        }
        self.filters_from = Some((self.version, folded));
        let params = if folded { &self.folded } else { &self.params };
        self.filters.resize(self.plan.filters_len, 0.0);
        for step in &self.plan.steps {
            match &step.kind {
                Kind::Conv(conv) => conv.transform_filters(params, &mut self.filters, Self::variant(folded)),
                &Kind::Linear { slot, in_features, out_features, transposed: Some(at) } => {
                    let (weight, _) = slot.weight_bias(params, out_features);
                    let transposed = &mut self.filters[at..at + in_features * out_features];
                    for (o, row) in weight.chunks_exact(in_features).enumerate() {
                        row.iter().enumerate().for_each(|(i, &w)| transposed[i * out_features + o] = w);
                    }
                }
                _ => {}
            }
        }
    }

    /// The Winograd variant of a pass: F(4,3) for inference (folded
    /// parameters), F(2,3) where gradients are computed (see [`Filters`]).
    fn variant(folded: bool) -> Variant {
        if folded {
            Variant::F4
        } else {
            Variant::F2
        }
    }

    /// The batch's statistics of batch norm `index` from the threads'
    /// partial sums over `count` values per channel, moving the running ones.
    fn reduce_moments(&mut self, index: usize, count: usize) -> Result<()> {
        let spec = &self.plan.batch_norms[index];
        if count < 2 {
            return Err(Error::InvalidArgument(format!(
                "batch norm in training needs more than one value per channel (got {count}): use a larger batch"
            )));
        }
        let sums = sum_partials(&self.workspaces, index);
        self.version += 1;
        let state = &mut self.batch_norms[index];
        state.stats.resize(2 * spec.channels, 0.0);
        let (before, after) = self.buffers.split_at_mut(spec.buffer + 1);
        batch_norm::finish_moments(&sums, count, &mut state.stats, &mut before[spec.buffer], &mut after[0]);
        Ok(())
    }

    /// A training-mode pass of batch norm models: forward (and backward,
    /// with `labels`) over each thread's whole share, chunk by chunk, every
    /// activation kept, the threads meeting at each batch norm to sum their
    /// statistics. Returns the shares.
    fn run_whole_shares(&mut self, images: &[f32], labels: Option<&[u32]>, count: usize) -> Result<Vec<(usize, usize)>> {
        self.transform_filters(false);
        let shares = self.shares(count, true)?;
        let used = shares.iter().filter(|s| s.1 > 0).count();
        let chunk = self.train_chunk;
        let chunks = |len: usize| (0..len).step_by(chunk).map(move |base| Chunk { base, n: chunk.min(len - base) });
        let image_len = self.plan.input.rows * self.plan.input.plane;
        let bn_steps: Vec<usize> =
            self.plan.steps.iter().enumerate().filter(|(_, s)| matches!(s.kind, Kind::BatchNorm { .. })).map(|(i, _)| i).collect();
        let counts: Vec<usize> = bn_steps.iter().map(|&i| count * self.plan.steps[i].inputs[0].plane).collect();
        let scale = 1.0 / count as f32;
        let label_smoothing = self.label_smoothing;
        let plan = &self.plan;
        for_each_share(&mut self.workspaces[..used], shares.clone(), |ws, (start, len)| {
            for c in chunks(len) {
                ws.load_images(plan, &images[(start + c.base) * image_len..], c);
            }
            ws.zero_param_grads();
            ws.loss_sum = 0.0;
            ws.reset_partials();
        });
        let mut from = 0;
        for (k, &i) in bn_steps.iter().enumerate() {
            let shared = shared!(self, &self.params, training: true, counts: &counts, folds: &[]);
            let plan = &self.plan;
            for_each_share(&mut self.workspaces[..used], shares.clone(), |ws, (_, len)| {
                for c in chunks(len) {
                    ws.forward(plan, from..i, &shared, c);
                    ws.add_moments(plan, i, c);
                }
            });
            self.reduce_moments(k, counts[k])?;
            from = i;
        }
        let shared = shared!(self, &self.params, training: true, counts: &counts, folds: &[]);
        let plan = &self.plan;
        let steps = plan.steps.len();
        for_each_share(&mut self.workspaces[..used], shares.clone(), |ws, (start, len)| {
            for c in chunks(len) {
                ws.forward(plan, from..steps, &shared, c);
                if let Some(labels) = labels {
                    ws.zero_grads(plan, c);
                    ws.loss(plan, &labels[start + c.base..], scale, label_smoothing, c);
                }
            }
            // The backward pass sums other figures into them.
            ws.reset_partials();
        });
        if labels.is_none() {
            return Ok(shares);
        }
        let mut to = steps;
        for (k, &i) in bn_steps.iter().enumerate().rev() {
            let shared = shared!(self, &self.params, training: true, counts: &counts, folds: &[]);
            let plan = &self.plan;
            for_each_share(&mut self.workspaces[..used], shares.clone(), |ws, (_, len)| {
                for c in chunks(len) {
                    ws.backward(plan, i + 1..to, &shared, c);
                    ws.add_grad_sums(plan, i, &shared, c);
                }
            });
            self.batch_norms[k].grad_sums = sum_partials(&self.workspaces[..used], k);
            to = i + 1;
        }
        let shared = shared!(self, &self.params, training: true, counts: &counts, folds: &[]);
        let plan = &self.plan;
        for_each_share(&mut self.workspaces[..used], shares.clone(), |ws, (_, len)| {
            for c in chunks(len) {
                ws.backward(plan, 0..to, &shared, c);
            }
            ws.finish_param_grads(plan, &shared);
        });
        Ok(shares)
    }

    /// Computes the gradient of the batch's mean cross-entropy (with the
    /// labels smoothed as [`Engine::set_label_smoothing`] set) into the
    /// engine (see [`Engine::gradients`]) and returns that mean loss.
    pub fn compute_gradients(&mut self, images: &[f32], labels: &[u32]) -> Result<f32> {
        on_pool(|| self.compute_gradients_on_pool(images, labels))
    }

    fn compute_gradients_on_pool(&mut self, images: &[f32], labels: &[u32]) -> Result<f32> {
        let count = labels.len();
        self.check_images(images, count)?;
        if count == 0 {
            return Err(Error::InvalidArgument("a training batch needs at least one image".into()));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= self.plan.classes) {
            return Err(Error::InvalidArgument(format!("label {bad} is outside 0-{}", self.plan.classes - 1)));
        }
        let used = if self.whole_shares() {
            let shares = self.run_whole_shares(images, Some(labels), count)?;
            shares.iter().filter(|s| s.1 > 0).count()
        } else {
            self.use_running_stats();
            self.transform_filters(false);
            let (shares, chunk) = (self.shares(count, false)?, self.train_chunk);
            let image_len = self.plan.input.rows * self.plan.input.plane;
            let shared = shared!(self, &self.params, training: false, counts: &[], folds: &[]);
            let plan = &self.plan;
            let scale = 1.0 / count as f32;
            let label_smoothing = self.label_smoothing;
            for_each_share(&mut self.workspaces, shares.clone(), |ws, (start, len)| {
                ws.zero_param_grads();
                ws.loss_sum = 0.0;
                ws.reset_partials();
                for offset in (start..start + len).step_by(chunk) {
                    let c = Chunk { base: 0, n: chunk.min(start + len - offset) };
                    ws.load_images(plan, &images[offset * image_len..], c);
                    ws.forward(plan, 0..plan.steps.len(), &shared, c);
                    ws.zero_grads(plan, c);
                    ws.loss(plan, &labels[offset..], scale, label_smoothing, c);
                    ws.backward(plan, 0..plan.steps.len(), &shared, c);
                }
                ws.finish_param_grads(plan, &shared);
            });
            self.workspaces.len().min(count)
        };
        self.grads.copy_from_slice(&self.workspaces[0].param_grads);
        for ws in &self.workspaces[1..used] {
            self.grads.iter_mut().zip(&ws.param_grads).for_each(|(g, w)| *g += w);
        }
        let loss_sum: f64 = self.workspaces[..used].iter().map(|ws| ws.loss_sum).sum();
        Ok((loss_sum / count as f64) as f32)
    }

    /// One update by `optimizer` at learning rate `lr` on the last
    /// computed gradients (see [`Optimizer::update`]).
    pub fn optimizer_step(&mut self, optimizer: &Optimizer, lr: f32) {
        self.optimizer_step += 1;
        optimizer.update(&mut self.params, &self.grads, &mut self.optimizer_state, self.optimizer_step, lr);
        self.version += 1;
    }

    /// One training step on a batch; returns its mean loss.
    pub fn train_step(&mut self, images: &[f32], labels: &[u32], optimizer: &Optimizer, lr: f32) -> Result<f32> {
        let loss = self.compute_gradients(images, labels)?;
        self.optimizer_step(optimizer, lr);
        Ok(loss)
    }

    /// Logits (count × classes) of `count` normalized images.
    pub fn logits(&mut self, images: &[f32], count: usize) -> Result<Vec<f32>> {
        if count > 1 {
            return on_pool(|| self.logits_here(images, count));
        }
        self.logits_here(images, count)
    }

    /// [`Engine::logits`] on the calling thread (one image: the caller
    /// takes the first part of its split, a pool thread the others).
    fn logits_here(&mut self, images: &[f32], count: usize) -> Result<Vec<f32>> {
        self.check_images(images, count)?;
        let classes = self.plan.classes;
        let mut out = vec![0f32; count * classes];
        if count == 0 {
            return Ok(out);
        }
        if self.whole_shares() {
            let shares = self.run_whole_shares(images, None, count)?;
            // Chunk after chunk, a share's logits are its images' in order.
            for (ws, &(start, len)) in self.workspaces.iter().zip(&shares) {
                out[start * classes..(start + len) * classes].copy_from_slice(ws.logits(&self.plan, Chunk { base: 0, n: len }));
            }
            return Ok(out);
        }
        if self.folded_from != Some(self.version) {
            // Batch norm statistics change only with `version` (an
            // optimizer step, a training pass's moments).
            self.use_running_stats();
            self.fold_batch_norms();
            self.folded_from = Some(self.version);
        }
        self.transform_filters(true);
        let parts = rayon::current_num_threads().min(split::MAX_PARTS);
        if count == 1 && parts > 1 {
            // One image: its steps split across the threads.
            self.shares(parts, false)?;
            let shared = shared!(self, &self.folded, training: false, counts: &[], folds: &self.plan.folds);
            let one = Chunk { base: 0, n: 1 };
            self.workspaces[0].load_images(&self.plan, images, one);
            split::forward_one(&self.plan, &shared, &mut self.workspaces, parts);
            out.copy_from_slice(self.workspaces[0].logits(&self.plan, one));
            return Ok(out);
        }
        let (shares, chunk) = (self.shares(count, false)?, self.infer_chunk);
        let image_len = self.plan.input.rows * self.plan.input.plane;
        let shared = shared!(self, &self.folded, training: false, counts: &[], folds: &self.plan.folds);
        let plan = &self.plan;
        let mut outputs: Vec<&mut [f32]> = Vec::with_capacity(shares.len());
        let mut rest = out.as_mut_slice();
        for &(_, len) in &shares {
            let (head, tail) = rest.split_at_mut(len * classes);
            outputs.push(head);
            rest = tail;
        }
        for_each_share(&mut self.workspaces, shares.into_iter().zip(outputs).collect(), |ws, ((start, len), out)| {
            for offset in (start..start + len).step_by(chunk) {
                let c = Chunk { base: 0, n: chunk.min(start + len - offset) };
                ws.load_images(plan, &images[offset * image_len..], c);
                ws.forward(plan, 0..plan.steps.len(), &shared, c);
                out[(offset - start) * classes..][..c.n * classes].copy_from_slice(ws.logits(plan, c));
            }
        });
        Ok(out)
    }

    /// The last computed gradients under the model's parameter names.
    pub fn gradients(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.layout.named(&self.grads)
    }

    /// Writes the engine's weights and running statistics into `model` (the
    /// one it was made for).
    pub fn store(&self, model: &dyn Model) -> Result<()> {
        self.layout.scatter(&self.params, model)?;
        for (buffer, values) in model.buffers().iter().zip(&self.buffers) {
            buffer.var.set(&candle_core::Tensor::from_slice(values, buffer.var.shape(), buffer.var.device())?)?;
        }
        Ok(())
    }

    /// The optimizer's buffers, per slot (in the order of
    /// [`Optimizer::slots`]) each tensor under its parameter's name; empty
    /// before the first step.
    pub fn optimizer_buffers(&self) -> impl Iterator<Item = impl Iterator<Item = (&str, &[f32])>> {
        self.optimizer_state.iter().map(|flat| self.layout.named(flat))
    }

    /// Updates made so far.
    pub fn optimizer_steps(&self) -> u64 {
        self.optimizer_step
    }

    /// Sets the optimizer's state (from a checkpoint): per slot, values
    /// for every parameter, named once each; and the updates made so far.
    pub fn set_optimizer_state(&mut self, slots: Vec<Vec<(&str, Vec<f32>)>>, step: u64) -> Result<()> {
        let mut state = Vec::with_capacity(slots.len());
        for buffers in slots {
            let mut flat = vec![0f32; self.params.len()];
            let mut filled = 0;
            for (name, values) in buffers {
                self.layout.fill(&mut flat, name, &values)?;
                filled += values.len();
            }
            if filled != flat.len() {
                return Err(Error::InvalidArgument(format!("optimizer buffers hold {filled} values, the model has {}", flat.len())));
            }
            state.push(flat);
        }
        (self.optimizer_state, self.optimizer_step) = (state, step);
        Ok(())
    }
}

/// The transformed filters `values`, made for the pass `from` says (see
/// `Engine::filters_from`); a function of the fields, not of the engine,
/// so the workspaces can be borrowed beside them.
fn filters_of(values: &[f32], from: Option<(u64, bool)>) -> Filters<'_> {
    Filters { values, variant: Engine::variant(from.is_some_and(|(_, folded)| folded)) }
}

/// Runs `f` on a thread of the engine's pool, where the caller is none of
/// them and the pool has several. Why: each [`for_each_share`] from outside
/// the pool hands every share to the pool and sleeps until they are done,
/// to be woken again; from a pool thread it runs one share itself and the
/// others are taken by threads still awake from the last phase. A batch
/// norm model's training step has two phases per batch norm: ResNet
/// training ran 5 % faster at 2 threads this way.
fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_none() && rayon::current_num_threads() > 1 {
        rayon::scope(|_| f())
    } else {
        f()
    }
}

/// Runs `f` on each share's workspace with the share's item: on the
/// calling thread when there is one share (one engine thread), where
/// handing it to a pool thread would add only the wait for that thread;
/// across the pool otherwise.
fn for_each_share<T: Send>(workspaces: &mut [Workspace], items: Vec<T>, f: impl Fn(&mut Workspace, T) + Sync) {
    if items.len() == 1 {
        let item = items.into_iter().next().expect("one item");
        return f(&mut workspaces[0], item);
    }
    workspaces.par_iter_mut().zip(items).for_each(|(ws, item)| f(ws, item));
}

/// The threads' partial sums of batch norm `index`, added up.
fn sum_partials(workspaces: &[Workspace], index: usize) -> Vec<f64> {
    let mut sums = workspaces[0].bn_partial[index].clone();
    for ws in &workspaces[1..] {
        sums.iter_mut().zip(&ws.bn_partial[index]).for_each(|(s, p)| *s += p);
    }
    sums
}
