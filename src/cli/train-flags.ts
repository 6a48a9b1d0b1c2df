/**
 * Turns the raw `train` flags from commander into validated values.
 * @module
 */
import { FIT_DEFAULTS, checkInteger, checkPositive, checkSeed, checkUnitInterval } from '../options.js'
import type { Device } from '../types.js'
import { UsageError } from './usage-error.js'

/** The `train` command's flags, validated. */
export interface TrainFlags {
  epochs: number
  batchSize: number
  lr: number
  momentum: number
  seed: number
  logEvery: number
  data?: string
  limit?: number
  testLimit?: number
  device: Device
  json: boolean
  quiet: boolean
}

/** What commander hands the action: strings for given flags, defaults otherwise. */
export type RawTrainFlags = Record<string, unknown>

/** Parses a flag's text as a number ('' and whitespace are not numbers). */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw
  if (typeof raw !== 'string' || raw.trim() === '') return Number.NaN
  return Number(raw)
}

type Check = (name: string, value: unknown, shown?: string) => number

function numberFlag(raw: RawTrainFlags, key: string, flag: string, check: Check, fallback: number): number
function numberFlag(raw: RawTrainFlags, key: string, flag: string, check: Check): number | undefined
function numberFlag(raw: RawTrainFlags, key: string, flag: string, check: Check, fallback?: number): number | undefined {
  const value = raw[key]
  if (value === undefined) return fallback
  try {
    return check(flag, toNumber(value), value === '' ? '""' : String(value))
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}

const atLeastOne: Check = (name, value, shown) => checkInteger(name, value, 1, undefined, shown)

/**
 * Validates the `train` flags.
 * @throws UsageError naming the first bad flag, e.g. `--batch-size must be an integer >= 1 (got 0)`
 */
export function parseTrainFlags(raw: RawTrainFlags): TrainFlags {
  const flags: TrainFlags = {
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
