/**
 * The heat map's colour ramp: white through light to dark blue, so that
 * more images read as darker in colour and in grayscale print alike.
 * @module
 */

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
