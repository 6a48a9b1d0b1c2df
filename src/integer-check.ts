/**
 * The integer check of user options, apart from options.ts because it needs
 * neither the addon nor Node: the page of `serve` bundles it into its
 * engine worker (src/web/), so the tab refuses a depth with the same
 * message as the API and the CLI.
 * @module
 */

/**
 * The largest whole number any option takes unless it has a smaller limit:
 * the addon's integers (counts, sizes, epochs, seeds) are unsigned 32-bit,
 * and a larger value would wrap around at the boundary (2^32 + 1 epochs
 * would train one).
 */
export const MAX_COUNT = 2 ** 32 - 1

/** How a rejected value is shown in a message: numbers as numbers, strings quoted. */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null) return 'null'
  if (typeof value === 'bigint') return `${value}n`
  return typeof value
}

function fail(name: string, rule: string, value: unknown, shown?: string): never {
  const message = `${name} must be ${rule} (got ${shown ?? show(value)})`
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message)
}

/**
 * Checks that `value` is an integer in `[min, max]`. There is always an upper
 * bound, so every integer that passes fits the addon's unsigned 32-bit ones.
 * @param name - the option's name, used in the message
 * @param max - default {@link MAX_COUNT}
 * @param shown - how to show the rejected value (the CLI passes the raw text)
 */
export function checkInteger(name: string, value: unknown, min: number, max: number = MAX_COUNT, shown?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer in [${min}, ${max}]`, value, shown)
  }
  return value
}
