/**
 * Validation of user options, shared by the API and the CLI. Every check
 * throws a `TypeError` (not a number) or a `RangeError` (a number out of
 * range) whose message names the option, e.g.
 * `epochs must be an integer in [1, 4294967295] (got 0)`.
 * @module
 */

import { MAX_COUNT, show } from './integer-check.js'
import { nativeBinding } from './native.js'
import { type FitRecipe, OPTION_SCHEMA, type OptimizerName, type OptionSpec } from './generated/options.js'

// The integer check needs neither the addon nor Node: it lives where the
// page's engine worker (src/web/) can bundle it too.
export { MAX_COUNT, checkInteger } from './integer-check.js'

/** The largest seed accepted (seeds are unsigned 32-bit integers). */
export const MAX_SEED = MAX_COUNT

/** The options of `fit` (and `train`) that have a default: the reference recipe's. */
export interface FitDefaults extends Readonly<FitRecipe> {
  /** Batches per `'window'` progress event. */
  readonly logEvery: number
}

/** The declaration of option `name` of `command`. */
export function optionSpec(command: OptionSpec['command'], name: string): OptionSpec {
  const spec = OPTION_SCHEMA.find((s) => s.command === command && s.name === name)
  if (spec === undefined) throw new Error(`the core declares no ${command} option ${name}`)
  return spec
}

/** The options of `command`, in help's order. */
export function optionsOf(command: OptionSpec['command']): readonly OptionSpec[] {
  return OPTION_SCHEMA.filter((s) => s.command === command)
}

/** An option's name in words, for prose and tables: `warmupStartFactor` is `warmup start factor`. */
export function optionWords(name: string): string {
  return name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)
}

/** What option `spec` is when not given, with `optimizer`'s defaults. */
export function defaultOf(spec: OptionSpec, optimizer = 'sgd'): number | boolean | string | undefined {
  return spec.defaultByOptimizer?.[optimizer] ?? spec.default ?? undefined
}

/** The reference recipe's run: SGD, a constant rate, no warm-up. */
const usedByReference = (s: OptionSpec): boolean =>
  (s.optimizers?.includes('sgd') ?? true) && (s.schedules?.includes('constant') ?? true) && !s.needsWarmup

/** The declared defaults of `command`'s options that `used` keeps (and that have one), by name. */
function defaultsOf(command: OptionSpec['command'], used: (s: OptionSpec) => boolean = usedByReference): Record<string, unknown> {
  return Object.fromEntries(
    optionsOf(command).flatMap((s) => {
      const value = defaultOf(s)
      return used(s) && value !== undefined ? [[s.name, value]] : []
    }),
  )
}

/**
 * The reference recipe (DESIGN.md §1): what `fit`, `train` and the CLI use
 * where an option is not given, as the core declares it (generated into
 * this package at build). The seed defaults to 0, as in the PyTorch
 * reference script (its RNG differs, so runs are not identical).
 */
export const FIT_DEFAULTS: FitDefaults = Object.freeze(defaultsOf('fit') as unknown as FitDefaults)

/**
 * The recipe `fit` uses with `optimizer` where an option is not given
 * (the reference recipe for `'sgd'`, PyTorch's defaults for `'adam'` and
 * `'adamw'`): resolved by the addon, where the defaults live.
 * @throws TypeError or RangeError for an unknown optimizer
 */
export function fitDefaultsFor(optimizer: OptimizerName): FitRecipe {
  return recipeOf(nativeBinding().resolveFitRecipe({ optimizer }))
}

/** The recipe the addon resolved, setting by setting, as an object. */
export function recipeOf(settings: ReadonlyArray<{ name: string; value: number | boolean | string }>): FitRecipe {
  return Object.fromEntries(settings.map((s) => [s.name, s.value])) as unknown as FitRecipe
}

/** The options of `benchmark` (and `bench`) that have a default. */
export interface BenchDefaults {
  /** Images per batch, for training and inference. */
  readonly batchSize: number
  /** Batches timed, for training and again for inference. */
  readonly batches: number
  /** Untimed batches (and single-image predictions) before each measurement. */
  readonly warmup: number
  /** Single-image predictions timed for the latency figures. */
  readonly latencyCalls: number
}

/** What `benchmark` and `bench` use where an option is not given, as the core declares it; frozen. */
export const BENCH_DEFAULTS: BenchDefaults = Object.freeze(defaultsOf('bench') as unknown as BenchDefaults)

/**
 * A refusal of the core's option checks: a `TypeError` (a value of the
 * wrong kind, or an option the function does not take) or a `RangeError`,
 * whose fields say which option broke which rule.
 */
export interface OptionError extends Error {
  /** The option, by its name in the API (`weightDecay`). */
  readonly option: string
  /** The rule it broke, e.g. `must be a finite number >= 0` or `does not apply to the adam optimizer (only to sgd)`. */
  readonly rule: string
  /** The value as the core read it, when one value alone broke the rule. */
  readonly got?: string
}

/** Whether `error` is a refusal of the core's option checks. */
export function isOptionError(error: unknown): error is OptionError {
  return (error instanceof RangeError || error instanceof TypeError) && typeof (error as Partial<OptionError>).option === 'string'
}

/**
 * Checks the options of `o` that `command` declares (the others are not
 * the core's: callbacks, datasets, paths) against the core's rules: a
 * value of the wrong kind or out of range.
 * @throws {@link OptionError}
 */
export function checkOptions(command: OptionSpec['command'], o: object): void {
  nativeBinding().checkOptions(command, declaredOptions(command, o))
}

/**
 * The options of `o` that `command` declares, checked by the core, each
 * given one as given and the others at their declared defaults (absent
 * where there is none).
 * @throws {@link OptionError}
 */
export function checkedOptions<T extends object>(command: OptionSpec['command'], o: T): T {
  checkOptions(command, o)
  return { ...defaultsOf(command, () => true), ...declaredOptions(command, o) } as T
}

/** The options of `o` that `command` declares, those given (not undefined). */
export function declaredOptions(command: OptionSpec['command'], o: object): Record<string, unknown> {
  const given: Record<string, unknown> = {}
  for (const spec of optionsOf(command)) {
    const value = (o as Record<string, unknown>)[spec.name]
    if (value !== undefined) given[spec.name] = value
  }
  return given
}

/**
 * The largest batch size for training, evaluation and benchmarks (1024):
 * memory grows with the batch, so the core refuses larger ones before
 * allocating anything. Read from the addon, where the rule lives.
 */
export function maxBatchSize(): number {
  return nativeBinding().MAX_BATCH_SIZE
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
