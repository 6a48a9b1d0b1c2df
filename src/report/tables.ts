/**
 * The report's tables: the run's configuration, its timings and one row
 * per epoch.
 * @module
 */
import type { EpochRecord } from '../types.js'
import { escapeHtml } from './escape.js'
import { NO_VALUE, formatConfigValue, formatCount, formatLoss, formatPercent, formatSeconds } from './format.js'

/** A two-column table of names and already-formatted values, both escaped here. */
function keyValueTable(caption: string, rows: readonly (readonly [string, string])[]): string {
  const body = rows.map(([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('')
  return `<table class="key-value"><caption>${escapeHtml(caption)}</caption><tbody>${body}</tbody></table>`
}

/** The run's settings, in the caller's order. */
export function configTable(config: Readonly<Record<string, string | number | boolean>>): string {
  return keyValueTable(
    'Configuration',
    Object.entries(config).map(([name, value]) => [name, formatConfigValue(value)]),
  )
}

/** Durations, given in seconds. */
export function timingsTable(timings: Readonly<Record<string, number>>): string {
  return keyValueTable(
    'Timings',
    Object.entries(timings).map(([name, seconds]) => [name, formatSeconds(seconds)]),
  )
}

/** One row per epoch: losses, test accuracy, time and throughput. */
export function epochsTable(epochs: readonly EpochRecord[]): string {
  const optional = (value: number | undefined, format: (v: number) => string): string =>
    value === undefined ? NO_VALUE : format(value)
  const head = ['epoch', 'training loss', 'test loss', 'test accuracy', 'training time', 'images/s', 'evaluation time']
    .map((name) => `<th scope="col">${name}</th>`)
    .join('')
  const rows = epochs
    .map((e) =>
      [
        String(e.epoch),
        formatLoss(e.loss),
        optional(e.testLoss, formatLoss),
        optional(e.testAccuracy, (a) => formatPercent(a)),
        formatSeconds(e.seconds),
        formatCount(e.trainImagesPerSec),
        optional(e.evalSeconds, formatSeconds),
      ]
        .map((cell) => `<td>${escapeHtml(cell)}</td>`)
        .join(''),
    )
    .map((cells) => `<tr>${cells}</tr>`)
    .join('')
  return `<table class="epochs"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`
}
