/**
 * Validation of the options of `Model.fit` and `train`, with the reference
 * recipe's defaults.
 * @internal
 * @module
 */
import type { Dataset } from './dataset.js'
import {
  FIT_DEFAULTS,
  checkCallback,
  checkBatchSize,
  checkInteger,
  checkLearningRate,
  checkMomentum,
  checkOptionsObject,
  checkSeed,
  checkSignal,
} from './options.js'
import { nativeBinding } from './native.js'
import type { FitOptions, FitRecipe, ProgressEvent } from './types.js'

/** Validated fit options, with defaults applied. */
export interface ResolvedFit {
  epochs: number
  batchSize: number
  lr: number
  momentum: number
  seed: number
  logEvery: number
  validation: Dataset | undefined
  signal: AbortSignal | undefined
  onProgress: ((event: ProgressEvent) => void) | undefined
  checkpointDir?: string
  startOver?: boolean
}

/**
 * Validates the options of `fit` (also used by `train` before it loads data).
 * @param resumed - the recipe of the run being resumed: it supplies the
 *   defaults, and options that contradict it (all but `epochs`) are refused
 * @throws TypeError or RangeError naming the first bad option
 * @internal
 */
export function resolveFitOptions(options: FitOptions | undefined, defaultSeed: number, resumed?: FitRecipe): ResolvedFit {
  const o = checkOptionsObject('options', options)
  checkCallback('onProgress', o.onProgress)
  const fit: ResolvedFit = {
    epochs: checkInteger('epochs', o.epochs ?? resumed?.epochs ?? FIT_DEFAULTS.epochs, 1),
    batchSize: checkBatchSize('batchSize', o.batchSize ?? resumed?.batchSize ?? FIT_DEFAULTS.batchSize),
    lr: checkLearningRate('lr', o.lr ?? resumed?.lr ?? FIT_DEFAULTS.lr),
    momentum: checkMomentum('momentum', o.momentum ?? resumed?.momentum ?? FIT_DEFAULTS.momentum),
    seed: checkSeed('seed', o.seed ?? resumed?.seed ?? defaultSeed),
    logEvery: checkInteger('logEvery', o.logEvery ?? FIT_DEFAULTS.logEvery, 1),
    validation: o.validation,
    signal: checkSignal('signal', o.signal),
    onProgress: o.onProgress,
  }
  if (o.checkpointDir !== undefined) {
    if (typeof o.checkpointDir !== 'string' || o.checkpointDir === '') throw new TypeError('checkpointDir must be a non-empty string')
    fit.checkpointDir = o.checkpointDir
  }
  if (o.startOver !== undefined) {
    if (typeof o.startOver !== 'boolean') throw new TypeError('startOver must be a boolean')
    if (o.startOver && fit.checkpointDir === undefined) throw new TypeError('startOver needs checkpointDir')
    fit.startOver = o.startOver
  }
  // The core's rule: a resumed run keeps its recipe (all but epochs).
  if (resumed) nativeBinding().checkResumedRecipe(fit, resumed)
  return fit
}
