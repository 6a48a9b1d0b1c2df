/**
 * The training report: one self-contained HTML page (inline CSS and SVG,
 * digits as data URIs, no scripts) that can be mailed, archived or opened
 * offline. A Content-Security-Policy forbids the page to load anything, so a
 * stray external reference would fail loudly instead of leaking a request.
 * @module
 */
import { writeOutputFile } from '../output-file.js'
import { accuracyChart, lossChart } from './charts.js'
import { confusionHeatmap } from './confusion.js'
import { misclassifiedGrid } from './digits.js'
import { escapeHtml } from './escape.js'
import { formatCount, formatLoss, formatPercent } from './format.js'
import { REPORT_CSS } from './style.js'
import { configTable, epochsTable, timingsTable } from './tables.js'
import type { ReportInput } from './types.js'

const CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

/** A titled `<section>`; `body` is markup built (and escaped) by the caller. */
export function section(id: string, heading: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(heading)}</h2>${body}</section>`
}

/**
 * A report's `<header>`: its title, then `headline` (markup built and
 * escaped by the caller) and, when given, when the report was made.
 */
export function pageHeader(title: string, headline: string, generatedAt?: Date): string {
  const generated =
    generatedAt === undefined
      ? ''
      : `<p class="generated">generated ${escapeHtml(generatedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC</p>`
  return `<header><h1>${escapeHtml(title)}</h1>${headline}${generated}</header>`
}

/** Title, headline accuracy and, when given, when the report was made. */
function header(input: ReportInput): string {
  const { accuracy, correct, total, loss } = input.evaluation
  return pageHeader(
    input.title,
    `<p class="headline">test accuracy <strong>${escapeHtml(formatPercent(accuracy))}</strong>` +
      ` · ${escapeHtml(formatCount(correct))} of ${escapeHtml(formatCount(total))} test images correct` +
      ` · test loss ${escapeHtml(formatLoss(loss))}</p>`,
    input.generatedAt,
  )
}

/**
 * A complete self-contained HTML document: the Content-Security-Policy that
 * forbids loading anything, the report's stylesheet (and `extraCss`, for a
 * page's own rules), then `header` and `sections`, markup built by the caller.
 */
export function htmlPage(title: string, header: string, sections: readonly string[], extraCss = ''): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}${extraCss}</style>`,
    '</head>',
    '<body><main>',
    header,
    ...sections,
    '</main></body>',
    '</html>',
    '',
  ].join('\n')
}

/**
 * The report as a complete HTML document. Parts whose data is absent
 * (`lossWindows` and `epochs` for a test run, `timings`) are left out.
 */
export function renderReport(input: ReportInput): string {
  const { evaluation } = input
  const sections = [
    section(
      'run',
      'Run',
      `<div class="tables">${configTable(input.config)}${input.timings === undefined ? '' : timingsTable(input.timings)}</div>`,
    ),
  ]
  if (input.lossWindows !== undefined) sections.push(section('loss', 'Loss', lossChart(input.lossWindows, input.epochs)))
  if (input.epochs !== undefined) {
    const table = input.epochs.length > 0 ? epochsTable(input.epochs) : ''
    sections.push(section('accuracy', 'Test accuracy per epoch', accuracyChart(input.epochs) + table))
  }
  sections.push(section('confusion', 'Confusion matrix', confusionHeatmap(evaluation)))
  sections.push(
    section(
      'misclassified',
      'Misclassified test images',
      misclassifiedGrid(input.misclassified, evaluation.total - evaluation.correct),
    ),
  )
  return htmlPage(input.title, header(input), sections)
}

/**
 * Renders the report and writes it to `path` atomically, by the writer
 * model files use (the core's atomic writer): a reader never sees half a
 * report, a failed write leaves the old one, and errors name `path`.
 */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  writeOutputFile(path, renderReport(input))
}
