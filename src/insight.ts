/**
 * Model insight: {@link summarize} (every layer's output shape, parameters
 * and multiply-accumulates) and {@link traceShapes} (shapes as data flows,
 * for any input size).
 * @module
 */
import { modelEntry } from './catalog.js'
import { type ModelSource, checkSourceDepth, resolveSource, sourceOrDefault } from './describe/source.js'
import { nativeBinding } from './native.js'
import { checkOptionsObject, checkedOptions } from './options.js'

/** One layer of a {@link ModelSummary}. */
export interface LayerSummary {
  /** PyTorch's name of the layer (`conv1`, `incep1.branch5x5_2`, `fc`) or step (`pool1`, `flatten`, `incep1` for the concatenation). */
  name: string
  /** Per image, as PyTorch lays it out: `[C, H, W]`, or `[features]`. */
  outputShape: number[]
  /** The layer's own parameters (its weight and bias). */
  params: number
  /** Multiply-accumulates per image of its convolution or linear map; pools, additions and activations count 0. */
  macs: number
}

/** What {@link summarize} returns; the JSON of `npx googlenet-native summary --json`. */
export interface ModelSummary {
  /** A zoo model's name, or a description's. */
  model: string
  /** Total trainable parameters (PyTorch's count for the same model). */
  params: number
  /** Total multiply-accumulates per image, convolutions and linear layers only. */
  macs: number
  layers: LayerSummary[]
}

/** One step of a {@link traceShapes} result. */
export interface TraceStep {
  name: string
  /** Per image: `[C, H, W]`, or `[features]`. */
  outputShape: number[]
}

/** Thrown by {@link traceShapes} when a layer's input does not fit; `steps` holds the layers before it. */
export class TraceError extends Error {
  readonly steps: TraceStep[]
  constructor(message: string, steps: TraceStep[]) {
    super(message)
    this.name = 'TraceError'
    this.steps = steps
  }
}

/** A model source (the default model where left out) resolved for the addon, with its depth checked (descriptions take none). */
function sourceWithDepth(source: unknown, depth: unknown): { arg: string; name: string; input: readonly number[]; depth: number | undefined } {
  const resolved = resolveSource(sourceOrDefault(source))
  const checked = checkSourceDepth(resolved, depth)
  const { arg, description } = resolved
  if (description) return { arg, name: description.name, input: description.input, depth: checked }
  const { channels, height, width } = modelEntry(arg)
  return { arg, name: arg, input: [channels, height, width], depth: checked }
}

/**
 * Every layer of a model (a zoo name, `depth`: units per stage of a ResNet;
 * or a description): output shape, parameters and multiply-accumulates per
 * image, with the totals.
 * @throws RangeError for an unknown model, a depth it does not take or a description the core refuses (the core's messages)
 */
export function summarize(source?: ModelSource, options?: { depth?: number }): ModelSummary {
  const { arg, name: model, depth } = sourceWithDepth(source, checkOptionsObject('options', options).depth)
  const layers = nativeBinding()
    .summarizeModel(arg, depth)
    .map((l) => ({ name: l.name, outputShape: [...l.outputShape], params: l.params, macs: l.macs }))
  const sum = (key: 'params' | 'macs'): number => layers.reduce((total, l) => total + l[key], 0)
  return { model, params: sum('params'), macs: sum('macs'), layers }
}


/**
 * Runs one image of zeros of the given size (default: the model's own)
 * through a model (a zoo name, `depth`: units per stage of a ResNet; or a
 * description) and returns each layer's output shape, in the order data flows.
 * @throws RangeError for an unknown model, a depth it does not take, a description the core refuses or a bad
 *   size; a {@link TraceError} naming the first layer whose input does not fit, with both shapes
 */
export function traceShapes(source?: ModelSource, size?: { height?: number; width?: number; depth?: number }): TraceStep[] {
  const o = checkOptionsObject('size', size)
  const { arg, input, depth } = sourceWithDepth(source, o.depth)
  const { height = input[1], width = input[2] } = checkedOptions('trace', { height: o.height, width: o.width })
  const trace = nativeBinding().traceModel(arg, height, width, depth)
  const steps = trace.steps.map((s) => ({ name: s.name, outputShape: [...s.outputShape] }))
  if (trace.error !== undefined && trace.error !== null) throw new TraceError(trace.error, steps)
  return steps
}
