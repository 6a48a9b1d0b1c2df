/**
 * The `export` command: a saved model written as an ONNX file, for ONNX
 * Runtime and every other runtime that reads ONNX.
 * @module
 */
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { errorMessage } from '../errors.js'
import { Model } from '../model.js'
import { type OnnxFormat, onnxFormat } from '../onnx.js'
import { checkOutputFile } from '../output-file.js'
import { checkDistinctFiles } from './distinct-files.js'
import { type RawFlags, checkFlag } from './flags.js'
import type { Io } from './io.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'

const EXAMPLES = `
Examples:
  $ googlenet-native train --save model.safetensors
  $ googlenet-native export --load model.safetensors --onnx model.onnx

A missing or damaged model file exits with status 1; a missing flag or an
output path that cannot be written exits with status 2, before anything is read.`

/** What the file takes and gives, in words (the figures come from the addon, when it loads). */
function contractHelp(): string {
  let format: OnnxFormat | undefined
  try {
    format = { ...onnxFormat }
  } catch {
    // --help works where no addon loads; the figures are then left out.
  }
  const opset = format ? ` (opset ${format.opset})` : ''
  return `
The ONNX file${opset} uses standard operators only (Conv, Gemm,
BatchNormalization in inference form, MaxPool, AveragePool,
GlobalAveragePool, Relu, Add, Concat, Flatten). Its input "${format?.input ?? 'images'}" is float32
N×channels×height×width (the model's input size, any batch size N), each
pixel byte p (0..255) of channel c given as (p / 255 - mean[c]) / std[c]
with the model's own statistics (0.1307 and 0.3081 for MNIST); its output
"${format?.output ?? 'logits'}" is N×classes scores before softmax (10 for digits),
whose argmax is the class. The file's metadata holds the mean, the std, the
class names ("0".."9" for digits, the folder names for an image folder)
and the model's description.
${EXAMPLES}`
}

/** One number as itself, several as a list. */
function listed(values: readonly number[]): string {
  return values.length === 1 ? `${values[0]}` : `[${values.join(', ')}]`
}

/** The line printed on success: what was written, and the file's input and output. */
export function exportedLine(model: Model, file: string, format: OnnxFormat): string {
  const [channels, height, width] = model.description.input
  const classes = model.summary().layers.at(-1)?.outputShape ?? []
  const dims = (per: readonly number[]): string => `[${[format.batchDim, ...per].join(', ')}]`
  const { mean, std } = model.normalization
  return (
    `wrote ${file}: ${model.name} as ONNX (opset ${format.opset}), ` +
    `input ${format.input} ${dims([channels, height, width])} float32 as (p / 255 - ${listed(mean)}) / ${listed(std)}, ` +
    `output ${format.output} ${dims(classes)}`
  )
}

/** Adds `export` to `program`; `done` receives the exit status. */
export function addExportCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('export')
    .description('write a saved model as an ONNX file that ONNX Runtime (web, Node, Python, mobile) runs with the same predictions')
    .addOption(new Option('--load <file>', 'the model file (written by train --save or Model.save, or a PyTorch state_dict)'))
    .addOption(new Option('--onnx <file>', 'the ONNX file to write (replaced atomically if it exists)'))
    .addHelpText('after', contractHelp)
    .action(async (raw: RawFlags) => {
      if (typeof raw.load !== 'string' || raw.load === '') throw new UsageError('export needs --load <file>: the model to export')
      if (typeof raw.onnx !== 'string' || raw.onnx === '') throw new UsageError('export needs --onnx <file>: the ONNX file to write')
      const output = raw.onnx
      checkDistinctFiles([{ flag: '--load', path: raw.load }], [{ flag: '--onnx', path: output }])
      checkFlag('--onnx', () => checkOutputFile(output))
      try {
        const model = await Model.load(raw.load, { device: 'cpu' })
        await model.exportOnnx(output)
        io.stdout.write(`${exportedLine(model, resolve(output), onnxFormat)}\n`)
        done(0)
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
      }
    })
}
