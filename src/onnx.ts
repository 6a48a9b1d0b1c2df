/**
 * What a model exported to ONNX ({@link Model.exportOnnx}, `export --onnx`)
 * takes and gives: {@link onnxFormat}, read from the addon, whose core
 * writes the files.
 * @module
 */
import { nativeBinding, readOnFirstUse } from './native.js'

/**
 * The contract of every exported ONNX file. Feed `input` as float32
 * `N × channels × height × width` (any batch size N), each pixel byte `p`
 * (0..255, light digit on dark as in MNIST) as `(p / 255 - mean) / std`;
 * read `output`, `N × 10` logits (class scores before softmax; their
 * argmax is the digit). The file's metadata holds `mean`, `std` and
 * `labels` too.
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
  /** The mean of MNIST's pixels scaled to [0, 1], subtracted first (0.1307). */
  readonly mean: number
  /** Their standard deviation, divided by next (0.3081). */
  readonly std: number
}

/** The ONNX files' contract (see {@link OnnxFormat}); read from the addon on first use, frozen. */
export const onnxFormat: OnnxFormat = readOnFirstUse({} as { -readonly [K in keyof OnnxFormat]: OnnxFormat[K] }, (target) => {
  const c = nativeBinding().onnxContract()
  Object.assign(target, { opset: c.opset, input: c.input, output: c.output, batchDim: c.batchDim, mean: c.mean, std: c.std })
})
