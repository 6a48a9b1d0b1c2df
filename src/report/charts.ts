/**
 * The training charts: the loss curve over running-loss windows and the
 * test accuracy after each epoch. Each returns an `<svg>`, or a short note
 * when there is nothing to draw.
 * @module
 */
import type { EpochRecord } from '../types.js'
import { escapeHtml } from './escape.js'
import { countOf } from './format.js'
import { lineChart, type ChartAxis, type ChartPoint, type ChartSeries } from './line-chart.js'
import { decimalsFor, integerTicks, logAxis, niceAxis } from './scale.js'
import type { ReportLossWindow } from './types.js'

const TRAIN_COLOR = '#1f6fb2'
const TEST_COLOR = '#d9480f'
const ACCURACY_COLOR = '#2b8a3e'

/** Values spanning more than this factor are drawn on a log axis, where the late epochs stay readable. */
const LOG_RATIO = 10

/** Above this many points, markers and point labels would only clutter a line. */
const MAX_MARKED_POINTS = 40
const MAX_LABELLED_POINTS = 20

/** A paragraph saying why a chart is missing. */
export function note(message: string): string {
  return `<p class="note">${escapeHtml(message)}</p>`
}

/**
 * Running training loss against training progress in epochs (window closing
 * at batch b of B in epoch e sits at e − 1 + b/B), with the test loss after
 * each epoch where there was a validation set. Windows whose loss is not
 * finite (a diverged run) are left out and counted in a note.
 */
export function lossChart(windows: readonly ReportLossWindow[], epochs: readonly EpochRecord[] = []): string {
  const train: ChartPoint[] = windows
    .filter((w) => Number.isFinite(w.loss) && w.batches > 0)
    .map((w) => ({ x: w.epoch - 1 + w.batch / w.batches, y: w.loss }))
  const test: ChartPoint[] = epochs
    .filter((e) => e.testLoss !== undefined && Number.isFinite(e.testLoss))
    .map((e) => ({ x: e.epoch, y: e.testLoss as number }))
  const dropped = windows.length - train.length
  const droppedNote = dropped > 0 ? note(`${countOf(dropped, 'window')} with a non-finite loss left out.`) : ''
  if (train.length === 0 && test.length === 0) {
    return note('No running-loss windows were recorded (an epoch had fewer batches than the logging interval).') + droppedNote
  }

  const epochNumbers = [...windows.map((w) => w.epoch), ...epochs.map((e) => e.epoch)]
  const first = lowest(epochNumbers) - 1
  const last = highest(epochNumbers)
  // One epoch gets fractional ticks; more get whole epochs.
  const xTicks = last - first === 1 ? niceAxis(first, last).ticks : integerTicks(first, last)
  const losses = [...train, ...test].map((p) => p.y)
  const y = spanAxis(lowest(losses), highest(losses), 'cross-entropy loss', 'cross-entropy loss (log scale)')

  const series: ChartSeries[] = []
  if (train.length > 0) {
    const markers = train.length <= MAX_MARKED_POINTS
    series.push({ name: 'training loss, mean of each window', color: TRAIN_COLOR, points: train, markers })
  }
  if (test.length > 0) series.push({ name: 'test loss after each epoch', color: TEST_COLOR, points: test, markers: true })
  return (
    lineChart({
      title: 'Loss during training',
      x: { label: 'epoch', domain: [first, last], ticks: xTicks, format: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)) },
      y,
      series,
    }) + droppedNote
  )
}

/**
 * An axis for values from `low` to `high`, none negative (a loss, an error
 * rate): logarithmic, labelled `logLabel`, when they span more than
 * {@link LOG_RATIO} (as the loss does over the first epoch), else linear
 * from 0, labelled `label`.
 */
export function spanAxis(low: number, high: number, label: string, logLabel: string): ChartAxis {
  if (low > 0 && high / low > LOG_RATIO) {
    const axis = logAxis(low, high)
    return { label: logLabel, domain: axis.domain, ticks: axis.ticks, format: String, log: true }
  }
  const axis = niceAxis(0, high)
  const decimals = decimalsFor(axis.step)
  return { label, domain: axis.domain, ticks: axis.ticks, format: (v) => v.toFixed(decimals) }
}

/** Test accuracy (%) after each epoch, each point labelled with its value. */
export function accuracyChart(epochs: readonly EpochRecord[]): string {
  const measured = epochs.filter((e) => e.testAccuracy !== undefined && Number.isFinite(e.testAccuracy))
  if (measured.length === 0) return note('No test set was evaluated after the epochs.')
  const labelled = measured.length <= MAX_LABELLED_POINTS
  const points: ChartPoint[] = measured.map((e) => {
    const percent = 100 * (e.testAccuracy as number)
    return { x: e.epoch, y: percent, label: labelled ? percent.toFixed(2) : undefined }
  })
  const first = lowest(points.map((p) => p.x))
  const last = highest(points.map((p) => p.x))
  const low = lowest(points.map((p) => p.y))
  const high = highest(points.map((p) => p.y))
  // Room below the lowest point and above the highest one's label, never past 0 or 100 %.
  const y = niceAxis(Math.max(0, low - 1), Math.min(100, high + 0.5))
  const yDecimals = decimalsFor(y.step)
  return lineChart({
    title: 'Test accuracy after each epoch',
    x: { label: 'epoch', domain: [first - 0.5, last + 0.5], ticks: integerTicks(first, last), format: String },
    y: { label: 'test accuracy (%)', domain: y.domain, ticks: y.ticks, format: (v) => v.toFixed(yDecimals) },
    series: [{ name: 'test accuracy', color: ACCURACY_COLOR, points, markers: true }],
  })
}

/** Smallest of non-empty `values` (a loop: spreading tens of thousands of windows into Math.min overflows the stack). */
function lowest(values: readonly number[]): number {
  return values.reduce((a, b) => Math.min(a, b))
}

/** Largest of non-empty `values`. */
function highest(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b))
}
