/**
 * One function per layer of a model description. Each returns the layer's
 * JSON node, unnamed (a key names it: see `NamedSteps`), with the
 * fields given and no others: defaults are the core's, and so are the
 * checks (`conv2d({ outChannels: 10, kernel: 0 })` is built here and refused,
 * naming the field, when a model is made from it).
 * @module
 */
import { shown } from './steps.js'
import type {
  AvgPoolStep,
  BatchNormStep,
  Conv2dStep,
  FlattenStep,
  GlobalAvgPoolStep,
  LinearStep,
  MaxPoolStep,
  ReluStep,
} from './types.js'

/** Options of {@link conv2d}: the fields of a {@link Conv2dStep}. */
export type Conv2dOptions = Omit<Conv2dStep, 'type' | 'name'>
/** Options of {@link linear}: the fields of a {@link LinearStep}. */
export type LinearOptions = Omit<LinearStep, 'type' | 'name'>
/** Options of {@link maxPool}: the fields of a {@link MaxPoolStep}. */
export type MaxPoolOptions = Omit<MaxPoolStep, 'type' | 'name'>
/** Options of {@link avgPool}: the fields of an {@link AvgPoolStep}. */
export type AvgPoolOptions = Omit<AvgPoolStep, 'type' | 'name'>

/**
 * A 2-D convolution with a bias (PyTorch's `Conv2d`); the input channels
 * come from the shape that reaches it.
 * @param options `outChannels` and `kernel`; `stride` (default 1) and
 *   `padding` (default 0) when given
 * @example
 * ```ts
 * { conv1: conv2d({ outChannels: 10, kernel: 5 }) }              // conv1.weight 10×1×5×5, conv1.bias
 * { branch5x5_2: conv2d({ outChannels: 24, kernel: 5, padding: 2 }) }
 * ```
 */
export function conv2d(options: Conv2dOptions): Conv2dStep {
  return node('conv2d', options, ['outChannels', 'kernel', 'stride', 'padding'], '{ outChannels: 10, kernel: 5 }')
}

/**
 * A fully connected layer with a bias (PyTorch's `Linear`); the input
 * features come from the vector that reaches it.
 * @example
 * ```ts
 * [{ flatten: flatten() }, { fc: linear({ outFeatures: 10 }) }]   // fc.weight 10×in, fc.bias
 * ```
 */
export function linear(options: LinearOptions): LinearStep {
  return node('linear', options, ['outFeatures'], '{ outFeatures: 10 }')
}

/**
 * Batch normalization over channels (PyTorch's `BatchNorm2d`, momentum 0.1,
 * eps 1e-5).
 * @example
 * ```ts
 * { conv1: conv2d({ outChannels: 16, kernel: 3, padding: 1 }), bn1: batchNorm() }
 * ```
 */
export function batchNorm(): BatchNormStep {
  return { type: 'batchNorm' }
}

/**
 * max(0, x). Unnamed where it stands in an array; named when a key holds it.
 * @example
 * ```ts
 * [{ conv1: conv2d({ outChannels: 10, kernel: 5 }) }, relu()]
 * ```
 */
export function relu(): ReluStep {
  return { type: 'relu' }
}

/**
 * Max pooling over square windows (no padding).
 * @param options `kernel`; `stride` (default `kernel`) when given
 * @example
 * ```ts
 * { pool1: maxPool({ kernel: 2 }) }             // halves height and width
 * ```
 */
export function maxPool(options: MaxPoolOptions): MaxPoolStep {
  return node('maxPool', options, ['kernel', 'stride'], '{ kernel: 2 }')
}

/**
 * Average pooling over square windows; zero padding counts in the divisor.
 * @param options `kernel`; `stride` (default `kernel`) and `padding`
 *   (default 0) when given
 * @example
 * ```ts
 * avgPool({ kernel: 3, stride: 1, padding: 1 })   // the Inception pool branch: keeps height and width
 * ```
 */
export function avgPool(options: AvgPoolOptions): AvgPoolStep {
  return node('avgPool', options, ['kernel', 'stride', 'padding'], '{ kernel: 3, stride: 1, padding: 1 }')
}

/**
 * Each channel's mean: C × H × W to C features, ready for {@link linear}.
 * @example
 * ```ts
 * { pool: globalAvgPool(), fc: linear({ outFeatures: 10 }) }
 * ```
 */
export function globalAvgPool(): GlobalAvgPoolStep {
  return { type: 'globalAvgPool' }
}

/**
 * C × H × W to C·H·W features, channel by channel (PyTorch's `view(n, -1)`).
 * @example
 * ```ts
 * { flatten: flatten(), fc: linear({ outFeatures: 10 }) }
 * ```
 */
export function flatten(): FlattenStep {
  return { type: 'flatten' }
}

/**
 * The JSON node of a layer: `type`, then the known `fields` given (in that
 * order), then any other field given, so that the core reports a misspelt
 * one (`kernal`) rather than the builder dropping it.
 */
function node<T>(type: string, options: unknown, fields: readonly string[], example: string): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${type}: expected an options object such as ${example}; got ${shown(options)}`)
  }
  const given = options as Record<string, unknown>
  const keys = new Set(['name', ...fields, ...Object.keys(given)])
  keys.delete('type')
  const entries = [...keys].filter((key) => Object.hasOwn(given, key) && given[key] !== undefined).map((key) => [key, given[key]])
  return Object.fromEntries([['type', type], ...entries]) as T
}
