/**
 * The flags that say which model a command works on: `--model <name>` (with
 * `--depth`) or `--model-file <file>`, a description in the JSON format of
 * docs/model-description.md, read here and checked by the core.
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { Option } from 'commander'
import { defaultModel } from '../catalog.js'
import { type ModelSource, parseDescription } from '../describe/source.js'
import type { ModelDescription } from '../describe/types.js'
import { errorMessage } from '../errors.js'
import { nativeBinding } from '../native.js'
import { type RawFlags, depthFlag, modelFlag } from './flags.js'
import { UsageError } from './usage-error.js'

/** The `--model-file` option, for a command that also takes `--model`. */
export function modelFileOption(): Option {
  return new Option('--model-file <file>', 'a model of your own: a description in JSON (see `describe`), instead of --model')
}

/**
 * The text of description file `path`, refusing what is not a regular
 * file (a pipe would block) and what is over the core's size limit, before
 * reading it.
 * @throws UsageError naming the flag and the file
 */
function readDescriptionFile(path: string): string {
  const fail = (why: string): never => {
    throw new UsageError(`--model-file ${path}: ${why}`)
  }
  let size = 0
  try {
    const stat = statSync(path)
    if (!stat.isFile()) fail('is not a regular file')
    size = stat.size
  } catch (error) {
    if (error instanceof UsageError) throw error
    fail(errorMessage(error))
  }
  const max = nativeBinding().MAX_DESCRIPTION_BYTES
  if (size > max) fail(`a model description is at most ${max} bytes of JSON (got ${size})`)
  // Read at most one byte past the limit, in case the file grew since stat.
  const buffer = Buffer.alloc(Math.min(size, max) + 1)
  const fd = openSync(path, 'r')
  try {
    const read = readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.subarray(0, read).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * The model a command works on, from `--model` and `--depth`, or from
 * `--model-file`: its description checked by the core (every rule, limit
 * and shape), whose message names the JSON path at fault.
 * @param modelGiven - whether `--model` was given on the command line (it has a default)
 * @throws UsageError for an unknown name, a bad depth, both `--model` and `--model-file`,
 *   or a description file that cannot be read or that the core refuses
 */
export function modelFlags(raw: RawFlags, modelGiven: boolean): { model: ModelSource; depth?: number } {
  const file = raw.modelFile
  if (file === undefined) {
    const model = modelFlag(raw, 'model', '--model', defaultModel())
    const depth = depthFlag(raw, model)
    return depth === undefined ? { model } : { model, depth }
  }
  if (typeof file !== 'string' || file === '') throw new UsageError('--model-file must name a JSON file')
  if (modelGiven) throw new UsageError('--model and --model-file contradict each other: give one')
  if (raw.depth !== undefined) throw new UsageError('--depth applies to the zoo\'s ResNets; a description file is written at its depth')
  return { model: readModelFile(file) }
}

/**
 * The description in `--model-file`'s `file`, checked by the core.
 * @throws UsageError naming the flag and the file, for a file that cannot be read or a description the core refuses
 */
export function readModelFile(file: string): ModelDescription {
  const text = readDescriptionFile(file)
  try {
    return parseDescription(nativeBinding().checkDescription(text))
  } catch (error) {
    throw new UsageError(`--model-file ${file}: ${errorMessage(error)}`)
  }
}
