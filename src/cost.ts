/**
 * The 1×1 lesson of the tutorial: what a convolution costs in multiplies,
 * and how much a 1×1 reduction in front of it saves.
 * @module
 */
import { checkInteger, checkOptionsObject } from './options.js'

/** A stride-1, "same"-padded convolution over an image of `height`×`width`. */
export interface ConvolutionShape {
  inChannels: number
  outChannels: number
  /** Kernel side (square kernels). */
  kernel: number
  height: number
  width: number
}

/** Options of {@link bottleneckCost}: the tutorial's example by default. */
export interface BottleneckOptions extends Partial<ConvolutionShape> {
  /** Channels of the 1×1 reduction in front of the convolution. */
  reduceTo?: number
}

/** What {@link bottleneckCost} compares. */
export interface BottleneckCost {
  /** Multiplies of the convolution applied directly. */
  direct: number
  /** Multiplies of a 1×1 reduction to `reduceTo` channels, then the same convolution from there. */
  reduced: number
  /** direct ÷ reduced. */
  ratio: number
}

/** The tutorial's example: a 5×5 convolution from 192 to 32 channels on 28×28, reduced to 16 channels first. */
export const TUTORIAL_BOTTLENECK: Required<BottleneckOptions> = Object.freeze({
  inChannels: 192,
  outChannels: 32,
  kernel: 5,
  height: 28,
  width: 28,
  reduceTo: 16,
})

/**
 * Multiplies of one convolution over one image: every output pixel of every
 * output channel takes kernel² × inChannels multiplies (bias additions are
 * not counted).
 * @throws RangeError for a size that is not an integer >= 1
 */
export function convolutionCost(shape: ConvolutionShape): number {
  const o = checkOptionsObject('shape', shape)
  const [inChannels, outChannels, kernel, height, width] = (['inChannels', 'outChannels', 'kernel', 'height', 'width'] as const).map(
    (key) => checkInteger(key, o[key], 1),
  ) as [number, number, number, number, number]
  return kernel * kernel * height * width * inChannels * outChannels
}

/**
 * The convolution's cost directly and behind a 1×1 reduction (GoogLeNet's
 * trick), with the ratio. With no options: the tutorial's example,
 * 120,422,400 against 12,443,648 multiplies.
 * @throws RangeError for a size that is not an integer >= 1
 */
export function bottleneckCost(options?: BottleneckOptions): BottleneckCost {
  const o = { ...TUTORIAL_BOTTLENECK, ...checkOptionsObject('options', options) }
  const reduceTo = checkInteger('reduceTo', o.reduceTo, 1)
  const direct = convolutionCost(o)
  const reduced =
    convolutionCost({ ...o, outChannels: reduceTo, kernel: 1 }) + convolutionCost({ ...o, inChannels: reduceTo })
  return { direct, reduced, ratio: direct / reduced }
}
