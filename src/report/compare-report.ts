/**
 * The report of a multi-seed comparison (`compare --seeds N`): the runs'
 * shared settings and machines, the comparison table and the test error
 * after each epoch per model, its spread over seeds drawn as a band. A page
 * as self-contained as the training report, by the same shell.
 * @module
 */
import { writeOutputFile } from '../output-file.js'
import { note, spanAxis } from './charts.js'
import { seriesColor } from './colors.js'
import { escapeHtml } from './escape.js'
import { NO_VALUE } from './format.js'
import { type ChartSeries, lineChart } from './line-chart.js'
import { htmlPage, pageHeader, section } from './render.js'
import { integerTicks } from './scale.js'
import { configTable } from './tables.js'

/** What renderCompareReport draws: plain data, formatted by the caller where it is text. */
export interface CompareReportInput {
  /** Heading, e.g. `5 models × 5 seeds on MNIST`. */
  title: string
  /** Shown under the title when present (kept out for reproducible pages). */
  generatedAt?: Date
  /** One line under the title, e.g. `25 of 25 runs` or `15 of 25 runs: the table is partial`. */
  subtitle: string
  /** The settings shared by every run: epochs, batch size, lr, data, depth, threads… */
  config: Record<string, string | number | boolean>
  /** The comparison table, already formatted: header cells, then rows of cells (same length). */
  table: { header: readonly string[]; rows: readonly (readonly string[])[] }
  /** Sentences under the table (how intervals and tests were computed, significance marks…). */
  notes: readonly string[]
  /** Per model, test error after each epoch over its seeds: mean, and the band's edges; errors are fractions in [0, 1]. */
  curves: readonly { model: string; points: readonly { epoch: number; mean: number; low: number; high: number }[] }[]
  /** What the band is, for the legend/caption, e.g. `mean ± 1 sd over 5 seeds` */
  band: string
  /** The machines the runs came from, one line each (CPU, ISA, threads, runs). */
  machines: readonly string[]
}

/** The page's own rules, added to the report's stylesheet. */
const COMPARE_CSS = `
.table-scroll { overflow-x: auto; }
table.comparison { font-variant-numeric: tabular-nums; }
table.comparison th[scope="col"] { color: #57606a; }
table.comparison th[scope="row"] { color: inherit; }
table.comparison .number { text-align: right; }
.table-notes p { margin: 8px 0 0; color: #57606a; }
figure.chart { margin: 0; }
figure.chart figcaption { margin-top: 4px; color: #57606a; }
`

/** A cell that reads as a number (`1.23 %`, `−0.4 pp`, `< 0.001`, `[0.5 %, 0.7 %]`), or says there is none. */
function isNumeric(cell: string): boolean {
  const trimmed = cell.trim()
  return /^[[(]?[+\-−±<>≤≥≈~]?\s?\.?\d/.test(trimmed) || trimmed === NO_VALUE || trimmed === '—' || trimmed === '-'
}

/**
 * The comparison table. Its first column names the row; a column whose
 * every cell reads as a number is right-aligned, its header too.
 * @throws RangeError when a row's length differs from the header's
 */
function comparisonTable(table: CompareReportInput['table']): string {
  const { header, rows } = table
  rows.forEach((row, i) => {
    if (row.length !== header.length) {
      throw new RangeError(`comparison table row ${i + 1} has ${row.length} cells, its header ${header.length}`)
    }
  })
  const numeric = header.map((_, column) => column > 0 && rows.length > 0 && rows.every((row) => isNumeric(row[column])))
  const cls = (column: number): string => (numeric[column] ? ' class="number"' : '')
  const head = header.map((cell, column) => `<th scope="col"${cls(column)}>${escapeHtml(cell)}</th>`).join('')
  const body = rows
    .map((row) => {
      const cells = row.map((cell, column) =>
        column === 0 ? `<th scope="row">${escapeHtml(cell)}</th>` : `<td${cls(column)}>${escapeHtml(cell)}</td>`,
      )
      return `<tr>${cells.join('')}</tr>`
    })
    .join('')
  return `<div class="table-scroll"><table class="comparison"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
}

/** The machines the runs came from, one row each, captioned like the configuration beside it. */
function machinesTable(machines: readonly string[]): string {
  if (machines.length === 0) return ''
  const rows = machines.map((line) => `<tr><td>${escapeHtml(line)}</td></tr>`).join('')
  return `<table class="key-value"><caption>${machines.length === 1 ? 'Machine' : 'Machines'}</caption><tbody>${rows}</tbody></table>`
}

/**
 * Test error (%) after each epoch, one series per model: its mean over the
 * seeds, marked at each epoch, over a band between the edges it was given.
 * Points whose mean is not finite are left out, as are band points whose
 * edges are not; a model with no point left is named in a note. Values are
 * clamped to [0, 1] first: a band of mean ± sd may reach below 0.
 */
function errorCurvesChart(curves: CompareReportInput['curves'], band: string): string {
  const percent = (error: number): number => 100 * Math.min(1, Math.max(0, error))
  const drawn = curves.map((curve, i): ChartSeries => {
    const sorted = [...curve.points].sort((a, b) => a.epoch - b.epoch)
    const means = sorted.filter((p) => Number.isFinite(p.epoch) && Number.isFinite(p.mean))
    const edges = means.filter((p) => Number.isFinite(p.low) && Number.isFinite(p.high))
    return {
      name: curve.model,
      color: seriesColor(i),
      points: means.map((p) => ({ x: p.epoch, y: percent(p.mean) })),
      markers: true,
      band: edges.map((p) => ({ x: p.epoch, low: percent(p.low), high: percent(p.high) })),
    }
  })
  const series = drawn.filter((s) => s.points.length > 0)
  const missing = drawn.filter((s) => s.points.length === 0).map((s) => s.name)
  if (series.length === 0) return note('No test error was recorded after any epoch.')
  const missingNote = missing.length > 0 ? note(`No test error was recorded for ${missing.join(', ')}.`) : ''

  const epochs = series.flatMap((s) => s.points.map((p) => p.x))
  const values = series.flatMap((s) => [...s.points.map((p) => p.y), ...(s.band ?? []).flatMap((b) => [b.low, b.high])])
  const first = Math.min(...epochs)
  const last = Math.max(...epochs)
  const chart = lineChart({
    title: 'Test error after each epoch',
    x: { label: 'epoch', domain: [first - 0.5, last + 0.5], ticks: integerTicks(first, last), format: String },
    // Logarithmic when the errors span more than a factor of 10, else linear from 0.
    y: spanAxis(Math.min(...values), Math.max(...values), 'test error (%)', 'test error (%, log scale)'),
    series,
  })
  const caption = `Lines: mean test error after each epoch; shaded bands: ${band}.`
  return `<figure class="chart">${chart}<figcaption>${escapeHtml(caption)}</figcaption></figure>${missingNote}`
}

/** The comparison report as a complete HTML document. */
export function renderCompareReport(input: CompareReportInput): string {
  const notes = input.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('')
  const sections = [
    section('runs', 'Runs', `<div class="tables">${configTable(input.config)}${machinesTable(input.machines)}</div>`),
    section(
      'comparison',
      'Comparison',
      comparisonTable(input.table) + (notes === '' ? '' : `<div class="table-notes">${notes}</div>`),
    ),
    section('curves', 'Test error per epoch', errorCurvesChart(input.curves, input.band)),
  ]
  const header = pageHeader(input.title, `<p class="headline">${escapeHtml(input.subtitle)}</p>`, input.generatedAt)
  return htmlPage(input.title, header, sections, COMPARE_CSS)
}

/**
 * Renders the comparison report and writes it to `path` atomically, by the
 * writer every output file goes through, as the training report is.
 */
export async function writeCompareReport(path: string, input: CompareReportInput): Promise<void> {
  writeOutputFile(path, renderCompareReport(input))
}
