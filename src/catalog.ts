/**
 * The models this build can create: {@link modelCatalog}, {@link models} and
 * {@link modelNames}, read from the addon. The list of models, their input
 * sizes and their depth rules live in the Rust core (its catalog); this
 * module keeps no copy of them, so adding a model to the core needs no
 * change here.
 * @module
 */
import { nativeBinding, readOnFirstUse } from './native.js'
import { MAX_COUNT, checkInteger } from './options.js'
import type { ModelName } from './types.js'

/** The depths a model with a depth option takes (residual units per stage, for the ResNets). */
export interface DepthRule {
  readonly min: number
  readonly max: number
  /** The depth of a model created without one. */
  readonly default: number
}

/** One model of the catalog. */
export interface ModelEntry {
  /** The name it is created by, e.g. `'resnet-original'`. */
  readonly name: ModelName
  /** Other names that create the same model, e.g. `['resnet']`. */
  readonly aliases: readonly ModelName[]
  /** One line on what it is. */
  readonly about: string
  /** Channels of the images it takes (1: grayscale, as MNIST). */
  readonly channels: number
  /** Height of the images it takes, in pixels. */
  readonly height: number
  /** Width of the images it takes, in pixels. */
  readonly width: number
  /** Its depth option (`depth`, `--depth`); null for a model of fixed depth. */
  readonly depth: DepthRule | null
}

let catalog: readonly ModelEntry[] | undefined

/**
 * The model used where none is named (`train()`, `createModel()`,
 * `summarize()`, the CLI's `--model`, the page): the core catalog's choice,
 * `'googlenet'`. Read from the addon.
 */
export function defaultModel(): ModelName {
  return nativeBinding().DEFAULT_MODEL as ModelName
}

/**
 * Every model this build can create, one entry per model (aliases within
 * it), in the order they are listed to users. Read from the addon (loading
 * it if needed).
 */
export function modelCatalog(): readonly ModelEntry[] {
  catalog ??= Object.freeze(
    nativeBinding()
      .modelCatalog()
      .map((e) =>
        Object.freeze({
          name: e.name as ModelName,
          aliases: Object.freeze([...e.aliases] as ModelName[]),
          about: e.about,
          channels: e.input.channels,
          height: e.input.height,
          width: e.input.width,
          depth: e.depth === null ? null : Object.freeze({ min: e.depth.min, max: e.depth.max, default: e.depth.default }),
        }),
      ),
  )
  return catalog
}

/**
 * The catalog by every name {@link createModel} accepts: each model's name
 * and each of its aliases, the alias giving its model's entry
 * (`models.resnet.name` is `'resnet-original'`). Read from the addon on
 * first use; frozen.
 */
export const models: Readonly<Record<string, ModelEntry>> = readOnFirstUse({} as Record<string, ModelEntry>, (target) => {
  for (const entry of modelCatalog()) {
    for (const name of [entry.name, ...entry.aliases]) target[name] = entry
  }
})

/** Every name {@link createModel} accepts: the models' names and their aliases. Read from the addon on first use; frozen. */
export const modelNames: readonly ModelName[] = readOnFirstUse([] as ModelName[], (target) => {
  target.push(...modelCatalog().flatMap((entry) => [entry.name, ...entry.aliases]))
})

/**
 * The catalog entry of `name`, a name {@link checkModelName} accepted.
 * @internal
 */
export function modelEntry(name: string): ModelEntry {
  const entry = Object.hasOwn(models, name) ? models[name] : undefined
  if (entry === undefined) throw new RangeError(`unknown model ${JSON.stringify(name)}`)
  return entry
}

/**
 * Checks that `name` is a model this build can create.
 * @throws TypeError for a name that is not a string; RangeError with the
 *   core's message for an unknown one (which lists the known names)
 * @internal
 */
export function checkModelName(name: unknown): ModelName {
  if (typeof name !== 'string') throw new TypeError(`model name must be a string (got ${typeof name})`)
  nativeBinding().checkModel(name)
  return name as ModelName
}

/**
 * Checks a depth for model `model` (a checked name): an integer the addon
 * can take, which the model's depth rule accepts. Models of fixed depth
 * take none.
 * @param name - the option's name, for the message of a value that is not an integer
 * @returns `depth`, or undefined when none was given (the model's default applies)
 * @throws TypeError/RangeError for a value that is not an integer in [0, 2^32 − 1];
 *   RangeError with the core's message for a depth out of the model's range
 *   or any depth for a model of fixed depth
 * @internal
 */
export function checkDepth(model: string, depth: unknown, name = 'depth', shown?: string): number | undefined {
  if (depth === undefined) return undefined
  const value = checkInteger(name, depth, 0, MAX_COUNT, shown)
  nativeBinding().checkModel(model, value)
  return value
}
