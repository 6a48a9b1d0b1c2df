/**
 * What a model exported to ONNX ({@link Model.exportOnnx}, `export --onnx`)
 * takes and gives: {@link onnxFormat}, read from the addon, whose core
 * writes the files.
 * @module
 */
import type { Model } from './model.js'
import { nativeBinding, readOnFirstUse } from './native.js'

/**
 * The contract of every exported ONNX file. Feed `input` as float32
 * `N × channels × height × width` (any batch size N), each pixel byte `p`
 * of channel `c` as `(p / 255 - mean[c]) / std[c]`, with the model's
 * {@link Model.normalization} (the file's metadata holds `mean` and `std`:
 * a number for grey images, a JSON array per channel for colour); read
 * `output`, `N × classes` logits (class scores before softmax; their argmax
 * is the class, named by the metadata's `labels`).
 */
export interface OnnxFormat {
  /** The ONNX operator set the files use (default domain). */
  readonly opset: number
  /** The input's name: `'images'`. */
  readonly input: string
  /** The output's name: `'logits'`. */
  readonly output: string
  /** The symbolic name of the batch dimension of both. */
  readonly batchDim: string
}

/** The ONNX files' contract (see {@link OnnxFormat}); read from the addon on first use, frozen. */
export const onnxFormat: OnnxFormat = readOnFirstUse({} as { -readonly [K in keyof OnnxFormat]: OnnxFormat[K] }, (target) => {
  const c = nativeBinding().onnxContract()
  Object.assign(target, { opset: c.opset, input: c.input, output: c.output, batchDim: c.batchDim })
})
