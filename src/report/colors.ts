/**
 * The report's colours: the heat map's ramp, white through light to dark
 * blue, so that more images read as darker in colour and in grayscale print
 * alike; and a qualitative palette for charts with one series per model.
 * @module
 */

/**
 * Okabe and Ito's colour-blind-safe palette (its yellow, too faint on
 * white, left out), then a neutral gray.
 */
const PALETTE: readonly string[] = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#999999']

/** The `index`-th series' colour; past the palette's end the colours repeat. */
export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length]
}

const RAMP: readonly (readonly [number, number, number])[] = [
  [255, 255, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
]

/** The ramp's colour at `t` in [0, 1] (clamped), as `#rrggbb`. */
export function rampColor(t: number): string {
  const position = Math.min(1, Math.max(0, t)) * (RAMP.length - 1)
  const index = Math.min(RAMP.length - 2, Math.floor(position))
  const f = position - index
  const from = RAMP[index]
  const to = RAMP[index + 1]
  return `#${from.map((c, k) => Math.round(c + f * (to[k] - c)).toString(16).padStart(2, '0')).join('')}`
}

/** Whether text on the ramp's colour at `t` should be white rather than dark. */
export function needsLightText(t: number): boolean {
  return t > 0.6
}
