//! This machine's single-precision GEMM peak on the path the engine runs:
//! the same `gemm` kernels (at the level [`crate::cpu::isa`] allows), one
//! product per thread on every thread at once, as the engine splits a
//! batch. Benchmarks divide the model's throughput by it
//! (`fractionOfPeak`), so a figure says how much of this machine it uses.

use std::time::Instant;

use super::gemm::{gemm, Op};

/// Side of the square products timed: large enough that the kernels, not
/// the packing, set the pace (1 MiB per matrix: the operand, read by every
/// thread as both factors, and each thread's product).
const SIDE: usize = 512;

/// Rounds timed; the best one is the peak.
const ROUNDS: usize = 5;

/// GFLOP/s of the best of [`ROUNDS`] rounds in which every engine thread
/// multiplies two [`SIDE`]² matrices `reps` times, `reps` chosen so that a
/// round lasts about 50 ms (half a second in all).
pub fn peak_gflops() -> f64 {
    // One operand for all threads (read only), made before any timing.
    let a: Vec<f32> = (0..SIDE * SIDE).map(|i| (i % 7) as f32 * 0.25 - 0.75).collect();
    let round = |reps: usize| -> f64 {
        let started = Instant::now();
        rayon::broadcast(|_| {
            let mut c = vec![0f32; SIDE * SIDE];
            for _ in 0..reps {
                gemm(&mut c, Op::N(&a), Op::T(&a), SIDE, SIDE, SIDE, false);
            }
            std::hint::black_box(&c);
        });
        started.elapsed().as_secs_f64()
    };
    let once = round(1);
    let reps = ((0.05 / once).ceil() as usize).clamp(1, 1000);
    let best = (0..ROUNDS).map(|_| round(reps)).fold(f64::INFINITY, f64::min);
    let flops = 2.0 * (SIDE * SIDE * SIDE * reps * rayon::current_num_threads()) as f64;
    flops / best / 1e9
}
