/**
 * A small line chart with axes, grid, markers, point labels, shaded bands
 * and a legend: the one drawing routine behind the report's charts.
 * @module
 */
import { linearScale, logScale, type Domain } from './scale.js'
import { element, px, svg, text } from './svg.js'

/** One axis: its range, where ticks go, how they read. */
export interface ChartAxis {
  label: string
  domain: Domain
  ticks: readonly number[]
  format: (value: number) => string
  /** Place values by their logarithm (the domain must then be positive). */
  log?: boolean
}

/** A point of a series; `label`, when set, is written above it. */
export interface ChartPoint {
  x: number
  y: number
  label?: string
}

/** Where a series' band spans at one `x`: from `low` to `high`. */
export interface ChartBandPoint {
  x: number
  low: number
  high: number
}

/** One line (or set of markers) of the chart. */
export interface ChartSeries {
  name: string
  color: string
  points: readonly ChartPoint[]
  /** Join the points with a line (default) or only mark them. */
  line?: boolean
  /** Draw a dot at each point. */
  markers?: boolean
  /**
   * A shaded area in the series' colour under every line (a spread over
   * seeds, an interval), joined from point to point like the line.
   */
  band?: readonly ChartBandPoint[]
}

/** What {@link lineChart} draws. */
export interface LineChartSpec {
  /** Accessible name and tooltip of the chart. */
  title: string
  x: ChartAxis
  y: ChartAxis
  series: readonly ChartSeries[]
}

const WIDTH = 960
const HEIGHT = 300
const MARGIN = { top: 30, right: 20, bottom: 48, left: 64 } as const
const GRID = '#e3e6ea'
const INK = '#333'
const BAND_OPACITY = 0.18
/** Half the width of the bar that stands for a band of one point. */
const LONE_BAND_HALF_WIDTH = 6

/** The chart as an `<svg>` element; every point must lie within the axes' domains. */
export function lineChart(spec: LineChartSpec): string {
  const left = MARGIN.left
  const right = WIDTH - MARGIN.right
  const top = MARGIN.top
  const bottom = HEIGHT - MARGIN.bottom
  const x = (spec.x.log ? logScale : linearScale)(spec.x.domain, left, right)
  const y = (spec.y.log ? logScale : linearScale)(spec.y.domain, bottom, top)
  const parts: string[] = []

  for (const tick of spec.y.ticks) {
    parts.push(element('line', { x1: left, x2: right, y1: y(tick), y2: y(tick), stroke: GRID }))
    parts.push(text(spec.y.format(tick), { x: left - 8, y: y(tick) + 4, 'text-anchor': 'end', fill: INK }))
  }
  for (const tick of spec.x.ticks) {
    parts.push(element('line', { x1: x(tick), x2: x(tick), y1: bottom, y2: bottom + 5, stroke: INK }))
    parts.push(text(spec.x.format(tick), { x: x(tick), y: bottom + 19, 'text-anchor': 'middle', fill: INK }))
  }
  parts.push(element('line', { x1: left, x2: right, y1: bottom, y2: bottom, stroke: INK }))
  parts.push(element('line', { x1: left, x2: left, y1: top, y2: bottom, stroke: INK }))
  parts.push(text(spec.x.label, { x: (left + right) / 2, y: HEIGHT - 8, 'text-anchor': 'middle', fill: INK }))
  parts.push(
    text(spec.y.label, {
      x: 0,
      y: 0,
      transform: `translate(16 ${px((top + bottom) / 2)}) rotate(-90)`,
      'text-anchor': 'middle',
      fill: INK,
    }),
  )

  // Every band first, so that no band covers another series' line.
  for (const series of spec.series) {
    if (series.band !== undefined) parts.push(band(series.band, series.color, x, y))
  }
  for (const series of spec.series) {
    if ((series.line ?? true) && series.points.length > 1) {
      const path = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(x(p.x))} ${px(y(p.y))}`).join(' ')
      parts.push(element('path', { d: path, fill: 'none', stroke: series.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }))
    }
    for (const p of series.points) {
      // A lone point has no line to show it: it always gets a marker.
      if (series.markers || series.points.length === 1) {
        parts.push(element('circle', { cx: x(p.x), cy: y(p.y), r: 3.5, fill: series.color }))
      }
      if (p.label !== undefined) {
        parts.push(text(p.label, { x: x(p.x), y: y(p.y) - 9, 'text-anchor': 'middle', fill: series.color, 'font-size': 11 }))
      }
    }
  }

  if (spec.series.length > 1) parts.push(legend(spec.series, right, top))
  return svg(WIDTH, HEIGHT, spec.title, parts.join(''))
}

/**
 * A band as one filled polygon: along its high edge, then back along its
 * low edge. A band of one point, which has no width to fill, is a narrow bar.
 */
function band(points: readonly ChartBandPoint[], color: string, x: (v: number) => number, y: (v: number) => number): string {
  const fill = { fill: color, 'fill-opacity': BAND_OPACITY }
  if (points.length === 0) return ''
  if (points.length === 1) {
    const [p] = points
    const top = Math.min(y(p.low), y(p.high))
    const height = Math.abs(y(p.low) - y(p.high))
    return element('rect', { x: x(p.x) - LONE_BAND_HALF_WIDTH, y: top, width: 2 * LONE_BAND_HALF_WIDTH, height, ...fill })
  }
  const high = points.map((p) => `${px(x(p.x))},${px(y(p.high))}`)
  const low = points.map((p) => `${px(x(p.x))},${px(y(p.low))}`).reverse()
  return element('polygon', { points: [...high, ...low].join(' '), ...fill })
}

/**
 * One row per series in the plot's top-right corner, name right-aligned
 * against its swatch, so no text width has to be guessed.
 */
function legend(series: readonly ChartSeries[], right: number, top: number): string {
  return series
    .map((s, i) => {
      const y = top + 12 + 18 * i
      return (
        element('rect', { x: right - 22, y: y - 6, width: 16, height: 4, fill: s.color }) +
        text(s.name, { x: right - 28, y, 'text-anchor': 'end', fill: INK, 'paint-order': 'stroke', stroke: 'white', 'stroke-width': 3 })
      )
    })
    .join('')
}
