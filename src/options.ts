/**
 * Validation of user options, shared by the API and the CLI. Every check
 * throws a `TypeError` (not a number) or a `RangeError` (a number out of
 * range) whose message names the option, e.g.
 * `epochs must be an integer in [1, 4294967295] (got 0)`.
 * @module
 */

import { nativeBinding, readOnFirstUse } from './native.js'
import type { FitRecipe } from './types.js'

/**
 * The largest whole number any option takes unless it has a smaller limit:
 * the addon's integers (counts, sizes, epochs, seeds) are unsigned 32-bit,
 * and a larger value would wrap around at the boundary (2^32 + 1 epochs
 * would train one).
 */
export const MAX_COUNT = 2 ** 32 - 1

/** The largest seed accepted (seeds are unsigned 32-bit integers). */
export const MAX_SEED = MAX_COUNT

/** The options of `fit` (and `train`) that have a default: the reference recipe's. */
export interface FitDefaults {
  readonly epochs: number
  readonly batchSize: number
  /** `'sgd'`; Adam's and AdamW's defaults are {@link fitDefaultsFor}'s. */
  readonly optimizer: string
  readonly lr: number
  readonly momentum: number
  readonly nesterov: boolean
  readonly weightDecay: number
  /** `'constant'`. */
  readonly schedule: string
  readonly warmupEpochs: number
  /** The seed of initialization and shuffling. */
  readonly seed: number
  /** Batches per `'window'` progress event. */
  readonly logEvery: number
}

/**
 * Batches per `'window'` progress event when `logEvery` is not given: the
 * tutorial prints its running loss every 300 batches. The windows are made
 * here, from the batch events, so this default is the TypeScript layer's own.
 */
const LOG_EVERY = 300

/**
 * The reference training recipe (DESIGN.md §1): what `fit`, `train` and the
 * CLI use where an option is not given. Read from the addon on first use
 * (the core's `FitConfig::default()`), but `logEvery`, which is this
 * layer's own; frozen. The seed defaults to 0, as in the PyTorch reference
 * script (its RNG differs, so runs are not identical).
 */
export const FIT_DEFAULTS: FitDefaults = readOnFirstUse({} as FitDefaults, (target) => {
  const { epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, schedule, warmupEpochs, seed } = nativeBinding().fitDefaults()
  Object.assign(target, { epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, schedule, warmupEpochs, seed, logEvery: LOG_EVERY })
})

/**
 * The recipe `fit` uses with `optimizer` where an option is not given
 * (the reference recipe for `'sgd'`, PyTorch's defaults for `'adam'` and
 * `'adamw'`): read from the addon, where the defaults live.
 * @throws RangeError for an unknown optimizer
 */
export function fitDefaultsFor(optimizer: string): FitRecipe {
  return recipeOf(nativeBinding().fitDefaults(optimizer))
}

/** `recipe` without the settings its optimizer and schedule do not use (the addon leaves them undefined). */
export function recipeOf(recipe: FitRecipe): FitRecipe {
  return Object.fromEntries(Object.entries(recipe).filter(([, value]) => value !== undefined && value !== null)) as unknown as FitRecipe
}

/** The options of `benchmark` (and `bench`) that have a default. */
export interface BenchDefaults {
  /** Images per batch, for training and inference. */
  readonly batchSize: number
  /** Batches timed, for training and again for inference. */
  readonly batches: number
  /** Untimed batches before each measurement. */
  readonly warmup: number
}

/**
 * What `benchmark` and `bench` use where an option is not given. Read from
 * the addon on first use (the core's `BenchConfig::default()`); frozen.
 */
export const BENCH_DEFAULTS: BenchDefaults = readOnFirstUse({} as BenchDefaults, (target) => {
  const { batchSize, batches, warmup } = nativeBinding().benchDefaults()
  Object.assign(target, { batchSize, batches, warmup })
})

/** How a rejected value is shown in a message: numbers as numbers, strings quoted. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null) return 'null'
  if (typeof value === 'bigint') return `${value}n`
  return typeof value
}

function fail(name: string, rule: string, value: unknown, shown?: string): never {
  const message = `${name} must be ${rule} (got ${shown ?? show(value)})`
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message)
}

/**
 * Checks that `value` is an integer in `[min, max]`. There is always an upper
 * bound, so every integer that passes fits the addon's unsigned 32-bit ones.
 * @param name - the option's name, used in the message
 * @param max - default {@link MAX_COUNT}
 * @param shown - how to show the rejected value (the CLI passes the raw text)
 */
export function checkInteger(name: string, value: unknown, min: number, max: number = MAX_COUNT, shown?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer in [${min}, ${max}]`, value, shown)
  }
  return value
}

/**
 * The largest batch size for training, evaluation and benchmarks (1024):
 * memory grows with the batch, so the core refuses larger ones before
 * allocating anything. Read from the addon, where the rule lives.
 */
export function maxBatchSize(): number {
  return nativeBinding().MAX_BATCH_SIZE
}

/** Checks a batch size: an integer in `[1, maxBatchSize()]`. */
export function checkBatchSize(name: string, value: unknown, shown?: string): number {
  return checkInteger(name, value, 1, maxBatchSize(), shown)
}

/** A numeric setting of the optimizer or schedule whose rule lives in the core. */
export type RecipeNumber = 'lr' | 'momentum' | 'weightDecay' | 'beta1' | 'beta2' | 'eps' | 'stepGamma' | 'warmupStartFactor'

/**
 * Checks a numeric optimizer or schedule setting against the core's rule,
 * e.g. `weightDecay must be a finite number >= 0 (got -1)`.
 * @param setting - which rule (the option's name in the API)
 * @param name - the name to show (the option, or the CLI's flag)
 */
export function checkFitSetting(setting: RecipeNumber, name: string, value: unknown, shown?: string): number {
  // A value that is not a number breaks the rule as NaN does, so its
  // message states the rule too (a TypeError: see `fail`).
  const rule = nativeBinding().fitRule(setting, typeof value === 'number' ? value : Number.NaN)
  if (rule !== null) fail(name, rule, value, shown)
  return value as number
}

/**
 * Checks that `value` names one of `known` (an optimizer or a schedule, the
 * addon's lists): a `TypeError` for a value that is no string, a
 * `RangeError` for an unknown name, both listing the known ones.
 */
export function checkChoice(name: string, value: unknown, known: readonly string[]): string {
  if (typeof value === 'string' && known.includes(value)) return value
  const message = `${name} must be one of ${known.join(', ')} (got ${show(value)})`
  throw typeof value === 'string' ? new RangeError(message) : new TypeError(message)
}

/** Checks that `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean (got ${show(value)})`)
  return value
}

/** Checks that `value` is a seed: an integer in `[0, 2^32 - 1]`. */
export function checkSeed(name: string, value: unknown, shown?: string): number {
  return checkInteger(name, value, 0, MAX_SEED, shown)
}

/** Checks that `value` is a function, or undefined. */
export function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${name} must be a function (got ${show(value)})`)
  }
}

/** Checks that `value` is an AbortSignal, or undefined. */
export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (!(value instanceof AbortSignal)) throw new TypeError(`${name} must be an AbortSignal (got ${show(value)})`)
  return value
}

/** Checks that `value` is a plain options object (or undefined, read as `{}`). */
export function checkOptionsObject<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${name} must be an object (got ${show(value)})`)
  }
  return value
}
