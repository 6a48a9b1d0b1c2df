/**
 * Turns the raw `train` flags from commander into validated values.
 * @module
 */
import { FIT_DEFAULTS, checkPositive, checkSeed, checkUnitInterval } from '../options.js'
import type { ResolvedFit } from '../fit-options.js'
import type { Device, ModelName } from '../types.js'
import { type RawFlags, atLeastOne, depthFlag, numberFlag } from './flags.js'
import { UsageError } from './usage-error.js'

/** The `train` command's flags, validated: the fit settings plus where data and output go. */
export interface TrainFlags extends Pick<ResolvedFit, 'epochs' | 'batchSize' | 'lr' | 'momentum' | 'seed' | 'logEvery'> {
  model: ModelName
  depth?: number
  data?: string
  /** Where `--save` writes the trained model. */
  save?: string
  limit?: number
  testLimit?: number
  device: Device
  json: boolean
  quiet: boolean
}

/**
 * Validates the `train` flags.
 * @throws UsageError naming the first bad flag, e.g. `--batch-size must be an integer >= 1 (got 0)`
 */
export function parseTrainFlags(raw: RawFlags): TrainFlags {
  const flags: TrainFlags = {
    // commander has already checked it against the choices.
    model: (raw.model as ModelName | undefined) ?? 'googlenet',
    epochs: numberFlag(raw, 'epochs', '--epochs', atLeastOne, FIT_DEFAULTS.epochs),
    batchSize: numberFlag(raw, 'batchSize', '--batch-size', atLeastOne, FIT_DEFAULTS.batchSize),
    lr: numberFlag(raw, 'lr', '--lr', checkPositive, FIT_DEFAULTS.lr),
    momentum: numberFlag(raw, 'momentum', '--momentum', checkUnitInterval, FIT_DEFAULTS.momentum),
    seed: numberFlag(raw, 'seed', '--seed', checkSeed, FIT_DEFAULTS.seed),
    logEvery: numberFlag(raw, 'logEvery', '--log-every', atLeastOne, FIT_DEFAULTS.logEvery),
    device: (raw.device as Device | undefined) ?? 'auto',
    json: raw.json === true,
    quiet: raw.quiet === true,
  }
  const depth = depthFlag(raw, flags.model)
  if (depth !== undefined) flags.depth = depth
  const limit = numberFlag(raw, 'limit', '--limit', atLeastOne)
  if (limit !== undefined) flags.limit = limit
  const testLimit = numberFlag(raw, 'testLimit', '--test-limit', atLeastOne)
  if (testLimit !== undefined) flags.testLimit = testLimit
  if (raw.save !== undefined) {
    if (typeof raw.save !== 'string' || raw.save === '') throw new UsageError('--save must name a file')
    flags.save = raw.save
  }
  if (raw.data !== undefined) {
    if (typeof raw.data !== 'string' || raw.data === '') throw new UsageError('--data must name a folder')
    flags.data = raw.data
  }
  return flags
}
