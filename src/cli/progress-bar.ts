/**
 * A one-line progress bar for terminals, redrawn in place with `\r`.
 * @module
 */
import type { Output } from './io.js'

/** A bar of `width` cells, `fraction` (0..1) of them filled. */
export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const filled = Math.round(f * width)
  return '█'.repeat(filled) + '░'.repeat(width - filled)
}

/** `75` → `1:15`. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.round(seconds)
  const minutes = Math.floor(s / 60)
  return `${minutes}:${String(s % 60).padStart(2, '0')}`
}

/** Redraws one status line on a terminal at most every `minIntervalMs`. */
export class ProgressBar {
  readonly #stream: Output
  readonly #minIntervalMs: number
  #lastDraw = Number.NEGATIVE_INFINITY
  #shown = false

  constructor(stream: Output, minIntervalMs = 100) {
    this.#stream = stream
    this.#minIntervalMs = minIntervalMs
  }

  /** Terminal width available for the line. */
  get columns(): number {
    return Math.max(20, (this.#stream.columns ?? 80) - 1)
  }

  /** Shows `line` unless the last redraw was too recent (`force` redraws anyway). */
  update(line: string, force = false): void {
    const now = performance.now()
    if (!force && now - this.#lastDraw < this.#minIntervalMs) return
    this.#lastDraw = now
    this.#stream.write(`\r${line.slice(0, this.columns)}\x1b[K`)
    this.#shown = true
  }

  /** Erases the line, so that ordinary output can follow. */
  clear(): void {
    if (!this.#shown) return
    this.#stream.write('\r\x1b[K')
    this.#shown = false
  }
}
