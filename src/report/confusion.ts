/**
 * The confusion matrix as a heat map (rows: true class, columns: predicted
 * class, the count in every cell) with each class's accuracy as a bar beside
 * its row, and the colour scale underneath.
 * @module
 */
import type { ClassAccuracy, DetailedEvaluation } from '../types.js'
import { needsLightText, rampColor } from './colors.js'
import { countOf, formatPercent } from './format.js'
import { element, px, svg, text } from './svg.js'

/** Cell side: 36 px up to 20 classes, smaller beyond, never under 14 (47 classes fit in 660 px). */
const MAX_CELL = 36
const MIN_CELL = 14
const GRID_PX = 720
/** Cells smaller than this hold no count (the count is in the cell's tooltip). */
const COUNT_CELL = 26
/** Row labels show a class's index and name, cut to this many characters. */
const NAME_CHARS = 18
const TOP = 56
const BAR_GAP = 28
const BAR_WIDTH = 110
const SCALE_HEIGHT = 12
const INK = '#333'
const BAR_COLOR = '#2b8a3e'
const GRADIENT_ID = 'confusion-color-scale'

/**
 * Colour position of a count. The diagonal holds hundreds of images and the
 * mistakes a handful each; on a log scale both stay readable.
 */
function intensity(count: number, max: number): number {
  return max > 0 ? Math.log1p(count) / Math.log1p(max) : 0
}

/** A class as a row label: its index, and its name where that says more. */
function rowLabel(k: number, name: string | undefined): string {
  if (name === undefined || name === String(k)) return String(k)
  return `${k} ${name.length > NAME_CHARS ? `${name.slice(0, NAME_CHARS - 1)}…` : name}`
}

/**
 * The heat map and per-class accuracy of `evaluation` as one `<svg>`: rows
 * are labelled with each class's index and name, columns with its index.
 */
export function confusionHeatmap(evaluation: Pick<DetailedEvaluation, 'confusion' | 'perClass'> & { classNames?: readonly string[] }): string {
  const matrix = evaluation.confusion
  const classes = matrix.length
  const names = evaluation.classNames ?? []
  const CELL = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(GRID_PX / Math.max(classes, 1))))
  const labels = Array.from({ length: classes }, (_, k) => rowLabel(k, names[k]))
  const LEFT = 40 + 7 * Math.max(...labels.map((l) => l.length), 2)
  const small = CELL < COUNT_CELL
  const max = matrix.reduce((m, row) => row.reduce((r, c) => Math.max(r, c), m), 0)
  const gridRight = LEFT + classes * CELL
  const gridBottom = TOP + classes * CELL
  const barsLeft = gridRight + BAR_GAP
  const width = barsLeft + BAR_WIDTH + 64
  const scaleTop = gridBottom + 30
  const height = scaleTop + SCALE_HEIGHT + 40
  const parts: string[] = []

  parts.push(text('predicted class', { x: (LEFT + gridRight) / 2, y: 16, 'text-anchor': 'middle', fill: INK, 'font-weight': 600 }))
  parts.push(
    text('true class', {
      x: 0,
      y: 0,
      transform: `translate(18 ${px((TOP + gridBottom) / 2)}) rotate(-90)`,
      'text-anchor': 'middle',
      fill: INK,
      'font-weight': 600,
    }),
  )
  const labelSize = small ? 9 : 12
  for (let k = 0; k < classes; k++) {
    parts.push(text(String(k), { x: LEFT + (k + 0.5) * CELL, y: TOP - 10, 'text-anchor': 'middle', fill: INK, 'font-size': labelSize }))
    parts.push(text(labels[k], { x: LEFT - 10, y: TOP + (k + 0.5) * CELL + 4, 'text-anchor': 'end', fill: INK, 'font-size': labelSize }))
  }

  matrix.forEach((row, actual) => {
    row.forEach((count, predicted) => {
      const t = intensity(count, max)
      const x = LEFT + predicted * CELL
      const y = TOP + actual * CELL
      const diagonal = actual === predicted
      const tooltip = `true ${labels[actual]}, predicted ${labels[predicted]}: ${countOf(count, 'image')}`
      parts.push(
        element(
          'rect',
          {
            x,
            y,
            width: CELL,
            height: CELL,
            fill: rampColor(t),
            stroke: diagonal ? '#08306b' : '#ffffff',
            'stroke-width': diagonal ? 1.5 : 1,
          },
          `<title>${tooltip}</title>`,
        ),
      )
      if (small) return
      parts.push(
        text(String(count), {
          class: 'cell-count',
          x: x + CELL / 2,
          y: y + CELL / 2 + 4,
          'text-anchor': 'middle',
          'font-size': 11,
          fill: count === 0 ? '#b8bec6' : needsLightText(t) ? '#ffffff' : '#1b1f24',
        }),
      )
    })
  })

  parts.push(perClassBars(evaluation.perClass, classes, barsLeft, CELL))
  parts.push(colorScale(max, scaleTop, LEFT, classes * CELL))
  return svg(width, height, 'Confusion matrix of the test set, with per-class accuracy', parts.join(''))
}

/** One bar per true class, level with its row, 0–100 % wide, with the value written after it. */
function perClassBars(perClass: readonly ClassAccuracy[], classes: number, left: number, CELL: number): string {
  const inset = Math.min(10, CELL / 4)
  const parts = [text('per-class accuracy', { x: left, y: TOP - 10, fill: INK, 'font-weight': 600 })]
  for (let k = 0; k < classes; k++) {
    const y = TOP + k * CELL
    parts.push(element('rect', { x: left, y: y + inset, width: BAR_WIDTH, height: CELL - 2 * inset, fill: '#eef0f2' }))
    const entry = perClass.find((c) => c.label === k)
    if (entry === undefined || entry.total === 0) {
      parts.push(text('no images', { x: left + BAR_WIDTH + 6, y: y + CELL / 2 + 4, fill: '#8a9099' }))
      continue
    }
    parts.push(element('rect', { x: left, y: y + inset, width: BAR_WIDTH * entry.accuracy, height: CELL - 2 * inset, fill: BAR_COLOR }))
    parts.push(text(formatPercent(entry.accuracy, 1), { x: left + BAR_WIDTH + 6, y: y + CELL / 2 + 4, fill: INK }))
  }
  return parts.join('')
}

/**
 * The colour ramp as a gradient bar with ticks at 0, 1, 10, 100… and the
 * largest count; a power of ten too close to that last tick is skipped so
 * the labels do not overlap.
 */
function colorScale(max: number, top: number, LEFT: number, width: number): string {
  const stops = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => element('stop', { offset: t, 'stop-color': rampColor(t) }))
    .join('')
  const parts = [
    element('defs', {}, element('linearGradient', { id: GRADIENT_ID, x1: 0, x2: 1, y1: 0, y2: 0 }, stops)),
    element('rect', { x: LEFT, y: top, width, height: SCALE_HEIGHT, fill: `url(#${GRADIENT_ID})`, stroke: '#c9ced4' }),
  ]
  const ticks = [0]
  for (let v = 1; v < max && intensity(v, max) < 0.88; v *= 10) ticks.push(v)
  if (max > 0) ticks.push(max)
  for (const tick of ticks) {
    const x = LEFT + intensity(tick, max) * width
    parts.push(element('line', { x1: x, x2: x, y1: top + SCALE_HEIGHT, y2: top + SCALE_HEIGHT + 4, stroke: INK }))
    parts.push(text(String(tick), { x, y: top + SCALE_HEIGHT + 16, 'text-anchor': 'middle', fill: INK, 'font-size': 11 }))
  }
  parts.push(
    text('images per cell (log scale)', { x: LEFT + width / 2, y: top + SCALE_HEIGHT + 34, 'text-anchor': 'middle', fill: INK }),
  )
  return parts.join('')
}
