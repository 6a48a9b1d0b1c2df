//! One image's forward pass shared by threads. Why: a batch splits into
//! one share per thread, but a single image (a `predict` of one) left
//! every core but one idle, and ONNX Runtime, which splits each operator
//! across its threads, answered a single ResNet image faster with two
//! threads than we did with one.
//!
//! Each step is cut into one part per thread: a window of its output
//! channels where each part gets whole vectors of them (a Winograd conv's
//! part still transforms its whole input, which every part needs), else,
//! for a conv, a band of its output rows, computed as a small image of its
//! own from the input rows they read (a 16-channel conv on AVX-512 would
//! leave half of each part's vectors empty); steps whose output is
//! image-major (the last pool and the linear layers) run whole on one
//! thread. The parts of a step run once every part of the steps before
//! it has finished. The threads claim parts in order from one counter, so
//! a thread that starts late (the pool busy, or asleep) only joins in
//! later and one thread alone still finishes the pass: nothing waits for
//! a part nobody has claimed.

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::conv::ConvLayer;
use super::elementwise::relu_in_place;
use super::plan::{Kind, Loc, Plan};
use super::steps::{forward_window, window_align, Pass, Shared, Workspace};

/// Most threads one image is split across: a step's channels split finer
/// than this would leave parts too small to pay for the wait between
/// steps. (Measured on 2 cores only; see docs/benchmarks.md.)
pub(crate) const MAX_PARTS: usize = 4;

/// A workspace's activations as raw buffers, which several threads read
/// and write at once: each step's parts write disjoint windows of its
/// output, and read only inputs that the steps before it finished.
pub(crate) struct Tensors<'a> {
    buffers: Vec<(*mut f32, usize)>,
    _workspace: PhantomData<&'a mut [f32]>,
}

// SAFETY: the pointers are the workspace's buffers, borrowed mutably for
// 'a; every access goes through `read` and `write`, whose callers keep
// threads off each other's floats (see `forward_part`).
unsafe impl Send for Tensors<'_> {}
// SAFETY: as for Send: shared between the threads of one pass, each
// touching only its own part's floats.
unsafe impl Sync for Tensors<'_> {}

impl<'a> Tensors<'a> {
    pub fn new(values: &'a mut [Vec<f32>]) -> Self {
        Tensors { buffers: values.iter_mut().map(|v| (v.as_mut_ptr(), v.len())).collect(), _workspace: PhantomData }
    }

    /// # Safety
    /// No thread writes these floats while the slice lives.
    unsafe fn read(&self, tensor: usize, range: Range<usize>) -> &[f32] {
        let (ptr, len) = self.buffers[tensor];
        assert!(range.start <= range.end && range.end <= len, "tensor range");
        // SAFETY: inside the buffer (asserted); no writer, as the caller guarantees.
        unsafe { std::slice::from_raw_parts(ptr.add(range.start), range.len()) }
    }

    /// # Safety
    /// No other thread reads or writes these floats while the slice lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn write(&self, tensor: usize, range: Range<usize>) -> &mut [f32] {
        let (ptr, len) = self.buffers[tensor];
        assert!(range.start <= range.end && range.end <= len, "tensor range");
        // SAFETY: inside the buffer (asserted); exclusive, as the caller guarantees.
        unsafe { std::slice::from_raw_parts_mut(ptr.add(range.start), range.len()) }
    }
}

/// Parts claimed and parts finished, over `steps` × `parts` parts in order.
struct Schedule {
    claimed: AtomicUsize,
    finished: AtomicUsize,
    steps: usize,
    parts: usize,
}

impl Schedule {
    /// Claims parts until none is left, running each with `run(step,
    /// part)` once the steps before it are finished.
    fn work(&self, mut run: impl FnMut(usize, usize)) {
        loop {
            let claim = self.claimed.fetch_add(1, Ordering::Relaxed);
            if claim >= self.steps * self.parts {
                return;
            }
            let (step, part) = (claim / self.parts, claim % self.parts);
            // Every part before this step's was claimed before this one, by
            // a running thread, and the first part of a step to start waits
            // for all of them: when `finished` reaches them, they are the
            // ones finished. Acquire: their writes are visible here.
            let mut spins = 0u32;
            while self.finished.load(Ordering::Acquire) < step * self.parts {
                spins += 1;
                if spins < 1 << 12 {
                    std::hint::spin_loop();
                } else {
                    // The other thread may have lost its core: let it have ours.
                    std::thread::yield_now();
                }
            }
            run(step, part);
            self.finished.fetch_add(1, Ordering::Release);
        }
    }
}

/// The forward pass of one image (loaded into `workspaces[0]`, chunk of
/// one) across `parts` threads, the first `parts` workspaces' scratch one
/// each; the logits end up in `workspaces[0]` as after
/// [`Workspace::forward`].
pub(crate) fn forward_one(plan: &Plan, shared: &Shared, workspaces: &mut [Workspace], parts: usize) {
    let (first, others) = workspaces.split_first_mut().expect("a workspace");
    let (tensors, scratch, band) = first.shared_parts();
    // The steps that do work, each with whether a folded batch norm's ReLU
    // follows on its output: each part then applies it to what it wrote,
    // one wait between steps fewer.
    let mut steps: Vec<(usize, bool)> = Vec::with_capacity(plan.steps.len());
    for i in 0..plan.steps.len() {
        match Pass::of(plan, shared, i) {
            Pass::Skip => {}
            Pass::Relu(out) => match steps.last_mut() {
                Some((last, relu @ false)) if matches!(Pass::of(plan, shared, *last), Pass::Run(o) if o == out) => *relu = true,
                _ => steps.push((i, false)),
            },
            Pass::Run(_) => steps.push((i, false)),
        }
    }
    let schedule = Schedule { claimed: AtomicUsize::new(0), finished: AtomicUsize::new(0), steps: steps.len(), parts };
    let (tensors, schedule) = (&tensors, &schedule);
    let job = Job { plan, shared, tensors, steps: &steps, parts, lanes: crate::cpu::isa().lanes() };
    rayon::in_place_scope(|scope| {
        for ws in others.iter_mut().take(parts - 1) {
            let (scratch, band) = ws.helper_parts();
            scope.spawn(move |_| schedule.work(|step, part| job.part(step, part, scratch, band)));
        }
        schedule.work(|step, part| job.part(step, part, scratch, band));
    });
}

/// What every thread of one image's pass shares.
#[derive(Clone, Copy)]
struct Job<'a> {
    plan: &'a Plan,
    shared: &'a Shared<'a>,
    tensors: &'a Tensors<'a>,
    /// The steps to run and whether a ReLU follows on their output.
    steps: &'a [(usize, bool)],
    parts: usize,
    /// Floats per vector of the kernels: a thread's window of a conv's
    /// channels narrower than this would leave its vectors part empty.
    lanes: usize,
}

/// Part `part` of `len` things cut into `parts` runs of whole multiples
/// of `align` (the last one ends at `len`).
fn cut(len: usize, align: usize, part: usize, parts: usize) -> Range<usize> {
    let units = len.div_ceil(align);
    let at = |p: usize| (units * p / parts * align).min(len);
    at(part)..at(part + 1)
}

impl Job<'_> {
    /// Part `part` of the `index`th step to run.
    fn part(&self, index: usize, part: usize, scratch: &mut [f32], band: &mut Vec<f32>) {
        let (i, relu) = self.steps[index];
        let step = &self.plan.steps[i];
        let out = match Pass::of(self.plan, self.shared, i) {
            Pass::Skip => return,
            Pass::Relu(out) => {
                let window = cut(out.rows, 1, part, self.parts);
                // SAFETY: this part alone touches `window` of `out` during step i.
                return relu_in_place(unsafe { self.tensors.write(out.tensor, out.window(1, &window)) });
            }
            Pass::Run(out) => out,
        };
        assert!(step.inputs.iter().all(|x| x.tensor != out.tensor), "a step reads the tensor it writes");
        if let Kind::Conv(conv) = &step.kind {
            // Channels where each part gets whole vectors of them, else
            // bands of output rows (a 16-channel conv on AVX-512).
            if conv.c_out >= self.parts * self.lanes.max(conv.window_align()) {
                return self.window(i, out, cut(conv.c_out, conv.window_align(), part, self.parts), relu, scratch);
            }
            if conv.out_h() >= 2 * self.parts {
                return self.rows(conv, step.inputs[0], out, cut(conv.out_h(), 1, part, self.parts), relu, scratch, band);
            }
        } else if window_align(step).is_some() {
            return self.window(i, out, cut(out.rows, 1, part, self.parts), relu, scratch);
        }
        if part == 0 {
            self.window(i, out, 0..out.rows, relu, scratch);
        }
    }

    /// Channels `window` of step i's output `out`, then their ReLU when `relu`.
    fn window(&self, i: usize, out: Loc, window: Range<usize>, relu: bool, scratch: &mut [f32]) {
        if window.is_empty() {
            return;
        }
        let step = &self.plan.steps[i];
        // SAFETY: this part alone writes `window` of `out` during step i
        // (the parts' windows are disjoint); its inputs are other tensors
        // (asserted by the caller), finished by the steps before it, which
        // the schedule ran first, and nobody writes them during step i.
        unsafe {
            let dst = self.tensors.write(out.tensor, out.window(1, &window));
            let x = |k: usize| self.tensors.read(step.inputs[k].tensor, step.inputs[k].range(1));
            forward_window(step, self.shared, &x, dst, scratch, 1, out, window);
            if relu {
                relu_in_place(dst);
            }
        }
    }

    /// Output rows `rows` of conv `conv` (input `x`, output `out`): the
    /// conv of the band of input rows they read, copied into `band`, as an
    /// image of its own; the rows it computes above them (whose window
    /// reached into the band's own zero padding) are dropped. Then their
    /// ReLU when `relu`.
    #[allow(clippy::too_many_arguments)]
    fn rows(&self, conv: &ConvLayer, x: Loc, out: Loc, rows: Range<usize>, relu: bool, scratch: &mut [f32], band: &mut Vec<f32>) {
        if rows.is_empty() {
            return;
        }
        let (s, pad, k, w) = (conv.stride, conv.pad, conv.k, conv.w);
        // Output rows computed above the band's first, so that its first
        // kept row reads real input rows (or the map's own padding).
        let above = pad.div_ceil(s).min(rows.start);
        let first = (rows.start - above) * s;
        let last = ((rows.end - 1) * s + k).saturating_sub(pad).min(conv.h);
        let sub = ConvLayer { h: last - first, ..conv.clone() };
        let (in_len, out_len) = (conv.c_in * sub.h * w, conv.c_out * sub.out_len(1));
        if band.len() < in_len + out_len {
            band.resize(in_len + out_len, 0.0);
        }
        let (input, output) = band.split_at_mut(in_len);
        let plane = conv.h * w;
        // SAFETY: the input is another tensor than the output, finished by
        // the steps before (see `window`); nobody writes it during this step.
        let x = unsafe { self.tensors.read(x.tensor, x.range(1)) };
        for (c, dst) in input.chunks_exact_mut(sub.h * w).enumerate() {
            dst.copy_from_slice(&x[c * plane + first * w..][..sub.h * w]);
        }
        let output = &mut output[..out_len];
        sub.forward(self.shared.params, self.shared.filters, input, output, scratch, 1, 0..conv.c_out);
        let (oh, ow, sub_plane) = (conv.out_h(), conv.out_w(), sub.out_len(1));
        for (c, computed) in output.chunks_exact(sub_plane).enumerate() {
            let at = (out.start + c) * oh * ow;
            // SAFETY: this part alone writes rows `rows` of every channel of `out` during this step.
            let dst = unsafe { self.tensors.write(out.tensor, at + rows.start * ow..at + rows.end * ow) };
            dst.copy_from_slice(&computed[above * ow..][..rows.len() * ow]);
            if relu {
                relu_in_place(dst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn windows_cover_the_channels_once_on_whole_units() {
        for (rows, align, parts) in [(16, 8, 2), (16, 16, 2), (20, 16, 2), (64, 8, 4), (6, 1, 4), (3, 1, 4), (10, 1, 1)] {
            let windows: Vec<_> = (0..parts).map(|p| cut(rows, align, p, parts)).collect();
            assert_eq!(windows.first().unwrap().start, 0);
            assert_eq!(windows.last().unwrap().end, rows);
            for pair in windows.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(pair[0].end % align == 0 || pair[0].end == rows, "{rows}/{align}/{parts}: {windows:?}");
            }
        }
    }
}
