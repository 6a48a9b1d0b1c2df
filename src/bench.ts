/**
 * {@link benchmark}: steady-state training and inference throughput.
 * @module
 */
import { nativeDataset } from './dataset.js'
import { resolveDevice } from './device.js'
import { loadMnist } from './mnist.js'
import { modelEntry } from './catalog.js'
import { type ModelSource, checkSourceDepth, resolveSource, sourceOrDefault } from './describe/source.js'
import { loadedBinary, nativeBinding } from './native.js'
import { BENCH_DEFAULTS, checkOptions, checkOptionsObject } from './options.js'
import type { BenchSettings, Device } from './types.js'

/** Options of {@link benchmark}: the core's {@link BenchSettings} and these. */
export interface BenchmarkOptions extends BenchSettings {
  /** A zoo name or a description of one's own (see {@link network}); default: {@link defaultModel}. */
  model?: ModelSource
  /** Residual units per stage, for the models that take a depth (the ResNets); default theirs. */
  depth?: number
  /** Default `'auto'`. */
  device?: Device
  /** MNIST-format folder whose training split feeds the batches; default the bundled MNIST. */
  dir?: string
}

/** What {@link benchmark} measured. */
export interface BenchmarkResult {
  /** The model's name (a description's `name`). */
  /** A zoo model's name, or a description's. */
  model: string
  /** The depth timed, for the models that take one. */
  depth?: number
  device: 'cpu' | 'cuda'
  /** The build of the addon that ran: native (`cpu`, `cuda`) or WebAssembly (`wasm`; `npm run build:wasm`). */
  binary: 'cpu' | 'cuda' | 'wasm'
  batchSize: number
  batches: number
  /** Forward, backward and SGD step (with batch assembly), as in `fit`. */
  trainImagesPerSec: number
  /** Forward pass and arg-max, no gradients. */
  inferImagesPerSec: number
  /**
   * Milliseconds per single-image prediction, timed call by call through
   * the path `Model.predict` and `predict` take (bytes in,
   * normalization, forward pass, softmax): the median and the 99th
   * percentile of `calls` calls; absent with `latencyCalls: 0`. Made in
   * Rust, so the crossing into and out of JS is not in it.
   */
  latency?: { calls: number; medianMs: number; p99Ms: number }
  /** Peak resident memory of this process so far, in MiB (the addon's memory included). */
  peakRssMiB: number
  /**
   * Nominal GFLOP/s: the model's multiply-accumulates per image (its
   * summary's total) × 2 FLOPs, × 3 for training (forward, input gradient,
   * weight gradient), times images per second. Kernels that need fewer
   * operations (Winograd) count as if they did not.
   */
  gflops: { train: number; infer: number }
  /** CPU only: the vector instructions our kernels used (`GOOGLENET_NATIVE_CPU` caps them). */
  isa?: CpuIsa
  /** CPU only: threads the engine split each batch across (`GOOGLENET_NATIVE_THREADS`). */
  threads?: number
  /**
   * CPU only: this machine's single-precision GEMM peak in GFLOP/s, measured
   * after the timings (half a second) with the same kernels and threads.
   */
  peakGflops?: number
  /** CPU only: {@link BenchmarkResult.gflops} over {@link BenchmarkResult.peakGflops}. */
  fractionOfPeak?: { train: number; infer: number }
}

/** Vector instruction sets of the CPU kernels, widest last. */
export type CpuIsa = 'baseline' | 'avx2' | 'avx512'

/**
 * Times training and inference of a fresh model (seed 1) on consecutive
 * batches of MNIST's training split, off the event loop. A measurement, not
 * a test: run it on a quiet machine and compare ratios measured back to back.
 */
export async function benchmark(options?: BenchmarkOptions): Promise<BenchmarkResult> {
  const o = checkOptionsObject('options', options)
  const resolved = resolveSource(sourceOrDefault(o.model))
  const depth = checkSourceDepth(resolved, o.depth)
  const { arg, description } = resolved
  const model = description?.name ?? arg
  checkOptions('bench', o)
  const {
    batchSize = BENCH_DEFAULTS.batchSize,
    batches = BENCH_DEFAULTS.batches,
    warmup = BENCH_DEFAULTS.warmup,
    latencyCalls = BENCH_DEFAULTS.latencyCalls,
  } = o
  const device = resolveDevice(o.device)
  const { train } = await loadMnist(o.dir === undefined ? {} : { dir: o.dir })
  const r = await nativeBinding().benchmarkModel(arg, nativeDataset(train, 'train'), { device, depth, batchSize, batches, warmup, latencyCalls })
  const timedDepth = description ? undefined : (depth ?? modelEntry(arg).depth?.default)
  return {
    model,
    ...(timedDepth === undefined ? {} : { depth: timedDepth }),
    device,
    binary: loadedBinary().kind,
    batchSize,
    batches,
    trainImagesPerSec: r.trainImagesPerSec,
    inferImagesPerSec: r.inferImagesPerSec,
    ...(r.latency === undefined || r.latency === null ? {} : { latency: r.latency }),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    gflops: { train: r.trainGflops, infer: r.inferGflops },
    ...(r.cpu === undefined || r.cpu === null
      ? {}
      : {
          isa: r.cpu.isa as CpuIsa,
          threads: r.cpu.threads,
          peakGflops: r.cpu.peakGflops,
          fractionOfPeak: { train: r.trainGflops / r.cpu.peakGflops, infer: r.inferGflops / r.cpu.peakGflops },
        }),
  }
}
