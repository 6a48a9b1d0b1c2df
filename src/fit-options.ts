/**
 * The options of `Model.fit` and `train`: those the core declares go to it
 * to be checked and resolved (defaults, rules, what fits together); the
 * rest (callbacks, the validation set, checkpoints) are this layer's own.
 * @internal
 * @module
 */
import type { Dataset } from './dataset.js'
import { FIT_DEFAULTS, checkCallback, checkOptionsObject, checkSignal, declaredOptions, optionsOf, recipeOf } from './options.js'
import { nativeBinding } from './native.js'
import type { FitOptions, FitRecipe, ProgressEvent } from './types.js'

/** Validated fit options, with defaults applied. */
export interface ResolvedFit extends FitRecipe {
  logEvery: number
  validation: Dataset | undefined
  signal: AbortSignal | undefined
  onProgress: ((event: ProgressEvent) => void) | undefined
  checkpointDir?: string
  startOver?: boolean
}

/** The recipe settings a checkpoint keeps, by name (`optimizer`, `lr`, …), as the core declares them. */
const RECIPE_SETTINGS: ReadonlySet<string> = new Set(optionsOf('fit').flatMap((s) => (s.recipe ? [s.name] : [])))

/**
 * The recipe of the `given` fit options on top of `resumed`'s settings
 * (when the optimizer and schedule are the same: with others, the core
 * refuses the run as another recipe), every default applied by the core.
 * @throws {@link OptionError} or RangeError with the core's message for options it refuses
 */
export function resolveRecipe(given: Record<string, unknown>, resumed?: FitRecipe): FitRecipe {
  const carried: Record<string, unknown> = {}
  if (resumed) {
    const same = (given.optimizer ?? resumed.optimizer) === resumed.optimizer && (given.schedule ?? resumed.schedule) === resumed.schedule
    for (const [name, value] of Object.entries(resumed)) {
      if (same || !RECIPE_SETTINGS.has(name)) carried[name] = value
    }
  }
  return recipeOf(nativeBinding().resolveFitRecipe({ ...carried, ...given }))
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
  const given = declaredOptions('fit', o)
  const { logEvery = FIT_DEFAULTS.logEvery, ...settings } = given
  const recipe = resolveRecipe({ ...(resumed ? {} : { seed: defaultSeed }), ...settings, logEvery }, resumed)
  const fit: ResolvedFit = {
    ...recipe,
    logEvery: logEvery as number,
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
  if (resumed) nativeBinding().checkResumedRecipe({ ...recipe }, { ...resumed })
  return fit
}

/** The recipe part of resolved options: what the addon's `fit` takes. */
export function recipeOfFit(fit: ResolvedFit): FitRecipe {
  const { logEvery: _l, validation: _v, signal: _s, onProgress: _o, checkpointDir: _c, startOver: _so, ...recipe } = fit
  return recipe
}
