/**
 * Axis arithmetic for the charts: round tick steps and linear mappings that
 * stay finite for degenerate data (one point, all values equal).
 * @module
 */

/** A closed interval `[low, high]` with `low < high` (and `low > 0` on a log axis). */
export type Domain = readonly [number, number]

/** An axis range rounded out to whole ticks. */
export interface NiceAxis {
  domain: Domain
  ticks: number[]
  /** Distance between ticks; tells labels how many decimals they need. */
  step: number
}

/** A logarithmic axis range, from one round tick to another. */
export interface LogAxis {
  domain: Domain
  ticks: number[]
}

/** The step among 1, 2, 5 × 10^k closest above `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough))
  const fraction = rough / power
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
}

/** Decimals needed to write multiples of `step` exactly. */
export function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9))
}

/**
 * About `count` round ticks covering `[min, max]`. Equal bounds are widened
 * (to `[0, 1]` around zero, else by 10 %) so a single value still gets an axis.
 */
export function niceAxis(min: number, max: number, count = 5): NiceAxis {
  let low = min
  let high = max
  if (!(high > low)) {
    const pad = low === 0 ? 1 : Math.abs(low) * 0.1
    high = low + pad
    if (low !== 0) low -= pad
  }
  const step = niceStep((high - low) / count)
  const decimals = decimalsFor(step)
  const first = Math.floor(low / step + 1e-9)
  const last = Math.ceil(high / step - 1e-9)
  const ticks: number[] = []
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)))
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, step }
}

/** Whole-number ticks from `first` to `last`, thinned to at most about `count`. */
export function integerTicks(first: number, last: number, count = 10): number[] {
  const step = Math.max(1, Math.ceil(niceStep(Math.max(1, last - first) / count)))
  const ticks: number[] = []
  for (let v = first; v <= last; v += step) ticks.push(v)
  return ticks
}

/**
 * Ticks at 1, 2 and 5 times each power of ten (only the powers when the
 * range spans more than three of them) covering `[min, max]`, both > 0.
 */
export function logAxis(min: number, max: number): LogAxis {
  const lowPower = Math.floor(Math.log10(min))
  const highPower = Math.ceil(Math.log10(max))
  const multiples = highPower - lowPower > 3 ? [1] : [1, 2, 5]
  const candidates: number[] = []
  for (let power = lowPower; power <= highPower; power++) {
    for (const m of multiples) candidates.push(Number((m * 10 ** power).toPrecision(1)))
  }
  const first = candidates.findLastIndex((v) => v <= min)
  // The first candidate at or above `max`, and never `first` itself: a single value still gets a range.
  const last = Math.max(first + 1, candidates.findIndex((v) => v >= max))
  const ticks = candidates.slice(first, last + 1)
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks }
}

/** Maps `domain` linearly onto `[from, to]` (either direction, for SVG's downward y). */
export function linearScale(domain: Domain, from: number, to: number): (value: number) => number {
  const [low, high] = domain
  return (value) => from + ((value - low) / (high - low)) * (to - from)
}

/** Maps `domain` onto `[from, to]` by the logarithm of the value. */
export function logScale(domain: Domain, from: number, to: number): (value: number) => number {
  const linear = linearScale([Math.log10(domain[0]), Math.log10(domain[1])], from, to)
  return (value) => linear(Math.log10(value))
}
