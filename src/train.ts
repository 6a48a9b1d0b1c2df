/**
 * {@link train}: the whole reference job in one call.
 * @module
 */
import { dirname } from 'node:path'
import { checkModelName } from './catalog.js'
import { type ModelSource, checkDescription } from './describe/source.js'
import { resolveDevice } from './device.js'
import { abortError } from './errors.js'
import { type IdxFiles, loadData } from './data.js'
import type { SkippedFile } from './folder.js'
import { type ResolvedFit, resolveFitOptions } from './fit-options.js'
import type { Dataset } from './dataset.js'
import { Model } from './model.js'
import { nativeBinding } from './native.js'
import { FIT_DEFAULTS, checkInteger, checkOptions, checkOptionsObject } from './options.js'
import type { CheckpointInfo, DataSettings, Device, FitOptions, FolderSettings, TrainingHistory } from './types.js'

/** Options of {@link train}: the fit options (less `validation`) plus where the data comes from. */
export interface TrainOptions extends Omit<FitOptions, 'validation' | 'resume'>, DataSettings, FolderSettings {
  /**
   * A zoo name, or a description of one's own (see {@link network},
   * {@link descriptions}); default: {@link defaultModel}.
   */
  model?: ModelSource
  /** Residual units per stage, for the models that take a depth (the ResNets; see {@link models}). */
  depth?: number
  /** Seeds initialization and shuffling; default 0. */
  seed?: number
  /** Default `'auto'`. */
  device?: Device
  /** MNIST-format folder; default the bundled MNIST (see {@link loadData}). */
  dir?: string
  /** IDX files under other names, instead of `dir` (see {@link IdxFiles}). */
  files?: IdxFiles
  /** Hears how far decoding a folder of images got (see {@link Dataset.fromFolder}). */
  onDataProgress?: (done: number, total: number) => void
  /**
   * Continue the run of this checkpoint (a file, or a folder whose furthest
   * checkpoint is taken; see {@link Model.loadCheckpoint}). The model and
   * recipe come from it; `epochs` may be raised. The data must be the same
   * (same `dir` and `limit`). Checkpoints go on being written to its folder
   * unless `checkpointDir` says otherwise.
   */
  resume?: string
}

/** What {@link train} resolves to. */
export interface TrainResult {
  /** The trained model. */
  model: Model
  /** Per-epoch results, evaluated on the test split. */
  history: TrainingHistory
  /** Files a folder of images left out, with why (see {@link Dataset.fromFolder}); empty for IDX. */
  skipped: SkippedFile[]
}

/** A training job ready to fit: what {@link train} sets up before training. @internal */
export interface PreparedTraining {
  model: Model
  train: Dataset
  test: Dataset
  fit: ResolvedFit
  /** Whether `fit` continues the model's checkpoint. */
  resume: boolean
  /** Files a folder of images left out, with why (none for IDX). */
  skipped: SkippedFile[]
}

/**
 * Validates the options (before any data is read), creates the model and
 * loads the data, applying `limit` and `testLimit`. Shared by {@link train}
 * and the CLI, which reports the model and data before fitting.
 * @internal
 */
export async function prepareTraining(options?: TrainOptions): Promise<PreparedTraining> {
  const o = checkOptionsObject('options', options)
  if (o.resume !== undefined) return prepareResumed(o.resume, o)
  // The seed of the model and of its shuffle: fit's rule checks it.
  const seed = o.seed ?? FIT_DEFAULTS.seed
  const { resume: _, ...fitOptions } = o
  const fit = resolveFitOptions({ ...fitOptions, seed }, seed)
  checkDataOptions(o)
  if (fit.signal?.aborted) throw abortError(fit.signal)

  const modelOptions = { seed, device: o.device, ...(o.depth === undefined ? {} : { depth: o.depth }) }
  // Made once without data, so that a bad model is refused before any data is read.
  new Model(o.model, modelOptions)
  const data = await loadSplits(o, fit)
  // Made for the data: its image shape, its classes and their names, its pixel statistics.
  const model = new Model(o.model, { ...modelOptions, data: data.all })
  return { model, train: data.train, test: data.test, fit, resume: false, skipped: data.skipped }
}

function checkDataOptions(o: Partial<TrainOptions>): void {
  checkOptions('data', o)
  resolveDevice(o.device)
}

/** The splits `o` names, cut to `limit` and `testLimit`; `all` is the whole training split. */
async function loadSplits(
  o: Partial<TrainOptions>,
  fit: ResolvedFit,
): Promise<{ train: Dataset; test: Dataset; all: Dataset; skipped: SkippedFile[] }> {
  const { dir, files, testSplit, splitSeed, channels, height, width, strict, onDataProgress } = o
  const folder = { testSplit, splitSeed, channels, height, width, strict, onProgress: onDataProgress }
  const data = await loadData({ ...(dir === undefined ? {} : { dir }), ...(files === undefined ? {} : { files }), ...folder })
  if (fit.signal?.aborted) throw abortError(fit.signal)
  if (data.test.length === 0) {
    throw new RangeError('testSplit 0 holds no image out for testing: train evaluates on the test split after every epoch')
  }
  const train = o.limit === undefined ? data.train : data.train.take(o.limit)
  const test = o.testLimit === undefined ? data.test : data.test.take(o.testLimit)
  return { train, test, all: data.train, skipped: data.skipped }
}

/** {@link prepareTraining} for a run continued from the checkpoint at `path`. */
async function prepareResumed(path: unknown, o: Partial<TrainOptions>): Promise<PreparedTraining> {
  if (typeof path !== 'string' || path === '') throw new TypeError('resume must name a checkpoint file or folder')
  checkDataOptions(o)
  const model = await Model.loadCheckpoint(path, { device: o.device })
  const checkpoint = model.checkpoint as CheckpointInfo
  // The core's rule: the model (by any of its names) and depth are the checkpoint's.
  const asked = o.model === undefined || typeof o.model === 'object' ? null : checkModelName(o.model)
  if (typeof o.model === 'object' && JSON.stringify(checkDescription(o.model)) !== JSON.stringify(model.description)) {
    throw new RangeError(`the model's description differs from the checkpoint's ${model.name}`)
  }
  const depth = o.depth === undefined ? null : checkInteger('depth', o.depth, 0)
  nativeBinding().checkResumedModel(asked, depth, model.name, model.depth ?? null)
  // Checkpoints go on into the folder the run came from.
  const checkpointDir = o.checkpointDir ?? dirname(checkpoint.path)
  const { resume: _, ...fitOptions } = o
  const fit = resolveFitOptions({ ...fitOptions, checkpointDir }, checkpoint.recipe.seed, checkpoint.recipe)
  // Model.fit checks that the run can go on (epochs left, the same training set size).
  const { train, test, skipped } = await loadSplits(o, fit)
  return { model, train, test, fit, resume: true, skipped }
}

/**
 * Loads MNIST, creates a model and trains it, evaluating on the test split
 * after every epoch. With no options this is the reference recipe: the
 * default model ({@link defaultModel}) with {@link FIT_DEFAULTS}.
 * @throws (rejects) TypeError/RangeError for bad options (before any data is read), data errors,
 *   or an `AbortError` when `signal` aborts
 */
export async function train(options?: TrainOptions): Promise<TrainResult> {
  const { model, train: trainSet, test, fit, resume, skipped } = await prepareTraining(options)
  const history = await model.fit(trainSet, { ...fit, validation: test, resume })
  return { model, history, skipped }
}
