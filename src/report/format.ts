/**
 * How the report writes numbers for people: percentages, counts, durations
 * and configuration values. Non-finite numbers (a diverged loss) print as a
 * dash rather than `NaN`.
 * @module
 */

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** Placeholder for a number that is missing or not finite. */
export const NO_VALUE = '–'

/** A fraction in [0, 1] as a percentage: `0.9664` → `96.64 %`. */
export function formatPercent(fraction: number, digits = 2): string {
  return Number.isFinite(fraction) ? `${(100 * fraction).toFixed(digits)} %` : NO_VALUE
}

/** An image count with thousands separators: `10000` → `10,000`. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? GROUPED.format(n) : NO_VALUE
}

/** A loss value with four decimals. */
export function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(4) : NO_VALUE
}

/** A duration: `0.48 s`, `10.3 s`, `1 min 52 s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return NO_VALUE
  if (seconds < 10) return `${seconds.toFixed(2)} s`
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)} min ${whole % 60} s`
}

/** A configuration value: large integers grouped, booleans as yes/no, the rest as written. */
export function formatConfigValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) >= 10_000 ? formatCount(value) : String(value)
  return value
}

/** `n` and a noun made plural by an `s` unless `n` is 1: `1 image`, `12 images`. */
export function countOf(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`
}
