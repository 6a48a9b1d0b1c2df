//! The reference GoogLeNet (DESIGN.md §1) on chunks of `n` images, forward
//! and backward, with every buffer allocated once per thread.

use super::conv::ConvLayer;
use super::gemm::{gemm, Op};
use super::inception::{self, Inception, InceptionBuffers, OUT_CHANNELS};
use super::loss::cross_entropy_backward;
use super::params::{ParamLayout, Slot};
use crate::data::NUM_CLASSES;
use crate::ops::kernels::{max_pool2x2_relu_grad_planes, max_pool2x2_relu_planes};

/// Image side, and the sides after conv1 / pool1 / conv2 / pool2.
const SIDE: usize = 28;
const FEATURES: usize = OUT_CHANNELS * 4 * 4;

pub(crate) struct GoogLeNetGraph {
    conv1: ConvLayer,
    incep1: Inception,
    conv2: ConvLayer,
    incep2: Inception,
    fc: Slot,
}

/// The engine's parameter order: the model's, except that each Inception's
/// four 1×1 heads sit together (see `inception::layout_names`).
pub(crate) fn layout_names() -> Vec<String> {
    let mut names: Vec<String> = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"].map(String::from).to_vec();
    names.extend(inception::layout_names("incep1"));
    names.extend(inception::layout_names("incep2"));
    names.extend(["fc.weight".to_string(), "fc.bias".to_string()]);
    names
}

/// One thread's activations, their gradients and its parameter gradients,
/// for chunks of up to `capacity` images.
pub(crate) struct Workspace {
    pub capacity: usize,
    col1: Vec<f32>,
    a1: Vec<f32>,
    p1: Vec<f32>,
    inc1: InceptionBuffers,
    cat1: Vec<f32>,
    col2: Vec<f32>,
    a2: Vec<f32>,
    p2: Vec<f32>,
    inc2: InceptionBuffers,
    cat2: Vec<f32>,
    features: Vec<f32>,
    pub logits: Vec<f32>,
    d_logits: Vec<f32>,
    d_features: Vec<f32>,
    d_cat2: Vec<f32>,
    d_p2: Vec<f32>,
    d_a2: Vec<f32>,
    d_cat1: Vec<f32>,
    d_p1: Vec<f32>,
    d_a1: Vec<f32>,
    scratch: Vec<f32>,
    /// This thread's share of the batch's parameter gradients.
    pub grads: Vec<f32>,
    /// Sum of this thread's per-image losses in the batch.
    pub loss_sum: f64,
}

impl GoogLeNetGraph {
    pub fn new(layout: &ParamLayout) -> Self {
        Self {
            conv1: ConvLayer::new(layout.slot("conv1.weight", "conv1.bias"), 1, 10, 5, 0, SIDE, SIDE),
            incep1: Inception::new(layout, "incep1", 10, 12, 12),
            conv2: ConvLayer::new(layout.slot("conv2.weight", "conv2.bias"), OUT_CHANNELS, 20, 5, 0, 12, 12),
            incep2: Inception::new(layout, "incep2", 20, 4, 4),
            fc: layout.slot("fc.weight", "fc.bias"),
        }
    }

    pub fn image_len(&self) -> usize {
        SIDE * SIDE
    }

    pub fn workspace(&self, capacity: usize, param_len: usize) -> Workspace {
        let n = capacity;
        let scratch = [self.conv2.col_len(n), self.incep1.scratch_len(n), self.incep2.scratch_len(n)].into_iter().max().unwrap_or(0);
        Workspace {
            capacity,
            col1: vec![0.0; self.conv1.col_len(n)],
            a1: vec![0.0; 10 * n * 24 * 24],
            p1: vec![0.0; 10 * n * 12 * 12],
            inc1: self.incep1.buffers(n),
            cat1: vec![0.0; OUT_CHANNELS * n * 12 * 12],
            col2: vec![0.0; self.conv2.col_len(n)],
            a2: vec![0.0; 20 * n * 8 * 8],
            p2: vec![0.0; 20 * n * 4 * 4],
            inc2: self.incep2.buffers(n),
            cat2: vec![0.0; OUT_CHANNELS * n * 4 * 4],
            features: vec![0.0; n * FEATURES],
            logits: vec![0.0; n * NUM_CLASSES],
            d_logits: vec![0.0; n * NUM_CLASSES],
            d_features: vec![0.0; n * FEATURES],
            d_cat2: vec![0.0; OUT_CHANNELS * n * 4 * 4],
            d_p2: vec![0.0; 20 * n * 4 * 4],
            d_a2: vec![0.0; 20 * n * 8 * 8],
            d_cat1: vec![0.0; OUT_CHANNELS * n * 12 * 12],
            d_p1: vec![0.0; 10 * n * 12 * 12],
            d_a1: vec![0.0; 10 * n * 24 * 24],
            scratch: vec![0.0; scratch],
            grads: vec![0.0; param_len],
            loss_sum: 0.0,
        }
    }

    /// Logits of `n` normalized images (n × 28 × 28, which is also their
    /// channel-major layout) into `ws.logits`.
    pub fn forward(&self, params: &[f32], images: &[f32], ws: &mut Workspace, n: usize) {
        debug_assert!(n <= ws.capacity);
        self.conv1.forward(params, images, &mut ws.col1, &mut ws.a1, n);
        max_pool2x2_relu_planes(&ws.a1[..10 * n * 576], &mut ws.p1, 24, 24);
        self.incep1.forward(params, &ws.p1, &mut ws.cat1, &mut ws.inc1, n);
        self.conv2.forward(params, &ws.cat1, &mut ws.col2, &mut ws.a2, n);
        max_pool2x2_relu_planes(&ws.a2[..20 * n * 64], &mut ws.p2, 8, 8);
        self.incep2.forward(params, &ws.p2, &mut ws.cat2, &mut ws.inc2, n);
        // Flatten as PyTorch does: image by image, channel-major within each.
        for (c, channel) in ws.cat2[..OUT_CHANNELS * n * 16].chunks_exact(n * 16).enumerate() {
            for (i, pixels) in channel.chunks_exact(16).enumerate() {
                ws.features[i * FEATURES + c * 16..][..16].copy_from_slice(pixels);
            }
        }
        let (weight, bias) = self.fc.weight_bias(params, NUM_CLASSES);
        let logits = &mut ws.logits[..n * NUM_CLASSES];
        logits.chunks_exact_mut(NUM_CLASSES).for_each(|row| row.copy_from_slice(bias));
        gemm(logits, Op::N(&ws.features), Op::T(weight), n, NUM_CLASSES, FEATURES, true);
    }

    /// Forward and backward over `n` images with `labels`: adds the gradient
    /// of `loss_scale` × (sum of their cross-entropies) to `ws.grads` and
    /// the plain sum to `ws.loss_sum`.
    pub fn accumulate_gradients(&self, params: &[f32], images: &[f32], labels: &[u32], ws: &mut Workspace, n: usize, loss_scale: f32) {
        self.forward(params, images, ws, n);
        let logits = &ws.logits[..n * NUM_CLASSES];
        ws.loss_sum += cross_entropy_backward(logits, labels, NUM_CLASSES, loss_scale, &mut ws.d_logits) as f64;
        let d_logits = &ws.d_logits[..n * NUM_CLASSES];
        let grads = &mut ws.grads;

        let (weight, _) = self.fc.weight_bias(params, NUM_CLASSES);
        let (d_weight, d_bias) = self.fc.weight_bias_mut(grads, NUM_CLASSES);
        gemm(d_weight, Op::T(d_logits), Op::N(&ws.features), NUM_CLASSES, FEATURES, n, true);
        for row in d_logits.chunks_exact(NUM_CLASSES) {
            d_bias.iter_mut().zip(row).for_each(|(acc, g)| *acc += g);
        }
        gemm(&mut ws.d_features, Op::N(d_logits), Op::N(weight), n, FEATURES, NUM_CLASSES, false);
        for (c, channel) in ws.d_cat2[..OUT_CHANNELS * n * 16].chunks_exact_mut(n * 16).enumerate() {
            for (i, pixels) in channel.chunks_exact_mut(16).enumerate() {
                pixels.copy_from_slice(&ws.d_features[i * FEATURES + c * 16..][..16]);
            }
        }

        self.incep2.backward(params, grads, &ws.p2, &ws.d_cat2, Some(&mut ws.d_p2), &mut ws.scratch, &mut ws.inc2, n);
        max_pool2x2_relu_grad_planes(&ws.a2[..20 * n * 64], &ws.d_p2, &mut ws.d_a2, 8, 8);
        self.conv2.backward(params, grads, &ws.cat1, &ws.col2, &ws.d_a2, Some((&mut ws.d_cat1, &mut ws.scratch)), n);
        self.incep1.backward(params, grads, &ws.p1, &ws.d_cat1, Some(&mut ws.d_p1), &mut ws.scratch, &mut ws.inc1, n);
        max_pool2x2_relu_grad_planes(&ws.a1[..10 * n * 576], &ws.d_p1, &mut ws.d_a1, 24, 24);
        self.conv1.backward(params, grads, images, &ws.col1, &ws.d_a1, None, n);
    }
}
