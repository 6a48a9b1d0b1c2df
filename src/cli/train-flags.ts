/**
 * Turns the raw `train` flags from commander into validated values.
 * @module
 */
import { FIT_DEFAULTS, checkBatchSize, checkLearningRate, checkMomentum, checkSeed } from '../options.js'
import type { ResolvedFit } from '../fit-options.js'
import type { Device, ModelName } from '../types.js'
import { type RawFlags, atLeastOne, depthFlag, modelFlag, numberFlag } from './flags.js'
import { UsageError } from './usage-error.js'

/** The `train` command's flags, validated: the fit settings plus where data and output go. */
export interface TrainFlags extends Pick<ResolvedFit, 'epochs' | 'batchSize' | 'lr' | 'momentum' | 'seed' | 'logEvery'> {
  model: ModelName
  depth?: number
  data?: string
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
  const flags: TrainFlags = {
    model: modelFlag(raw, 'model', '--model', 'googlenet'),
    epochs: numberFlag(raw, 'epochs', '--epochs', atLeastOne, FIT_DEFAULTS.epochs),
    batchSize: numberFlag(raw, 'batchSize', '--batch-size', checkBatchSize, FIT_DEFAULTS.batchSize),
    lr: numberFlag(raw, 'lr', '--lr', checkLearningRate, FIT_DEFAULTS.lr),
    momentum: numberFlag(raw, 'momentum', '--momentum', checkMomentum, FIT_DEFAULTS.momentum),
    seed: numberFlag(raw, 'seed', '--seed', checkSeed, FIT_DEFAULTS.seed),
    logEvery: numberFlag(raw, 'logEvery', '--log-every', atLeastOne, FIT_DEFAULTS.logEvery),
    device: (raw.device as Device | undefined) ?? 'auto',
    json: raw.json === true,
    quiet: raw.quiet === true,
    startOver: raw.startOver === true,
    given,
  }
  for (const [key, flag, what] of [
    ['save', '--save', 'a file'],
    ['checkpointDir', '--checkpoint-dir', 'a folder'],
    ['resume', '--resume', 'a checkpoint file or folder'],
    ['report', '--report', 'a file'],
  ] as const) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must name ${what}`)
    flags[key] = value
  }
  if (flags.startOver && flags.checkpointDir === undefined) throw new UsageError('--start-over needs --checkpoint-dir')
  if (flags.startOver && flags.resume !== undefined) throw new UsageError('--start-over and --resume contradict each other: a resumed run keeps its checkpoints')
  // A resumed run's model comes from its checkpoint: --depth alone is checked as a number only.
  const depth = flags.resume !== undefined && !given.has('model') ? numberFlag(raw, 'depth', '--depth', atLeastOne) : depthFlag(raw, flags.model)
  if (depth !== undefined) flags.depth = depth
  const limit = numberFlag(raw, 'limit', '--limit', atLeastOne)
  if (limit !== undefined) flags.limit = limit
  const testLimit = numberFlag(raw, 'testLimit', '--test-limit', atLeastOne)
  if (testLimit !== undefined) flags.testLimit = testLimit
  if (raw.data !== undefined) {
    if (typeof raw.data !== 'string' || raw.data === '') throw new UsageError('--data must name a folder')
    flags.data = raw.data
  }
  return flags
}
