/**
 * Validation of the options of `Model.fit` and `train`, with the reference
 * recipe's defaults.
 * @internal
 * @module
 */
import type { Dataset } from './dataset.js'
import {
  FIT_DEFAULTS,
  type RecipeNumber,
  checkBoolean,
  checkCallback,
  checkBatchSize,
  checkChoice,
  checkFitSetting,
  checkInteger,
  checkOptionsObject,
  checkSeed,
  checkSignal,
  recipeOf,
} from './options.js'
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

/** The optimizer and schedule options, as given (the rest take their defaults in the core). */
export type RecipeOptions = Pick<
  FitOptions,
  | 'optimizer'
  | 'lr'
  | 'momentum'
  | 'nesterov'
  | 'weightDecay'
  | 'beta1'
  | 'beta2'
  | 'eps'
  | 'schedule'
  | 'stepEpochs'
  | 'stepGamma'
  | 'warmupEpochs'
  | 'warmupStartFactor'
>

/** The numeric recipe options, each checked by the core's rule of the same name. */
const RECIPE_NUMBERS: readonly RecipeNumber[] = ['lr', 'momentum', 'weightDecay', 'beta1', 'beta2', 'eps', 'stepGamma', 'warmupStartFactor']

/** The whole-number recipe options and their least values. */
const RECIPE_COUNTS = [
  ['stepEpochs', 1],
  ['warmupEpochs', 0],
] as const

/**
 * Checks the type (and, for numbers, the core's rule) of each recipe option
 * given; returns those given. Whether they fit together (`momentum` with
 * Adam, a warm-up as long as the run) is the core's to say.
 * @param name - how to show an option in a message (the CLI shows its flag)
 * @throws TypeError or RangeError naming the first bad option
 */
export function checkRecipeOptions(o: Partial<RecipeOptions>, name: (option: keyof RecipeOptions) => string = (option) => option): RecipeOptions {
  const given: RecipeOptions = {}
  const { optimizers, schedules } = nativeBinding().fitChoices()
  if (o.optimizer !== undefined) given.optimizer = checkChoice(name('optimizer'), o.optimizer, optimizers)
  if (o.schedule !== undefined) given.schedule = checkChoice(name('schedule'), o.schedule, schedules)
  for (const setting of RECIPE_NUMBERS) {
    if (o[setting] !== undefined) given[setting] = checkFitSetting(setting, name(setting), o[setting])
  }
  for (const [setting, min] of RECIPE_COUNTS) {
    if (o[setting] !== undefined) given[setting] = checkInteger(name(setting), o[setting], min)
  }
  if (o.nesterov !== undefined) given.nesterov = checkBoolean(name('nesterov'), o.nesterov)
  return given
}

/**
 * The recipe of `given` settings on top of `resumed`'s (when the optimizer
 * and schedule are the same: with others, the core refuses the run as
 * another recipe), every default applied by the core.
 * @throws RangeError with the core's message for settings that do not fit together
 */
export function resolveRecipe(base: Pick<FitRecipe, 'epochs' | 'batchSize' | 'seed'>, given: RecipeOptions, resumed?: FitRecipe): FitRecipe {
  const same = resumed && (given.optimizer ?? resumed.optimizer) === resumed.optimizer && (given.schedule ?? resumed.schedule) === resumed.schedule
  const { epochs: _e, batchSize: _b, seed: _s, ...carried } = same ? resumed : ({} as Partial<FitRecipe>)
  return recipeOf(nativeBinding().resolveFitRecipe({ ...carried, ...given, ...base }))
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
  const base = {
    epochs: checkInteger('epochs', o.epochs ?? resumed?.epochs ?? FIT_DEFAULTS.epochs, 1),
    batchSize: checkBatchSize('batchSize', o.batchSize ?? resumed?.batchSize ?? FIT_DEFAULTS.batchSize),
    seed: checkSeed('seed', o.seed ?? resumed?.seed ?? defaultSeed),
  }
  const recipe = resolveRecipe(base, checkRecipeOptions(o), resumed)
  const fit: ResolvedFit = {
    ...recipe,
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
  if (resumed) nativeBinding().checkResumedRecipe(recipe, resumed)
  return fit
}

/** The recipe part of resolved options: what the addon's `fit` takes. */
export function recipeOfFit(fit: ResolvedFit): FitRecipe {
  const { logEvery: _l, validation: _v, signal: _s, onProgress: _o, checkpointDir: _c, startOver: _so, ...recipe } = fit
  return recipe
}
