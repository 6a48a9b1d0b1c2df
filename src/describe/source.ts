/**
 * A model given by zoo name or by description, resolved to what the addon
 * takes, and the zoo's models as descriptions ({@link descriptions},
 * {@link describeModel}). Every rule of a description is the core's: it
 * checks one and returns it in canonical form, or throws a `RangeError`
 * naming the JSON path at fault.
 * @module
 */
import { checkDepth, checkModelName, defaultModel, modelCatalog } from '../catalog.js'
import { nativeBinding, readOnFirstUse } from '../native.js'
import { checkOptionsObject } from '../options.js'
import type { ModelName } from '../types.js'
import type { ModelDescription } from './types.js'

/** A model to create: a name of the zoo ({@link modelNames}) or a description (see {@link network}). */
export type ModelSource = ModelName | ModelDescription

/**
 * A model source, checked.
 * @internal
 */
export interface ResolvedSource {
  /** What the addon takes for it: the zoo name, or the description's canonical JSON. */
  readonly arg: string
  /** The canonical description; undefined for a zoo name. */
  readonly description: ModelDescription | undefined
}

/** Freezes `value` and everything in it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze)
    Object.freeze(value)
  }
  return value
}

/** Parses the addon's canonical JSON of a description, frozen. @internal */
export function parseDescription(json: string): ModelDescription {
  return deepFreeze(JSON.parse(json) as ModelDescription)
}

/**
 * Checks a description (every rule, limit and shape, by the core) and
 * returns it in canonical form: fields in a fixed order, defaults left
 * out, unnamed sequences as arrays. Frozen.
 * @throws TypeError for a value that is not an object; RangeError with the
 *   core's message, naming the JSON path at fault
 *   (`layers[3].branches[1][1].kernel: must be an integer from 1 to 15 (got 0)`)
 */
export function checkDescription(description: ModelDescription): ModelDescription {
  return parseDescription(resolveSource(description, 'description').arg)
}

/** `source`, or the catalog's default model where it is left out (`undefined` only, as a default parameter would). @internal */
export function sourceOrDefault(source: unknown): unknown {
  return source === undefined ? defaultModel() : source
}

/**
 * Resolves `source` (a zoo name or a description) for the addon.
 * @param what - the argument's name, for messages
 * @throws TypeError for a value that is neither; RangeError for an unknown name or a description the core refuses
 * @internal
 */
export function resolveSource(source: unknown, what = 'model'): ResolvedSource {
  if (typeof source === 'string') return { arg: checkModelName(source), description: undefined }
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    const got = Array.isArray(source) ? 'an array (wrap layers in network(…))' : source === null ? 'null' : typeof source
    throw new TypeError(`${what} must be a model name or a model description (got ${got})`)
  }
  const json = nativeBinding().checkDescription(JSON.stringify(source))
  return { arg: json, description: parseDescription(json) }
}

/**
 * The depth option checked for a resolved source: a zoo name's, by its
 * depth rule; a description takes none (it is written at its depth).
 * @returns `depth`, or undefined when none was given
 * @throws RangeError for a depth the zoo model does not take, or any depth given with a description
 * @internal
 */
export function checkSourceDepth(source: ResolvedSource, depth: unknown): number | undefined {
  if (!source.description) return checkDepth(source.arg, depth)
  if (depth !== undefined) throw new RangeError("depth applies to the zoo's ResNets; a description is written at its depth")
  return undefined
}

/**
 * The description of zoo model `name` at `depth` (the ResNets' units per
 * stage; their default when left out): the JSON format `describe` prints
 * and `--model-file` reads, to start a model of one's own from. Frozen;
 * copy it to change it (`structuredClone`).
 * @throws RangeError for an unknown name or a depth the model does not take (the core's messages)
 */
export function describeModel(name: string, options?: { depth?: number }): ModelDescription {
  const model = checkModelName(name)
  const depth = checkDepth(model, checkOptionsObject('options', options).depth)
  return parseDescription(nativeBinding().describeModel(model, depth))
}

/**
 * The zoo's models as descriptions, by every name and alias:
 * `descriptions.googlenet()`, `descriptions['resnet-original']({ depth: 3 })`.
 * Read from the addon on first use; frozen.
 */
export const descriptions: Readonly<Record<ModelName, (options?: { depth?: number }) => ModelDescription>> = readOnFirstUse(
  {} as Record<ModelName, (options?: { depth?: number }) => ModelDescription>,
  (target) => {
    for (const entry of modelCatalog()) {
      for (const name of [entry.name, ...entry.aliases]) target[name] = (options) => describeModel(name, options)
    }
  },
)
