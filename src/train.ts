/**
 * {@link train}: the whole reference job in one call.
 * @module
 */
import { resolveDevice } from './device.js'
import { abortError } from './errors.js'
import { loadMnist } from './mnist.js'
import { type ResolvedFit, resolveFitOptions } from './fit-options.js'
import type { Dataset } from './dataset.js'
import { Model } from './model.js'
import { FIT_DEFAULTS, checkInteger, checkOptionsObject, checkSeed } from './options.js'
import type { Device, FitOptions, ModelName, TrainingHistory } from './types.js'

/** Options of {@link train}: the fit options (less `validation`) plus where the data comes from. */
export interface TrainOptions extends Omit<FitOptions, 'validation'> {
  /** Default `'googlenet'`. */
  model?: ModelName
  /** Residual units per stage, for the `resnet` models only. */
  depth?: number
  /** Seeds initialization and shuffling; default 0. */
  seed?: number
  /** Default `'auto'`. */
  device?: Device
  /** MNIST-format folder; default the bundled MNIST (see {@link loadMnist}). */
  dir?: string
  /** Train on the first `limit` training images only; integer >= 1. */
  limit?: number
  /** Evaluate on the first `testLimit` test images only; integer >= 1. */
  testLimit?: number
}

/** What {@link train} resolves to. */
export interface TrainResult {
  /** The trained model. */
  model: Model
  /** Per-epoch results, evaluated on the test split. */
  history: TrainingHistory
}

/** A training job ready to fit: what {@link train} sets up before training. @internal */
export interface PreparedTraining {
  model: Model
  train: Dataset
  test: Dataset
  fit: ResolvedFit
}

/**
 * Validates the options (before any data is read), creates the model and
 * loads the data, applying `limit` and `testLimit`. Shared by {@link train}
 * and the CLI, which reports the model and data before fitting.
 * @internal
 */
export async function prepareTraining(options?: TrainOptions): Promise<PreparedTraining> {
  const o = checkOptionsObject('options', options)
  const seed = checkSeed('seed', o.seed ?? FIT_DEFAULTS.seed)
  const fit = resolveFitOptions({ ...o, seed }, seed)
  if (o.limit !== undefined) checkInteger('limit', o.limit, 1)
  if (o.testLimit !== undefined) checkInteger('testLimit', o.testLimit, 1)
  resolveDevice(o.device ?? 'auto')
  if (fit.signal?.aborted) throw abortError(fit.signal)

  const model = new Model(o.model ?? 'googlenet', { seed, device: o.device ?? 'auto', ...(o.depth === undefined ? {} : { depth: o.depth }) })
  const data = await loadMnist(o.dir === undefined ? {} : { dir: o.dir })
  if (fit.signal?.aborted) throw abortError(fit.signal)
  const train = o.limit === undefined ? data.train : data.train.take(o.limit)
  const test = o.testLimit === undefined ? data.test : data.test.take(o.testLimit)
  return { model, train, test, fit }
}

/**
 * Loads MNIST, creates a model and trains it, evaluating on the test split
 * after every epoch. With no options this is the reference recipe: googlenet,
 * 10 epochs, batch size 64, lr 0.01, momentum 0.5, seed 0.
 * @throws (rejects) TypeError/RangeError for bad options (before any data is read), data errors,
 *   or an `AbortError` when `signal` aborts
 */
export async function train(options?: TrainOptions): Promise<TrainResult> {
  const { model, train: trainSet, test, fit } = await prepareTraining(options)
  const history = await model.fit(trainSet, { ...fit, validation: test })
  return { model, history }
}
