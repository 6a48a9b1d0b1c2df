/**
 * Parsing of numeric command-line flags, shared by the commands.
 * @module
 */
import { errorMessage } from '../errors.js'
import { checkDepth, checkModelName } from '../catalog.js'
import { MAX_COUNT, checkInteger } from '../options.js'
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
 * Runs a check the addon makes, whose message does not name the flag, and
 * turns its refusal into a usage error that does: `--model: unknown model 'x' (known: …)`.
 * A check that could not run (the addon failed to load) is no usage error.
 * @throws UsageError `<flag>: <the addon's message>`
 */
export function addonCheck<T>(flag: string, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error
    throw new UsageError(`${flag}: ${error.message}`)
  }
}

/**
 * A model name flag (`--model`): one of the catalog's names. Absent, it is `fallback`.
 * @throws UsageError naming the flag and listing the known names
 */
export function modelFlag(raw: RawFlags, key: string, flag: string, fallback: ModelName): ModelName {
  const value = raw[key]
  return value === undefined ? fallback : addonCheck(flag, () => checkModelName(value))
}

/**
 * The `--depth` flag: residual units per stage, for the models that take a
 * depth (the core's rule, with its message).
 * @throws UsageError for a value that is not a whole number, or one `model` does not take
 */
export function depthFlag(raw: RawFlags, model: ModelName): number | undefined {
  const depth = numberFlag(raw, 'depth', '--depth', (name, value, shown) => checkInteger(name, value, 0, MAX_COUNT, shown))
  return depth === undefined ? undefined : addonCheck('--depth', () => checkDepth(model, depth))
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
