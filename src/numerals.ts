/**
 * Numbers typed by people (command-line flags, URL query parameters) read
 * strictly: JavaScript's Number() also takes hex (`0x50`), binary, octal,
 * exponents (`1e3`), signs and surrounding spaces, so `--port 0x50` would
 * listen on 80 and `--epochs 1e3` train 1,000 epochs without a word.
 * @module
 */

/** The value of `text` if it is plain decimal digits (a whole number, `0016` included), else NaN. */
export function wholeNumber(text: string): number {
  return /^[0-9]+$/.test(text) ? Number(text) : Number.NaN
}

/** The value of `text` if it is a number in decimal notation (`-0.5`, `.5`, `1e-3`), else NaN. */
export function decimalNumber(text: string): number {
  return /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$/i.test(text) ? Number(text) : Number.NaN
}
