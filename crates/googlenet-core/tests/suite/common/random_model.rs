//! Random valid model descriptions, for the differential tests: every step
//! type and combinator of the format (conv2d, linear, batchNorm, relu,
//! maxPool, avgPool, globalAvgPool, flatten, sequential, concat, residual
//! with and without a shortcut), each reached by the shapes it accepts:
//! maps and features alike where a step takes both (relu, flatten,
//! residual), flatten after flatten, 1 to 16 class scores, 1 to 3 input
//! channels, sides of 4 to 14. Valid by construction: the generator tracks
//! the shape as it goes, so a description it makes that the lowering
//! refuses is its own bug, and the caller should say so.

use googlenet_core::model::spec::{Step, StepKind};
use googlenet_core::model::ModelSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One image's activation while a description is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Map { c: usize, h: usize, w: usize },
    Flat(usize),
}

pub struct RandomModels {
    rng: ChaCha8Rng,
    /// Layers named so far in the current description (names are `l0`, `l1`, …).
    layers: usize,
    /// Whether the last step of the current sequence is a batch norm.
    after_batch_norm: bool,
}

/// How deep combinators nest inside each other.
const MAX_NESTING: usize = 2;

impl RandomModels {
    pub fn new(seed: u64) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(seed), layers: 0, after_batch_norm: false }
    }

    /// The next description, and its class count.
    pub fn next_spec(&mut self) -> (ModelSpec, usize) {
        self.layers = 0;
        self.after_batch_norm = false;
        let c = self.rng.random_range(1..=3);
        let (h, w) = (self.rng.random_range(4..=14), self.rng.random_range(4..=14));
        let mut shape = Shape::Map { c, h, w };
        let mut steps = Vec::new();
        for _ in 0..self.rng.random_range(1..=4) {
            steps.push(self.any_step(&mut shape, 0));
        }
        if let Shape::Map { .. } = shape {
            steps.push(if self.rng.random_bool(0.5) { Step::flatten() } else { Step::global_avg_pool() });
            shape = self.after(shape, steps.last().unwrap());
        }
        for _ in 0..self.rng.random_range(0..=2) {
            steps.push(self.flat_step(&mut shape, 0));
        }
        let classes = self.rng.random_range(1..=16);
        steps.push(self.linear(classes));
        (ModelSpec { name: "random".into(), input: [c, h, w], layers: Step::sequential(steps) }, classes)
    }

    fn name(&mut self) -> String {
        self.layers += 1;
        format!("l{}", self.layers - 1)
    }

    fn linear(&mut self, out: usize) -> Step {
        let name = self.name();
        Step::linear(&name, out)
    }

    /// A step that takes `shape`, which it updates.
    fn any_step(&mut self, shape: &mut Shape, depth: usize) -> Step {
        match *shape {
            Shape::Map { .. } => self.map_step(shape, depth),
            Shape::Flat(_) => self.flat_step(shape, depth),
        }
    }

    /// A step on a map: any of those that take one, flat results included.
    fn map_step(&mut self, shape: &mut Shape, depth: usize) -> Step {
        let Shape::Map { c, h, w } = *shape else { unreachable!("a map") };
        let nest = depth < MAX_NESTING;
        let step = loop {
            match self.rng.random_range(0..10) {
                0 | 1 => {
                    let kernel = [1, 2, 3, 5][self.rng.random_range(0..4)];
                    let padding = self.rng.random_range(0..kernel);
                    if h + 2 * padding < kernel || w + 2 * padding < kernel {
                        continue;
                    }
                    let (out, stride) = (self.rng.random_range(1..=8), self.rng.random_range(1..=2));
                    let name = self.name();
                    break Step::conv2d(&name, out, kernel, stride, padding);
                }
                // A batch norm right after one cancels the first's γ and β
                // (their gradients are 0 up to rounding): nobody writes it.
                2 if !self.after_batch_norm => break Step::batch_norm(&self.name()),
                3 => break Step::relu(),
                4 => {
                    let kernel = self.rng.random_range(2..=3);
                    if h < kernel || w < kernel {
                        continue;
                    }
                    break Step::max_pool(kernel);
                }
                5 => {
                    let kernel = self.rng.random_range(2..=3);
                    if self.rng.random_bool(0.5) {
                        break Step::avg_pool(3, 1, 1);
                    } else if h >= kernel && w >= kernel {
                        break Step::avg_pool(kernel, kernel, 0);
                    }
                }
                6 if nest => break self.concat(c, h, w, depth),
                7 if nest => break self.residual(*shape, depth),
                8 => break Step::flatten(),
                9 => break Step::global_avg_pool(),
                _ => {}
            }
        };
        *shape = self.after(*shape, &step);
        self.after_batch_norm = matches!(step.kind, StepKind::BatchNorm);
        step
    }

    /// A step that keeps a map's height and width (a branch of a concatenation).
    fn same_size_step(&mut self, c: usize, h: usize, w: usize, depth: usize) -> (Step, usize) {
        match self.rng.random_range(0..6) {
            0 | 1 => {
                let kernel = [1, 3, 5][self.rng.random_range(0..3)];
                let out = self.rng.random_range(1..=8);
                (Step::conv2d(&self.name(), out, kernel, 1, kernel / 2), out)
            }
            2 => (Step::avg_pool(3, 1, 1), c),
            3 => (Step::relu(), c),
            4 if !self.after_batch_norm => (Step::batch_norm(&self.name()), c),
            _ if depth < MAX_NESTING => {
                let step = self.concat(c, h, w, depth);
                let Shape::Map { c, .. } = self.after(Shape::Map { c, h, w }, &step) else { unreachable!("a concatenation gives a map") };
                (step, c)
            }
            _ => (Step::relu(), c),
        }
    }

    /// One step or a sequence of them that keep the height and width.
    fn branch(&mut self, c: usize, h: usize, w: usize, depth: usize) -> (Step, usize) {
        let mut steps = Vec::new();
        let mut channels = c;
        for _ in 0..self.rng.random_range(1..=3) {
            let (step, out) = self.same_size_step(channels, h, w, depth);
            self.after_batch_norm = matches!(step.kind, StepKind::BatchNorm);
            steps.push(step);
            channels = out;
        }
        self.after_batch_norm = false;
        let step = if steps.len() == 1 { steps.pop().unwrap() } else { Step::sequential(steps) };
        (step, channels)
    }

    fn concat(&mut self, c: usize, h: usize, w: usize, depth: usize) -> Step {
        let branches = (0..self.rng.random_range(2..=3)).map(|_| self.branch(c, h, w, depth + 1).0).collect();
        Step::concat(branches)
    }

    /// A residual unit around `shape`: a body that keeps it, or one that
    /// changes it (a strided or widening conv) with a shortcut that
    /// changes it the same way.
    fn residual(&mut self, shape: Shape, depth: usize) -> Step {
        match shape {
            Shape::Map { c, h, w } => {
                if self.rng.random_bool(0.5) {
                    // Keeps the shape: the last step gives c channels.
                    let (body, out) = self.branch(c, h, w, depth + 1);
                    let body = if out == c {
                        body
                    } else {
                        let project = Step::conv2d(&self.name(), c, 1, 1, 0);
                        Step::sequential(vec![body, project])
                    };
                    Step::residual(body, None)
                } else {
                    let (out, stride) = (self.rng.random_range(1..=8), self.rng.random_range(1..=2));
                    let kernel = [1, 3][self.rng.random_range(0..2)];
                    let mut body = vec![Step::conv2d(&self.name(), out, kernel, stride, kernel / 2)];
                    if self.rng.random_bool(0.5) {
                        body.push(Step::relu());
                    }
                    let shortcut = Step::conv2d(&self.name(), out, 1, stride, 0);
                    Step::residual(Step::sequential(body), Some(shortcut))
                }
            }
            Shape::Flat(f) => {
                let hidden = self.rng.random_range(1..=12);
                let mut body = vec![self.linear(hidden)];
                body.push(Step::relu());
                body.push(self.linear(f));
                // A projection of many features would be large: small ones only.
                let shortcut = (f <= 64 && self.rng.random_bool(0.3)).then(|| self.linear(f));
                Step::residual(Step::sequential(body), shortcut)
            }
        }
    }

    /// A step on features: linear, relu, flatten (which changes nothing
    /// there), or a residual unit of linear layers.
    fn flat_step(&mut self, shape: &mut Shape, depth: usize) -> Step {
        let features = self.rng.random_range(1..=12);
        let step = match self.rng.random_range(0..5) {
            0 | 1 => self.linear(features),
            2 => Step::relu(),
            3 => Step::flatten(),
            _ if depth < MAX_NESTING => self.residual(*shape, depth),
            _ => Step::relu(),
        };
        *shape = self.after(*shape, &step);
        step
    }

    /// The shape `step` gives for `shape`.
    fn after(&self, shape: Shape, step: &Step) -> Shape {
        let out = |len: usize, kernel: usize, stride: usize, padding: usize| (len + 2 * padding - kernel) / stride + 1;
        match (&step.kind, shape) {
            (StepKind::Conv2d { out_channels, kernel, stride, padding }, Shape::Map { h, w, .. }) => {
                Shape::Map { c: *out_channels, h: out(h, *kernel, *stride, *padding), w: out(w, *kernel, *stride, *padding) }
            }
            (StepKind::MaxPool { kernel, stride }, Shape::Map { c, h, w }) => {
                Shape::Map { c, h: out(h, *kernel, *stride, 0), w: out(w, *kernel, *stride, 0) }
            }
            (StepKind::AvgPool { kernel, stride, padding }, Shape::Map { c, h, w }) => {
                Shape::Map { c, h: out(h, *kernel, *stride, *padding), w: out(w, *kernel, *stride, *padding) }
            }
            (StepKind::Linear { out_features }, Shape::Flat(_)) => Shape::Flat(*out_features),
            (StepKind::BatchNorm | StepKind::Relu, s) => s,
            (StepKind::GlobalAvgPool, Shape::Map { c, .. }) => Shape::Flat(c),
            (StepKind::Flatten, Shape::Map { c, h, w }) => Shape::Flat(c * h * w),
            (StepKind::Flatten, s) => s,
            (StepKind::Sequential(steps), s) => steps.iter().fold(s, |s, step| self.after(s, step)),
            (StepKind::Concat(branches), s) => {
                let maps: Vec<Shape> = branches.iter().map(|b| self.after(s, b)).collect();
                let channels =
                    maps.iter().map(|m| if let Shape::Map { c, .. } = m { *c } else { unreachable!("branches keep maps") }).sum();
                let Shape::Map { h, w, .. } = maps[0] else { unreachable!("branches keep maps") };
                Shape::Map { c: channels, h, w }
            }
            (StepKind::Residual { body, .. }, s) => self.after(s, body),
            (kind, s) => unreachable!("the generator never puts {kind:?} after {s:?}"),
        }
    }
}
