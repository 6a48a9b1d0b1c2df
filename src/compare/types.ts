/**
 * The shapes of a comparison: its runs, the line each finished run leaves in
 * a results file, and the per-model summary the table and report show.
 * @module
 */
import type { ModelDescription } from '../describe/types.js'
import type { EpochRecord, FitRecipe } from '../types.js'

/** The settings every run of one comparison shares: runs with other settings are not compared. */
export interface RunSettings {
  /** Epochs each run trains. */
  epochs: number
  /** Residual units per stage of the models that take a depth; null: each model's default. */
  depth: number | null
  /** The recipe, every default applied, less the seed (each run has its own). */
  recipe: Omit<FitRecipe, 'seed' | 'epochs'>
  /** `limit` and `testLimit`: null for the whole split. */
  limit: number | null
  testLimit: number | null
  /** How a folder of images is read, as given (empty for IDX data). */
  folder: Record<string, number | boolean>
  /** Where the runs trained. */
  device: 'cpu' | 'cuda'
}

/** The data a run trained and was tested on. */
export interface RunData {
  /** Where it came from, as given (`MNIST (bundled)`, a folder, IDX files): shown, not compared, since paths differ between machines. */
  source: string
  /** Training and test images. */
  train: number
  test: number
  /** Channels, height, width. */
  shape: [number, number, number]
  classes: string[]
}

/** The machine a run trained on. */
export interface MachineInfo {
  /** The CPU's model name, as the OS reports it. */
  cpu: string
  /** The vector instructions the CPU kernels used (`baseline`, `avx2`, `avx512`); absent on a GPU. */
  isa?: string
  /** Threads the engine split each batch across. */
  threads: number
  /** Cores the OS offers this process. */
  cores: number
  /** `linux x64`, … */
  platform: string
  node: string
  /** `googlenet-native 0.1.0` */
  package: string
  /** The build of the addon: `cpu`, `cuda` or `wasm`. */
  binary: string
}

/**
 * One finished run: a line of a results file (JSON), and what
 * `compareModels` reports as each run finishes.
 */
export interface RunRecord {
  type: 'run'
  /** The format of this line; readers refuse a newer one. */
  version: 1
  /** The model's name in the comparison: a zoo name, or a description's `name`. */
  model: string
  seed: number
  /** Test accuracy after the last epoch, in [0, 1]. */
  testAccuracy: number
  /** The model's description (at its depth): what was trained, whatever its name. */
  description: ModelDescription
  /** Trainable parameters and multiply-accumulates per image. */
  params: number
  macs: number
  settings: RunSettings
  data: RunData
  /** The comparison this run belongs to, in its order (the table's order). */
  sweep: { models: string[]; seeds: number[] }
  /** One record per epoch, the test set evaluated after each. */
  history: EpochRecord[]
  machine: MachineInfo
  /** The epoch the run started from when it continued a checkpoint (0: trained from the start). */
  resumedAt: number
  /** When the run finished (ISO 8601). */
  finishedAt: string
}

/** A finished run in a results file, with where it was read from. */
export interface StoredRun {
  record: RunRecord
  /** `file:line`, for messages. */
  where: string
}

/** Welch's t-test of one model's final test errors against the first model's. */
export interface ErrorTest {
  /** The model compared against. */
  against: string
  /** Mean error difference, this model's minus the other's (a fraction). */
  difference: number
  t: number
  df: number
  /** Two-sided p-value. */
  p: number
  /** Whether it is significant at 0.05 after Holm's correction over the table's comparisons. */
  significant: boolean
}

/** One model's line of a comparison over seeds. */
export interface ModelComparison {
  model: string
  params: number
  macs: number
  /** The seeds of its finished runs, ascending. */
  seeds: number[]
  /** Final test error (1 − accuracy) over the seeds: mean, sample sd (NaN for one run) and 95 % t-interval (NaN for one run). */
  error: { mean: number; sd: number; low: number; high: number }
  /** The epoch whose mean test error over the seeds is lowest, and that error. */
  bestEpoch: { epoch: number; error: number }
  /** Mean training seconds per epoch over its runs (evaluation excluded). */
  secondsPerEpoch: number
  /** Against the first model; absent for the first model and where either has fewer than 2 runs. */
  test?: ErrorTest
  /** He et al. 2016's figure for the same residual unit, where the model is one of its five designs. */
  paper?: PaperFigure
  /** Test error after each epoch over the seeds: mean, sd, lowest and highest. */
  curve: { epoch: number; mean: number; sd: number; min: number; max: number }[]
}

/** A figure of He et al. 2016, "Identity Mappings in Deep Residual Networks", Table 2. */
export interface PaperFigure {
  /** `(a)` … `(e)`, as the paper labels the designs. */
  design: string
  /** Its name in the paper, e.g. `full pre-activation`. */
  name: string
  /** CIFAR-10 test error of ResNet-110 with that unit, in percent. */
  errorPercent: number
}

/** A comparison: its models in order, and how complete it is. */
export interface Comparison {
  models: ModelComparison[]
  /** Runs found, and runs the comparison consists of. */
  runs: number
  expected: number
  /** The (model, seed) runs not finished yet. */
  missing: { model: string; seed: number }[]
  settings: RunSettings
  data: RunData
  /** The machines the runs came from, with how many runs each. */
  machines: { machine: MachineInfo; runs: number }[]
}
