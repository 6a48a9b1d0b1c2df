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
  checkInteger,
  checkOptionsObject,
  checkPositive,
  checkSeed,
  checkSignal,
  checkUnitInterval,
} from './options.js'
import type { FitOptions, ProgressEvent } from './types.js'

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
}

/**
 * Validates the options of `fit` (also used by `train` before it loads data).
 * @throws TypeError or RangeError naming the first bad option
 * @internal
 */
export function resolveFitOptions(options: FitOptions | undefined, defaultSeed: number): ResolvedFit {
  const o = checkOptionsObject('options', options)
  checkCallback('onProgress', o.onProgress)
  return {
    epochs: checkInteger('epochs', o.epochs ?? FIT_DEFAULTS.epochs, 1),
    batchSize: checkInteger('batchSize', o.batchSize ?? FIT_DEFAULTS.batchSize, 1),
    lr: checkPositive('lr', o.lr ?? FIT_DEFAULTS.lr),
    momentum: checkUnitInterval('momentum', o.momentum ?? FIT_DEFAULTS.momentum),
    seed: checkSeed('seed', o.seed ?? defaultSeed),
    logEvery: checkInteger('logEvery', o.logEvery ?? FIT_DEFAULTS.logEvery, 1),
    validation: o.validation,
    signal: checkSignal('signal', o.signal),
    onProgress: o.onProgress,
  }
}
