/**
 * Parsing of numeric command-line flags, shared by the commands.
 * @module
 */
import { errorMessage } from '../errors.js'
import { checkDepth } from '../model.js'
import { checkInteger } from '../options.js'
import type { ModelName } from '../types.js'
import { UsageError } from './usage-error.js'

/** What commander hands an action: strings for given flags, defaults otherwise. */
export type RawFlags = Record<string, unknown>

/** Parses a flag's text as a number ('' and whitespace are not numbers). */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw
  if (typeof raw !== 'string' || raw.trim() === '') return Number.NaN
  return Number(raw)
}

/** A validator from options.ts: throws a message naming the flag. */
export type Check = (name: string, value: unknown, shown?: string) => number

/**
 * Reads flag `key` (shown to users as `flag`) as a number and validates it;
 * absent flags give `fallback`.
 * @throws UsageError naming the flag
 */
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check, fallback: number): number
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check): number | undefined
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check, fallback?: number): number | undefined {
  const value = raw[key]
  if (value === undefined) return fallback
  try {
    return check(flag, toNumber(value), value === '' ? '""' : String(value))
  } catch (error) {
    // A check that could not run (the addon failed to load) is no usage error.
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error
    throw new UsageError(error.message)
  }
}

/** An integer flag in `[1, MAX_COUNT]` (a count, a size). */
export const atLeastOne: Check = (name, value, shown) => checkInteger(name, value, 1, undefined, shown)

/**
 * The `--depth` flag: residual units per stage, for the resnet models only.
 * @throws UsageError for a bad value or a model with a fixed depth
 */
export function depthFlag(raw: RawFlags, model: ModelName): number | undefined {
  // numberFlag checks only a given flag, so checkDepth sees a value and returns a number.
  return numberFlag(raw, 'depth', '--depth', (name, value, shown) => checkDepth(model, value, name, shown) as number)
}

/**
 * Runs a check of flag `flag`'s value (a path, say) and turns its failure
 * into a usage error that names the flag, with `hint` after the reason.
 * @throws UsageError `--flag <reason><hint>`
 */
export function checkFlag(flag: string, check: () => unknown, hint = ''): void {
  try {
    check()
  } catch (error) {
    throw new UsageError(`${flag} ${errorMessage(error)}${hint}`)
  }
}
