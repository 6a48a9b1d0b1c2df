/**
 * A comparison as the input of its HTML report (`compare --report`).
 * @module
 */
import type { CompareReportInput } from '../report/compare-report.js'
import type { CompareResult } from './index.js'
import type { ComparisonTable } from './table.js'
import type { MachineInfo } from './types.js'

/** One line per machine: CPU, instructions, threads, build, runs. */
function machineLine({ machine, runs }: { machine: MachineInfo; runs: number }): string {
  const isa = machine.isa === undefined ? '' : `, ${machine.isa}`
  return `${machine.cpu}${isa}, ${machine.threads} of ${machine.cores} threads, ${machine.platform}, ${machine.binary} build, ${machine.package}: ${runs} run${runs === 1 ? '' : 's'}`
}

/** The report of `result`, whose table is `table`. */
export function compareReportInput(result: CompareResult, table: ComparisonTable, title: string): CompareReportInput {
  const { settings, data } = result
  const seeds = Math.max(...result.models.map((m) => m.seeds.length))
  const config: Record<string, string | number | boolean> = {
    data: `${data.source} (${data.train} training, ${data.test} test images, ${data.shape.join('×')}, ${data.classes.length} classes)`,
    epochs: settings.epochs,
    ...(settings.depth === null ? {} : { depth: settings.depth }),
    device: settings.device,
  }
  for (const [name, value] of Object.entries(settings.recipe)) {
    if (value !== undefined) config[name] = value as string | number | boolean
  }
  return {
    title,
    subtitle: `${result.runs} of ${result.expected} runs${result.runs < result.expected ? ': the comparison is not finished' : ''}`,
    config,
    table: { header: table.header, rows: table.rows },
    notes: table.notes,
    curves: result.models.map((m) => ({
      model: m.model,
      points: m.curve.map((p) => ({ epoch: p.epoch, mean: p.mean, low: p.min, high: p.max })),
    })),
    band: seeds > 1 ? `the band spans the lowest to the highest test error of the ${seeds} seeds; the line is their mean` : 'one seed per model',
    machines: result.machines.map(machineLine),
  }
}
