//! One thread's buffers and the forward and backward pass of each step of a
//! [`Plan`] on a chunk of `n` images.

use std::ops::Range;

use super::batch_norm as bn;
use super::conv::Filters;
use super::elementwise::{accumulate_row_sums, add_into, relu, relu_grad, relu_in_place, relu_mask, sum_into};
use super::gemm::{add_rows, gemm, Op};
use super::loss::cross_entropy_backward;
use super::narrow_gemm::{narrow_gemm, Strided};
use super::plan::{Fold, Grad, Kind, Loc, Plan, Step};
use super::split::Tensors;
use crate::memory::Buffers;
use crate::ops::kernels::{avg_pool3x3_planes, max_pool2x2_relu_grad_planes, max_pool2x2_relu_planes};

/// Per batch norm, shared by every thread of a step: each channel's mean
/// and 1/√(var + eps) (2 per channel), and in training the batch's sums
/// for the backward pass (Σdy, Σdy·x̂; 2 per channel).
#[derive(Default)]
pub(crate) struct BatchNormState {
    pub stats: Vec<f64>,
    pub grad_sums: Vec<f64>,
}

/// What every thread reads during a pass.
pub(crate) struct Shared<'a> {
    pub params: &'a [f32],
    pub batch_norms: &'a [BatchNormState],
    /// Batch norms use the batch's statistics (training), not the running ones.
    pub training: bool,
    /// Values per channel over the whole batch, for each batch norm
    /// (training's divisor N in the input gradient).
    pub bn_counts: &'a [usize],
    /// Conv and batch norm pairs run as one conv (inference, with `params`
    /// holding the folded weights); empty otherwise.
    pub folds: &'a [Fold],
    /// The Winograd convs' filters, transformed from `params`.
    pub filters: Filters<'a>,
}

/// A run of consecutive images of a thread's share: `n` images after the
/// first `base`. Each tensor holds the share chunk by chunk, every chunk
/// channel-major (C×n×H×W), so a chunk is contiguous and the kernels see
/// plain channel-major activations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk {
    pub base: usize,
    pub n: usize,
}

/// The floats of activation `loc` for chunk `c`.
fn span(plan: &Plan, loc: Loc, c: Chunk) -> Range<usize> {
    let offset = c.base * plan.tensor_lens[loc.tensor];
    let r = loc.range(c.n);
    offset + r.start..offset + r.end
}

/// One thread's activations, their gradients and its parameter gradients,
/// for up to `capacity` images (a chunk, or a whole share in chunks).
pub(crate) struct Workspace {
    pub capacity: usize,
    /// The most images in one chunk.
    pub chunk: usize,
    values: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    /// Floats for a conv's intermediate results: padded planes, Winograd's
    /// transforms, a strided input gradient's Wᵀ · dy.
    scratch: Vec<f32>,
    /// An input's worth of floats, for a gradient added rather than written.
    spare: Vec<f32>,
    /// A band of rows of a conv's input and output, when threads share one
    /// image (see `split.rs`); empty until then.
    band: Vec<f32>,
    /// This thread's share of the batch's parameter gradients.
    pub param_grads: Vec<f32>,
    /// Its Winograd convs' weight gradients in the transformed domain,
    /// summed over the pass's chunks (at their filters' offsets).
    filter_grads: Vec<f32>,
    /// Sum of this thread's per-image losses in the batch.
    pub loss_sum: f64,
    /// Per batch norm, this thread's partial sums (2 per channel).
    pub bn_partial: Vec<Vec<f64>>,
}

fn conv_of(step: &Step) -> Option<&super::conv::ConvLayer> {
    match &step.kind {
        Kind::Conv(conv) => Some(conv),
        _ => None,
    }
}

impl Workspace {
    /// Buffers for `capacity` images passed in chunks of up to `chunk`,
    /// from `buffers` (which tells whether they could all be had);
    /// `training` allocates gradients.
    pub fn new(plan: &Plan, capacity: usize, chunk: usize, param_len: usize, training: bool, buffers: &mut Buffers) -> Self {
        let largest = plan.tensor_lens.iter().max().copied().unwrap_or(0) * chunk;
        let if_training = |len: usize| if training { len } else { 0 };
        Workspace {
            capacity,
            chunk,
            values: plan.tensor_lens.iter().map(|len| buffers.zeroed(len * capacity)).collect(),
            grads: plan.tensor_lens.iter().map(|len| buffers.zeroed(if_training(len * capacity))).collect(),
            scratch: buffers.zeroed(plan.steps.iter().filter_map(conv_of).map(|c| c.scratch_len(chunk, training)).max().unwrap_or(0)),
            spare: buffers.zeroed(if_training(largest)),
            band: Vec::new(),
            param_grads: buffers.zeroed(if_training(param_len)),
            filter_grads: buffers.zeroed(if_training(plan.filters_len)),
            loss_sum: 0.0,
            bn_partial: plan.batch_norms.iter().map(|b| vec![0.0; 2 * b.channels]).collect(),
        }
    }

    /// Copies `n` images (N×C×H×W, as given) into the input tensor, channel-major.
    pub fn load_images(&mut self, plan: &Plan, images: &[f32], c: Chunk) {
        let input = &mut self.values[plan.input.tensor][span(plan, plan.input, c)];
        let (channels, plane) = (plan.input.rows, plan.input.plane);
        for (img, pixels) in images.chunks_exact(channels * plane).take(c.n).enumerate() {
            for (ch, channel) in pixels.chunks_exact(plane).enumerate() {
                input[(ch * c.n + img) * plane..][..plane].copy_from_slice(channel);
            }
        }
    }

    /// The logits of the last forward pass (n × classes).
    pub fn logits(&self, plan: &Plan, c: Chunk) -> &[f32] {
        &self.values[plan.logits.tensor][span(plan, plan.logits, c)]
    }

    /// Adds the batch's cross-entropy gradient (scaled, labels smoothed by
    /// `label_smoothing`) into the logits' gradient and the losses to `loss_sum`.
    pub fn loss(&mut self, plan: &Plan, labels: &[u32], scale: f32, label_smoothing: f32, c: Chunk) {
        let logits = &self.values[plan.logits.tensor][span(plan, plan.logits, c)];
        let d_logits = &mut self.grads[plan.logits.tensor][span(plan, plan.logits, c)];
        self.loss_sum += cross_entropy_backward(logits, &labels[..c.n], plan.classes, scale, label_smoothing, d_logits) as f64;
    }

    /// Zeroes the gradients that several steps add into.
    pub fn zero_grads(&mut self, plan: &Plan, c: Chunk) {
        for &t in &plan.zeroed_grads {
            let len = plan.tensor_lens[t];
            self.grads[t][c.base * len..(c.base + c.n) * len].fill(0.0);
        }
    }

    /// The forward pass of steps `range`.
    pub fn forward(&mut self, plan: &Plan, range: Range<usize>, shared: &Shared, c: Chunk) {
        for i in range {
            match Pass::of(plan, shared, i) {
                Pass::Skip => {}
                Pass::Relu(out) => relu_in_place(&mut self.values[out.tensor][span(plan, out, c)]),
                Pass::Run(out) => self.forward_step(plan, i, shared, c, out),
            }
        }
    }

    /// Its activations, for threads sharing one image's forward pass (see
    /// `split.rs`), its scratch and its buffer for a band of rows.
    pub fn shared_parts(&mut self) -> (Tensors<'_>, &mut [f32], &mut Vec<f32>) {
        (Tensors::new(&mut self.values), &mut self.scratch, &mut self.band)
    }

    /// Its scratch and its buffer for a band of rows, for a thread helping
    /// another workspace through one image.
    pub fn helper_parts(&mut self) -> (&mut [f32], &mut Vec<f32>) {
        (&mut self.scratch, &mut self.band)
    }

    /// The backward pass of steps `range`, last first. In training a batch
    /// norm's step here finishes its input gradient with the batch's sums
    /// (see [`Workspace::add_grad_sums`]).
    pub fn backward(&mut self, plan: &Plan, range: Range<usize>, shared: &Shared, c: Chunk) {
        for i in range.rev() {
            self.backward_step(plan, i, shared, c);
        }
    }

    /// Zeroes the parameter gradients, before a pass.
    pub fn zero_param_grads(&mut self) {
        self.param_grads.fill(0.0);
        self.filter_grads.fill(0.0);
    }

    /// Adds the Winograd convs' weight gradients, summed in the transformed
    /// domain over the pass, to the parameter gradients: after a pass.
    pub fn finish_param_grads(&mut self, plan: &Plan, shared: &Shared) {
        for step in &plan.steps {
            if let Kind::Conv(conv) = &step.kind {
                conv.finish_filter_grads(&mut self.param_grads, &self.filter_grads, shared.filters.variant);
            }
        }
    }

    /// Zeroes every batch norm's partial sums.
    pub fn reset_partials(&mut self) {
        self.bn_partial.iter_mut().for_each(|p| p.fill(0.0));
    }

    /// Adds the chunk's Σx and Σx² of batch norm step `i`'s input to its partial sums.
    pub fn add_moments(&mut self, plan: &Plan, i: usize, c: Chunk) {
        let step = &plan.steps[i];
        let Kind::BatchNorm { index, .. } = step.kind else { unreachable!("a batch norm step") };
        let x = &self.values[step.inputs[0].tensor][span(plan, step.inputs[0], c)];
        bn::add_moments(x, c.n * step.inputs[0].plane, &mut self.bn_partial[index]);
    }

    /// Adds the chunk's Σdy and Σdy·x̂ of batch norm step `i` to its partial
    /// sums, and its γ and β gradients.
    pub fn add_grad_sums(&mut self, plan: &Plan, i: usize, shared: &Shared, c: Chunk) {
        let step = &plan.steps[i];
        let Kind::BatchNorm { index, offset, relu } = step.kind else { unreachable!("a batch norm step") };
        let (x, y) = (step.inputs[0], step.output);
        let channels = x.rows;
        if relu {
            relu_mask(&self.values[y.tensor][span(plan, y, c)], &mut self.grads[y.tensor][span(plan, y, c)]);
        }
        let partial = &mut self.bn_partial[index];
        bn::add_grad_sums(
            &self.values[x.tensor][span(plan, x, c)],
            &self.grads[y.tensor][span(plan, y, c)],
            c.n * x.plane,
            &shared.batch_norms[index].stats,
            partial,
            &mut self.param_grads[offset..offset + 2 * channels],
        );
    }

    fn forward_step(&mut self, plan: &Plan, i: usize, shared: &Shared, c: Chunk, out: Loc) {
        let step = &plan.steps[i];
        let mut y = std::mem::take(&mut self.values[out.tensor]);
        let values = &self.values;
        let x = |k: usize| -> &[f32] { &values[step.inputs[k].tensor][span(plan, step.inputs[k], c)] };
        forward_window(step, shared, &x, &mut y[span(plan, out, c)], &mut self.scratch, c.n, out, 0..out.rows);
        self.values[out.tensor] = y;
    }

    fn backward_step(&mut self, plan: &Plan, i: usize, shared: &Shared, c: Chunk) {
        let (step, n) = (&plan.steps[i], c.n);
        let params = shared.params;
        let out = step.output;
        // The output's gradient is read while inputs' gradients are written
        // (other tensors, or other rows of the same one for a concatenation).
        let mut d_out_all = std::mem::take(&mut self.grads[out.tensor]);
        if let (Kind::BatchNorm { relu: true, .. }, false) = (&step.kind, shared.training) {
            // Training masked it before the batch's sums (add_grad_sums).
            relu_mask(&self.values[out.tensor][span(plan, out, c)], &mut d_out_all[span(plan, out, c)]);
        }
        let dy = &d_out_all[span(plan, out, c)];
        let (loc0, grad0) = (step.inputs[0], step.grads[0]);
        match &step.kind {
            Kind::Conv(conv) => {
                let x = &self.values[loc0.tensor][span(plan, loc0, c)];
                conv.backward_params(&mut self.param_grads, &mut self.filter_grads, shared.filters, x, dy, &mut self.scratch, n);
                if grad0 != Grad::None {
                    let dx = &mut self.grads[loc0.tensor][span(plan, loc0, c)];
                    conv.backward_input(params, shared.filters, dy, dx, grad0 == Grad::Add, &mut self.scratch, n);
                }
            }
            Kind::PoolBias { h, w, bias } => {
                accumulate_row_sums(&mut self.param_grads[*bias..*bias + out.rows], dy, n * out.plane);
                // The pool is its own adjoint (linear, symmetric stencil, constant divisor).
                self.write_grad(plan, loc0, grad0, c, |dx| avg_pool3x3_planes(dy, dx, *h, *w));
            }
            Kind::AvgPool3x3 { h, w } => self.write_grad(plan, loc0, grad0, c, |dx| avg_pool3x3_planes(dy, dx, *h, *w)),
            Kind::MaxPool2x2Relu { h, w } => {
                let x = std::mem::take(&mut self.values[loc0.tensor]);
                self.write_grad(plan, loc0, grad0, c, |dx| max_pool2x2_relu_grad_planes(&x[span(plan, loc0, c)], dy, dx, *h, *w));
                self.values[loc0.tensor] = x;
            }
            Kind::Relu => {
                let y = std::mem::take(&mut self.values[out.tensor]);
                let y_out = &y[span(plan, out, c)];
                self.write_grad(plan, loc0, grad0, c, |dx| relu_grad(y_out, dy, dx));
                self.values[out.tensor] = y;
            }
            Kind::BatchNorm { index, offset, .. } => {
                let state = &shared.batch_norms[*index];
                let len = n * loc0.plane;
                if !shared.training {
                    let partial = &mut self.bn_partial[*index];
                    let x = &self.values[loc0.tensor][span(plan, loc0, c)];
                    bn::add_grad_sums(x, dy, len, &state.stats, partial, &mut self.param_grads[*offset..*offset + 2 * out.rows]);
                }
                if grad0 != Grad::None {
                    let sums = shared.training.then(|| (state.grad_sums.as_slice(), shared.bn_counts[*index]));
                    let gamma = &params[*offset..*offset + out.rows];
                    let x = std::mem::take(&mut self.values[loc0.tensor]);
                    let dx = &mut self.grads[loc0.tensor][span(plan, loc0, c)];
                    bn::input_grad(&x[span(plan, loc0, c)], dy, dx, grad0 == Grad::Add, len, &state.stats, gamma, sums);
                    self.values[loc0.tensor] = x;
                }
            }
            Kind::GlobalAvgPool => {
                let (channels, plane) = (loc0.rows, loc0.plane);
                self.write_grad(plan, loc0, grad0, c, |dx| {
                    for (ch, planes) in dx.chunks_exact_mut(n * plane).enumerate() {
                        for (img, p) in planes.chunks_exact_mut(plane).enumerate() {
                            p.fill(dy[img * channels + ch] / plane as f32);
                        }
                    }
                });
            }
            Kind::Flatten => self.write_grad(plan, loc0, grad0, c, |dx| unflatten(dy, dx, loc0, n)),
            Kind::Linear { slot, in_features, out_features, .. } => {
                let x = &self.values[loc0.tensor][span(plan, loc0, c)];
                let (d_weight, d_bias) = slot.weight_bias_mut(&mut self.param_grads, *out_features);
                gemm(d_weight, Op::T(dy), Op::N(x), *out_features, *in_features, n, true);
                for row in dy.chunks_exact(*out_features) {
                    d_bias.iter_mut().zip(row).for_each(|(acc, g)| *acc += g);
                }
                if grad0 != Grad::None {
                    let (weight, _) = slot.weight_bias(params, *out_features);
                    let dx = &mut self.grads[loc0.tensor][span(plan, loc0, c)];
                    gemm(dx, Op::N(dy), Op::N(weight), n, *in_features, *out_features, grad0 == Grad::Add);
                }
            }
            Kind::Add | Kind::Copy => {
                for (&loc, &grad) in step.inputs.iter().zip(&step.grads) {
                    let dx = &mut self.grads[loc.tensor][span(plan, loc, c)];
                    match grad {
                        Grad::None => {}
                        Grad::Write => dx.copy_from_slice(dy),
                        Grad::Add => add_into(dx, dy),
                    }
                }
            }
        }
        self.grads[out.tensor] = d_out_all;
    }

    /// Runs `write` on input `loc`'s gradient directly, or on spare floats
    /// added to it afterwards when other steps write it too.
    fn write_grad(&mut self, plan: &Plan, loc: Loc, grad: Grad, c: Chunk, write: impl FnOnce(&mut [f32])) {
        match grad {
            Grad::None => {}
            Grad::Write => write(&mut self.grads[loc.tensor][span(plan, loc, c)]),
            Grad::Add => {
                let spare = &mut self.spare[..loc.len(c.n)];
                write(spare);
                add_into(&mut self.grads[loc.tensor][span(plan, loc, c)], spare);
            }
        }
    }
}

/// What the forward pass does at a step, given the folds.
pub(crate) enum Pass {
    /// Nothing: a folded batch norm without a ReLU (its conv wrote its output).
    Skip,
    /// Only the ReLU of a folded batch norm, on its output, in place.
    Relu(Loc),
    /// The step itself, writing to this activation: its own output, or,
    /// for a folded conv, what its batch norm would have written.
    Run(Loc),
}

impl Pass {
    pub fn of(plan: &Plan, shared: &Shared, i: usize) -> Pass {
        let step = &plan.steps[i];
        if shared.folds.iter().any(|f| f.batch_norm == i) {
            return match step.kind {
                Kind::BatchNorm { relu: true, .. } => Pass::Relu(step.output),
                _ => Pass::Skip,
            };
        }
        Pass::Run(shared.folds.iter().find(|f| f.conv == i).map_or(step.output, |f| plan.steps[f.batch_norm].output))
    }
}

/// The output channels a window of `step`'s forward pass starts and ends
/// at multiples of (or at its last channel); `None` where the step does
/// not split by channels (its output is image-major).
pub(crate) fn window_align(step: &Step) -> Option<usize> {
    match &step.kind {
        Kind::Conv(conv) => Some(conv.window_align()),
        Kind::GlobalAvgPool | Kind::Flatten | Kind::Linear { .. } => None,
        _ => Some(1),
    }
}

/// The forward pass of `step` on `n` images for the channels `window` of
/// its output `out`: `dst` holds those channels, `x(k)` the whole of input
/// k. The window is all of `out`'s rows, or a thread's part of one image's
/// (as [`window_align`] allows).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_window<'x>(
    step: &Step,
    shared: &Shared,
    x: &dyn Fn(usize) -> &'x [f32],
    dst: &mut [f32],
    scratch: &mut [f32],
    n: usize,
    out: Loc,
    window: Range<usize>,
) {
    let params = shared.params;
    // Input k's floats of the window's channels (a pool's planes differ from its output's).
    let xw = |k: usize| -> &[f32] { &x(k)[window.start * n * step.inputs[k].plane..window.end * n * step.inputs[k].plane] };
    match &step.kind {
        Kind::Conv(conv) => conv.forward(params, shared.filters, x(0), dst, scratch, n, window),
        Kind::PoolBias { h, w, bias } => {
            avg_pool3x3_planes(xw(0), dst, *h, *w);
            add_rows(dst, &params[*bias + window.start..*bias + window.end], n * out.plane);
        }
        Kind::AvgPool3x3 { h, w } => avg_pool3x3_planes(xw(0), dst, *h, *w),
        Kind::MaxPool2x2Relu { h, w } => max_pool2x2_relu_planes(xw(0), dst, *h, *w),
        Kind::Relu => relu(xw(0), dst),
        Kind::BatchNorm { index, offset, relu } => {
            let (gamma, beta) = params[*offset..*offset + 2 * out.rows].split_at(out.rows);
            let stats = &shared.batch_norms[*index].stats[2 * window.start..2 * window.end];
            bn::normalize(xw(0), dst, n * out.plane, stats, &gamma[window.clone()], &beta[window], *relu);
        }
        Kind::GlobalAvgPool => {
            // C×n×plane to n×C.
            let (c, plane) = (step.inputs[0].rows, step.inputs[0].plane);
            for (ch, planes) in x(0).chunks_exact(n * plane).enumerate() {
                for (img, p) in planes.chunks_exact(plane).enumerate() {
                    dst[img * c + ch] = p.iter().sum::<f32>() / plane as f32;
                }
            }
        }
        Kind::Flatten => flatten(x(0), dst, step.inputs[0], n),
        Kind::Linear { slot, in_features, out_features, transposed } => {
            let (weight, bias) = slot.weight_bias(params, *out_features);
            dst.chunks_exact_mut(*out_features).for_each(|row| row.copy_from_slice(bias));
            match *transposed {
                Some(at) => {
                    let weight_t = &shared.filters.values[at..at + in_features * out_features];
                    let x = Strided { data: x(0), rows: *in_features, cols: 1 };
                    narrow_gemm(dst, *out_features, x, weight_t, *out_features, n, *out_features, *in_features, true);
                }
                None => gemm(dst, Op::N(x(0)), Op::T(weight), n, *out_features, *in_features, true),
            }
        }
        Kind::Add => {
            // One pass for the first two inputs: the usual residual addition.
            match step.inputs.len() {
                1 => dst.copy_from_slice(xw(0)),
                _ => sum_into(dst, xw(0), xw(1)),
            }
            for k in 2..step.inputs.len() {
                add_into(dst, xw(k));
            }
        }
        Kind::Copy => dst.copy_from_slice(xw(0)),
    }
}

/// Channel-major C×n×plane to n×(C·plane), image by image as PyTorch flattens.
fn flatten(x: &[f32], y: &mut [f32], loc: Loc, n: usize) {
    let (c, plane) = (loc.rows, loc.plane);
    for (ch, channel) in x.chunks_exact(n * plane).enumerate() {
        for (img, pixels) in channel.chunks_exact(plane).enumerate() {
            y[(img * c + ch) * plane..][..plane].copy_from_slice(pixels);
        }
    }
}

/// The adjoint of [`flatten`].
fn unflatten(dy: &[f32], dx: &mut [f32], loc: Loc, n: usize) {
    let (c, plane) = (loc.rows, loc.plane);
    for (ch, channel) in dx.chunks_exact_mut(n * plane).enumerate() {
        for (img, pixels) in channel.chunks_exact_mut(plane).enumerate() {
            pixels.copy_from_slice(&dy[(img * c + ch) * plane..][..plane]);
        }
    }
}
