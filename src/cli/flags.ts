/**
 * Parsing of numeric command-line flags, shared by the commands.
 * @module
 */
import { errorMessage } from '../errors.js'
import { checkDepth, checkModelName } from '../catalog.js'
import { MAX_COUNT, checkInteger } from '../options.js'
import { decimalNumber, wholeNumber } from '../numerals.js'
import type { ModelName } from '../types.js'
import { UsageError } from './usage-error.js'

/** What commander hands an action: strings for given flags, defaults otherwise. */
export type RawFlags = Record<string, unknown>

/** A flag's value as a number: commander hands defaults as numbers, and given flags as text, read by `read`. */
function toNumber(raw: unknown, read: (text: string) => number): number {
  if (typeof raw === 'number') return raw
  return typeof raw === 'string' ? read(raw) : Number.NaN
}

/** A validator from options.ts: throws a message naming the flag. */
export type Check = (name: string, value: unknown, shown?: string) => number

/**
 * Reads integer flag `key` (shown to users as `flag`), written in plain
 * decimal digits (`0x10`, `1e3`, `+5` and ` 12` are refused, see
 * {@link wholeNumber}), and validates it; absent flags give `fallback`.
 * @throws UsageError naming the flag
 */
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check, fallback: number): number
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check): number | undefined
export function numberFlag(raw: RawFlags, key: string, flag: string, check: Check, fallback?: number): number | undefined {
  return readFlag(raw, key, flag, check, wholeNumber) ?? fallback
}

/**
 * Reads flag `key`, a fraction such as a learning rate, in decimal notation
 * (`0.01`, `1e-3`; see {@link decimalNumber}), and validates it.
 * @throws UsageError naming the flag
 */
export function decimalFlag(raw: RawFlags, key: string, flag: string, check: Check): number | undefined {
  return readFlag(raw, key, flag, check, decimalNumber)
}

function readFlag(raw: RawFlags, key: string, flag: string, check: Check, read: (text: string) => number): number | undefined {
  const value = raw[key]
  if (value === undefined) return undefined
  try {
    return check(flag, toNumber(value, read), value === '' ? '""' : String(value))
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
export function depthFlag(raw: RawFlags, model: string): number | undefined {
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

/**
 * The flags that name something (a file, a folder), given as
 * `[key, flag, what]`: each one given must be a non-empty string.
 * @throws UsageError `--flag must name <what>`
 */
export function namingFlags<K extends string>(raw: RawFlags, specs: ReadonlyArray<readonly [K, string, string]>): Partial<Record<K, string>> {
  const flags: Partial<Record<K, string>> = {}
  for (const [key, flag, what] of specs) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must name ${what}`)
    flags[key] = value
  }
  return flags
}
