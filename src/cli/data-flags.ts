/**
 * The flags that say which data a command trains and tests on: `--data`
 * (an MNIST-format folder or a folder of images), the four IDX file flags,
 * a folder's flags, `--limit` and `--test-limit`.
 * @module
 */
import { type Command, Option } from 'commander'
import type { IdxFiles } from '../data.js'
import { optionSpec } from '../options.js'
import type { RawFlags } from './flags.js'
import { addFolderOptions } from './folder-flags.js'
import { schemaFlags, schemaOption } from './schema-flags.js'
import { UsageError } from './usage-error.js'

/** Adds the data flags to `command`; returns it. */
export function addDataOptions(command: Command): Command {
  const withFiles = command
    .addOption(new Option('--data <dir>', 'MNIST-format folder of IDX files, or a folder of images in one sub-folder per class (default: the bundled MNIST)'))
    .addOption(new Option('--train-images <file>', 'IDX images file under another name (with --train-labels, --test-images, --test-labels)'))
    .addOption(new Option('--train-labels <file>', 'IDX labels of --train-images'))
    .addOption(new Option('--test-images <file>', 'IDX images file of the test split'))
    .addOption(new Option('--test-labels <file>', 'IDX labels of --test-images'))
  return addFolderOptions(withFiles)
    .addOption(schemaOption(optionSpec('data', 'limit')))
    .addOption(schemaOption(optionSpec('data', 'testLimit')))
}

/** The data flags given (a folder's own flags aside: see `folderFlags`). */
export interface DataFlags {
  data?: string
  files?: IdxFiles
  limit?: number
  testLimit?: number
}

/**
 * Reads the data flags.
 * @throws UsageError for `--data` and IDX files together, or flags naming nothing
 */
export function dataFlags(raw: RawFlags): DataFlags {
  const flags: DataFlags = schemaFlags(raw, 'data')
  if (raw.data !== undefined) {
    if (typeof raw.data !== 'string' || raw.data === '') throw new UsageError('--data must name a folder')
    flags.data = raw.data
  }
  const files = idxFileFlags(raw)
  if (files !== undefined) {
    if (flags.data !== undefined) throw new UsageError('--data and --train-images name the data twice: give one or the other')
    flags.files = files
  }
  return flags
}

/** The IDX file flags, and the names they give in {@link IdxFiles}. */
export const IDX_FILE_FLAGS = [
  ['trainImages', '--train-images'],
  ['trainLabels', '--train-labels'],
  ['testImages', '--test-images'],
  ['testLabels', '--test-labels'],
] as const

/**
 * `--train-images F --train-labels F --test-images F --test-labels F`, all
 * four or none.
 * @throws UsageError when some are given and others not, or one names no file
 */
export function idxFileFlags(raw: RawFlags): IdxFiles | undefined {
  const given = IDX_FILE_FLAGS.filter(([key]) => raw[key] !== undefined)
  if (given.length === 0) return undefined
  const missing = IDX_FILE_FLAGS.filter(([key]) => raw[key] === undefined).map(([, flag]) => flag)
  if (missing.length > 0) throw new UsageError(`${given.map(([, f]) => f).join(', ')} need${given.length === 1 ? 's' : ''} ${missing.join(', ')} too`)
  const files: Partial<Record<keyof IdxFiles, string>> = {}
  for (const [key, flag] of IDX_FILE_FLAGS) {
    const value = raw[key]
    if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must name a file`)
    files[key] = value
  }
  return files as IdxFiles
}
