/**
 * Turns the raw `train` flags from commander into validated values.
 * @module
 */
import { defaultModel } from '../catalog.js'
import { FIT_DEFAULTS, checkOptions, optionSpec } from '../options.js'
import { type ResolvedFit, resolveRecipe } from '../fit-options.js'
import type { IdxFiles } from '../data.js'
import type { ModelSource } from '../describe/source.js'
import type { Device, FitSettings, FolderSettings } from '../types.js'
import { type RawFlags, atLeastOne, namingFlags, numberFlag } from './flags.js'
import { dataFlags } from './data-flags.js'
import { folderFlags } from './folder-flags.js'
import { modelFlags } from './model-flags.js'
import { checkedFlags, readSchemaFlags } from './schema-flags.js'
import { UsageError } from './usage-error.js'

/** The `train` command's flags, validated: the fit settings plus where data and output go. */
export interface TrainFlags extends Pick<ResolvedFit, 'epochs' | 'batchSize' | 'seed' | 'logEvery'> {
  /** The optimizer and schedule flags given; the rest take the defaults of the optimizer and schedule (or the checkpoint's). */
  recipe: FitSettings
  /** `--model`, or the description `--model-file` holds. */
  model: ModelSource
  /** `--model-file`: the description file (read already; named so that no output replaces it). */
  modelFile?: string
  depth?: number
  data?: string
  /** `--train-images`, `--train-labels`, `--test-images`, `--test-labels`: IDX files under other names. */
  files?: IdxFiles
  /** How a folder of images is read (`--test-split`, `--channels`, `--size`…). */
  folder: FolderSettings
  /** Where `--save` writes the trained model. */
  save?: string
  /** `--checkpoint-dir`: where a checkpoint is written after every epoch and on Ctrl-C, SIGTERM or SIGHUP. */
  checkpointDir?: string
  /** `--resume`: the checkpoint (file or folder) to continue. */
  resume?: string
  /** `--report`: where the HTML report goes. */
  report?: string
  /** `--start-over`: delete another run's checkpoints found in `--checkpoint-dir`. */
  startOver: boolean
  /** The flags given on the command line (the rest are defaults): a resumed run takes those from its checkpoint. */
  given: ReadonlySet<string>
  limit?: number
  testLimit?: number
  device: Device
  json: boolean
  quiet: boolean
}

/**
 * Validates the `train` flags.
 * @throws UsageError naming the first bad flag, e.g. `--batch-size must be an integer in [1, 1024] (got 0)`
 */
export function parseTrainFlags(raw: RawFlags, given: ReadonlySet<string> = new Set(Object.keys(raw))): TrainFlags {
  const { values, texts } = readSchemaFlags(raw, 'fit')
  // Each value's kind and range, by the core; whether they fit together is checked below.
  checkedFlags('fit', texts, () => checkOptions('fit', values))
  const { epochs, batchSize, seed, logEvery, ...recipe } = values as FitSettings
  const flags: TrainFlags = {
    model: defaultModel(),
    epochs: epochs ?? FIT_DEFAULTS.epochs,
    batchSize: batchSize ?? FIT_DEFAULTS.batchSize,
    recipe,
    seed: seed ?? FIT_DEFAULTS.seed,
    logEvery: logEvery ?? FIT_DEFAULTS.logEvery,
    device: (raw.device ?? optionSpec('model', 'device').default) as Device,
    json: raw.json === true,
    quiet: raw.quiet === true,
    startOver: raw.startOver === true,
    folder: folderFlags(raw),
    given,
  }
  Object.assign(
    flags,
    namingFlags(raw, [
      ['save', '--save', 'a file'],
      ['checkpointDir', '--checkpoint-dir', 'a folder'],
      ['resume', '--resume', 'a checkpoint file or folder'],
      ['report', '--report', 'a file'],
    ] as const),
  )
  if (flags.startOver && flags.checkpointDir === undefined) throw new UsageError('--start-over needs --checkpoint-dir')
  if (flags.startOver && flags.resume !== undefined) throw new UsageError('--start-over and --resume contradict each other: a resumed run keeps its checkpoints')
  if (flags.resume !== undefined && !given.has('model') && raw.modelFile === undefined) {
    // A resumed run's model comes from its checkpoint: --depth alone is checked as a number only.
    const depth = numberFlag(raw, 'depth', '--depth', atLeastOne)
    if (depth !== undefined) flags.depth = depth
  } else {
    const { model, depth } = modelFlags(raw, given.has('model'))
    flags.model = model
    if (depth !== undefined) flags.depth = depth
    // A description file is the model, resumed or not: the run checks it against the checkpoint's.
    if (typeof raw.modelFile === 'string') {
      flags.given = new Set([...flags.given, 'model'])
      flags.modelFile = raw.modelFile
    }
  }
  Object.assign(flags, dataFlags(raw))
  // A resumed run's recipe comes from its checkpoint, which decides whether these fit it.
  if (flags.resume === undefined) {
    checkedFlags('fit', texts, () => resolveRecipe({ epochs: flags.epochs, batchSize: flags.batchSize, seed: flags.seed, ...flags.recipe }))
  }
  return flags
}
