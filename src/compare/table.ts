/**
 * A comparison as a table of text cells, with the sentences that say how
 * its figures were computed: what the CLI prints and the report shows.
 * @module
 */
import type { Comparison, ModelComparison } from './types.js'

/** Header, rows of cells (right-aligned but the first) and notes. */
export interface ComparisonTable {
  header: string[]
  rows: string[][]
  notes: string[]
}

/** Missing runs named one by one in the notes; the rest are counted. */
const MISSING_NAMED = 6

const percent = (fraction: number): string => (fraction * 100).toFixed(2)
const count = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** A p-value to 2 significant figures, small ones in exponent form. */
function pValue(p: number): string {
  if (p < 0.001) return p.toExponential(1)
  return p.toPrecision(2)
}

/** Seeds as a range where they are consecutive: `0–4`, else listed. */
function seedText(seeds: readonly number[]): string {
  const first = seeds[0]
  const last = seeds.at(-1)
  if (first === undefined || last === undefined) return ''
  if (seeds.length === 1) return `${first}`
  return last - first === seeds.length - 1 ? `${first}–${last}` : seeds.join(', ')
}

function testCell(model: ModelComparison, index: number): string {
  if (model.test !== undefined) {
    const { difference, p, significant } = model.test
    return `${difference >= 0 ? '+' : '−'}${percent(Math.abs(difference))}, p = ${pValue(p)}${significant ? ' *' : ''}`
  }
  return index === 0 ? 'baseline' : '—'
}

/** Every cell of the comparison's table, with notes on how it was computed. */
export function comparisonTable(comparison: Comparison): ComparisonTable {
  const { models } = comparison
  const anyPaper = models.some((m) => m.paper !== undefined)
  const several = models.some((m) => m.seeds.length > 1)
  const first = models[0]
  const header = ['model', 'params', 'runs', 'test error %', '95 % interval', 'best epoch', 's/epoch']
  if (models.length > 1 && several) header.push(`vs ${first?.model} (points)`)
  if (anyPaper) header.push('He et al. 2016')
  const rows = models.map((m, i) => {
    const { mean, sd, low, high } = m.error
    const row = [
      m.model,
      count(m.params),
      `${m.seeds.length}`,
      Number.isNaN(sd) ? percent(mean) : `${percent(mean)} ± ${percent(sd)}`,
      Number.isNaN(low) ? '—' : `${percent(low)}–${percent(high)}`,
      `${m.bestEpoch.epoch}: ${percent(m.bestEpoch.error)}`,
      m.secondsPerEpoch.toFixed(1),
    ]
    if (models.length > 1 && several) row.push(testCell(m, i))
    if (anyPaper) row.push(m.paper === undefined ? '' : `${m.paper.design} ${m.paper.errorPercent.toFixed(2)}`)
    return row
  })
  const epochs = comparison.settings.epochs
  const seeds = [...new Set(models.flatMap((m) => m.seeds))].sort((a, b) => a - b)
  const notes = [
    `Test error: 1 − test accuracy after epoch ${epochs}, mean ± sample standard deviation over seeds ${seedText(seeds)}; ` +
      '95 % interval: mean ± t(0.975, n − 1) · sd / √n. Best epoch: the epoch with the lowest mean test error, and that error.',
  ]
  const tested = models.filter((m) => m.test !== undefined).length
  if (tested > 0 && first !== undefined) {
    notes.push(
      `vs ${first.model}: difference of mean test errors in percentage points, and Welch's two-sided t-test; ` +
        `* marks p < 0.05 after Holm's correction over the ${tested} comparison${tested === 1 ? '' : 's'}.`,
    )
  }
  if (anyPaper) {
    notes.push(
      "He et al. 2016: CIFAR-10 test error (%) of ResNet-110 with the same residual unit, Table 2 of 'Identity Mappings in Deep Residual Networks'. " +
        'Another dataset and depth: compare the ranking, not the values.',
    )
  }
  if (comparison.runs < comparison.expected) {
    const named = comparison.missing.slice(0, MISSING_NAMED).map((r) => `${r.model} seed ${r.seed}`)
    const more = comparison.missing.length - named.length
    notes.push(`${comparison.runs} of ${comparison.expected} runs finished; missing: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}.`)
  }
  return { header, rows, notes }
}

/** The table as aligned text, then its notes. */
export function formatComparisonTable(table: ComparisonTable): string {
  const all = [table.header, ...table.rows]
  const widths = table.header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)))
  const pad = (cell: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...cell].length))
    return i === 0 ? cell + gap : gap + cell
  }
  const lines = all.map((r) => r.map(pad).join('  ').trimEnd())
  return `${lines.join('\n')}\n\n${table.notes.join('\n')}\n`
}
