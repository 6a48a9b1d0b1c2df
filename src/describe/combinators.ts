/**
 * Steps made of steps ({@link sequential}, {@link concat}, {@link residual})
 * and the whole description ({@link network}).
 *
 * Their output is canonical, the most compact JSON for the model:
 * - names come from keys only; a key naming a step that already has a name
 *   is a `TypeError`;
 * - an unnamed sequence is an array, never `{ type: 'sequential' }`; a named
 *   one (a key holding an array or an object of named steps) is
 *   `{ type: 'sequential', name, steps }`;
 * - an unnamed sequence inside a sequence is spliced into it (it adds no
 *   level of names, so nothing is lost);
 * - where one step is taken (a concat branch, a residual's body or shortcut),
 *   a sequence of exactly one step is that step: `{ branch1x1: conv2d(…) }`
 *   is the conv named `branch1x1`, not a one-element array;
 * - a model's `layers` is always an array;
 * - a step's fields are those given, `type` and `name` first; no default is
 *   filled in (the core has them).
 *
 * Step objects written by hand pass through unchanged (apart from a name
 * given by a key): the builder shapes data, and the core checks it.
 * @module
 */
import { type Steps, sequenceOf, shown, stepOf } from './steps.js'
import type { ConcatStep, ModelDescription, ResidualStep, Step } from './types.js'

/**
 * The steps as one unnamed sequence: an array, each object of named steps
 * replaced by its entries (named by their keys) and nested arrays spliced
 * in. To name the sequence, put it under a key: `{ layer1: […] }` (an array
 * or object of named steps under a key is a named sequence already, so
 * `sequential` is needed only to turn steps into a plain array).
 * @example
 * ```ts
 * sequential([{ conv1: conv2d({ outChannels: 10, kernel: 5 }) }, relu()])
 * // → [{ type: 'conv2d', name: 'conv1', outChannels: 10, kernel: 5 }, { type: 'relu' }]
 * ```
 * @throws TypeError for a value that is not a step, an array or an object of named steps,
 *   an integer-like key among several, or a key naming a step already named
 */
export function sequential(steps: Steps): readonly Step[] {
  return sequenceOf(steps, 'sequential')
}

/**
 * Branches that read the same input, their outputs stacked along the
 * channels in order: the Inception module. Each branch is steps (see
 * {@link Steps}); an object of named steps as a branch is a sequence of
 * those steps and adds no level of names, as in the tutorial's `InceptionA`:
 * under the key `incep1`, the conv `branch5x5_1` is `incep1.branch5x5_1`.
 * A branch of one step is that step; a branch of several is an array.
 * @example
 * ```ts
 * const inception = () =>
 *   concat([
 *     { branch1x1: conv2d({ outChannels: 16, kernel: 1 }) },
 *     { branch5x5_1: conv2d({ outChannels: 16, kernel: 1 }), branch5x5_2: conv2d({ outChannels: 24, kernel: 5, padding: 2 }) },
 *     [avgPool({ kernel: 3, stride: 1, padding: 1 }), { branch_pool: conv2d({ outChannels: 24, kernel: 1 }) }],
 *   ])
 * network([{ conv1: conv2d({ outChannels: 10, kernel: 5 }) }, relu(), { incep1: inception() }, …])
 * ```
 * @throws TypeError when `branches` is not an array, or for a branch the builder cannot read (see {@link sequential})
 */
export function concat(branches: readonly Steps[]): ConcatStep {
  if (!Array.isArray(branches)) {
    throw new TypeError(`concat: expected an array of branches, e.g. concat([{ a: conv2d(…) }, { b: conv2d(…) }]); got ${shown(branches)}`)
  }
  return { type: 'concat', branches: branches.map((branch: unknown, i) => stepOf(branch, `concat: branches[${i}]`)) }
}

/** Options of {@link residual}. */
export interface ResidualOptions {
  /** The shortcut branch, as steps (see {@link Steps}). Default: the identity (left out of the JSON). */
  readonly shortcut?: Steps
}

/**
 * body(x) + shortcut(x): a residual unit. `body` and `shortcut` are steps
 * (see {@link Steps}); one step is kept as it is, several become an array.
 * A key names the unit (`{ 'layer1.0': residual(…) }`), which prefixes the
 * names inside it.
 * @example
 * ```ts
 * const unit = residual(
 *   [{ conv1: conv2d({ outChannels: 32, kernel: 3, stride: 2, padding: 1 }), bn1: batchNorm() }, relu(),
 *    { conv2: conv2d({ outChannels: 32, kernel: 3, padding: 1 }), bn2: batchNorm() }],
 *   { shortcut: { downsample: [{ '0': conv2d({ outChannels: 32, kernel: 1, stride: 2 }) }, { '1': batchNorm() }] } },
 * )
 * network([…, { 'layer2.0': unit }, relu(), …])   // layer2.0.conv1.weight, layer2.0.downsample.0.weight, …
 * ```
 * @throws TypeError for a body or shortcut the builder cannot read (see {@link sequential}), or options that are not an object
 */
export function residual(body: Steps, options?: ResidualOptions): ResidualStep {
  const { shortcut } = optionsObject<ResidualOptions>('residual', options)
  return {
    type: 'residual',
    body: stepOf(body, 'residual: body'),
    ...(shortcut === undefined ? {} : { shortcut: stepOf(shortcut, 'residual: shortcut') }),
  }
}

/** Options of {@link network}. */
export interface NetworkOptions {
  /** What the model is called in summaries, files and progress. Default `'custom'`. */
  readonly name?: string
  /** The images it takes, `[channels, height, width]`. Default `[1, 28, 28]` (MNIST). */
  readonly input?: readonly [channels: number, height: number, width: number]
}

/** What {@link network} calls a model not given a name. */
const DEFAULT_MODEL_NAME = 'custom'

/** The input {@link network} gives a model not given one: MNIST's 1 × 28 × 28 images. */
const DEFAULT_MODEL_INPUT: readonly [channels: number, height: number, width: number] = Object.freeze([1, 28, 28] as const)

/**
 * A whole model description, ready for `train({ model: description })` or
 * `JSON.stringify` (a file for `npx googlenet-native train --model-file`).
 * `layers` is steps (see {@link Steps}); the result's `layers` is an array.
 * Nothing is checked here beyond the shape of the arguments: the core
 * checks names, ranges and shapes when a model is built from it, and names
 * the offending place by its JSON path (`layers[3].branches[1][0].kernel`).
 * @example
 * ```ts
 * const description = network(
 *   [{ conv1: conv2d({ outChannels: 10, kernel: 5 }), pool1: maxPool({ kernel: 2 }) }, relu(),
 *    { flatten: flatten(), fc: linear({ outFeatures: 10 }) }],
 *   { name: 'tiny' },
 * )
 * const { model: net } = await train({ model: description, epochs: 1 })
 * ```
 * @throws TypeError for layers the builder cannot read (see {@link sequential}), or options that are not an object
 */
export function network(layers: Steps, options?: NetworkOptions): ModelDescription {
  const { name, input } = optionsObject<NetworkOptions>('network', options)
  return {
    format: 'googlenet-native/model',
    version: 1,
    name: name ?? DEFAULT_MODEL_NAME,
    input: input === undefined ? [...DEFAULT_MODEL_INPUT] : Array.isArray(input) ? [...input] : input,
    layers: sequenceOf(layers, 'network: layers'),
  } as ModelDescription
}

function optionsObject<T>(fn: string, options: unknown): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn}: expected an options object; got ${shown(options)}`)
  }
  return options as Partial<T>
}
