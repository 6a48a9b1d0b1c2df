/**
 * Text formats of the CLI's output lines.
 * @module
 */
import { defaultOf, optionWords, optionsOf } from '../options.js'
import type { EpochRecord, FitRecipe, TrainingHistory } from '../types.js'

/** What a training run is about to do, for the header line. */
export interface RunInfo {
  model: string
  paramCount: number
  device: string
  trainSize: number
  testSize: number
  epochs: number
  batchSize: number
  seed: number
  /** The optimizer and schedule (and the rest of the recipe). */
  recipe: FitRecipe
  /** The checkpoint a resumed run continues. */
  resumedFrom?: { path: string; epochsDone: number; batchesDone: number }
}

/** Where a run stopped: the last batch that completed. */
export interface StopPosition {
  epoch: number
  batch: number
  /** The checkpoint written when it stopped. */
  checkpoint?: string
}

/** Columns padded to their widest cell: the first `leftColumns` left-aligned, numbers right-aligned. */
export function table(rows: readonly string[][], leftColumns: number): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r) => r.map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n')
}

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Seconds with one decimal: `35.2 s`. */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)} s`
}

/** A throughput: `1,704 images/s`. */
export function formatRate(imagesPerSec: number): string {
  return `${formatCount(imagesPerSec)} images/s`
}

/** The tutorial's running-loss line, Python's `'[%d, %5d] loss: %.3f'`: `[1,   300] loss: 0.412`. */
export function formatWindow(epoch: number, batch: number, loss: number): string {
  return `[${epoch}, ${String(batch).padStart(5)}] loss: ${loss.toFixed(3)}`
}

/** The tutorial's accuracy line, percent rounded down: `Accuracy on test set: 98 % [9881/10000]`. */
export function formatAccuracy(correct: number, total: number): string {
  const percent = total === 0 ? 0 : Math.floor((100 * correct) / total)
  return `Accuracy on test set: ${percent} % [${correct}/${total}]`
}

/** The line after an epoch's accuracy: loss, time and throughput. */
export function formatEpochDetails(record: EpochRecord, epochs: number): string {
  let line = `epoch ${record.epoch}/${epochs}: train loss ${record.loss.toFixed(4)}, ${formatSeconds(record.seconds)}, ${formatRate(record.trainImagesPerSec)}`
  if (record.testLoss !== undefined) line += `; test loss ${record.testLoss.toFixed(4)}`
  if (record.evalSeconds !== undefined) line += `, evaluated in ${formatSeconds(record.evalSeconds)}`
  return line
}

/** All lines printed after an epoch. */
export function formatEpoch(record: EpochRecord, epochs: number): string[] {
  const lines: string[] = []
  if (record.testCorrect !== undefined && record.testTotal !== undefined) {
    lines.push(formatAccuracy(record.testCorrect, record.testTotal))
  }
  lines.push(formatEpochDetails(record, epochs))
  return lines
}

/** The settings {@link formatRecipe} words itself; any other recipe setting the core declares is listed by name where it is not its default. */
const WORDED: ReadonlySet<string> = new Set([
  'optimizer',
  'lr',
  'momentum',
  'nesterov',
  'beta1',
  'beta2',
  'eps',
  'weightDecay',
  'schedule',
  'stepEpochs',
  'stepGamma',
  'warmupEpochs',
  'warmupStartFactor',
])

/**
 * The optimizer and schedule in words, the reference recipe's as
 * `lr 0.01, momentum 0.5`; others name the optimizer and what differs
 * from plain, e.g. `adamw, lr 0.001, betas 0.9, 0.999, eps 1e-8, weight decay 0.01, cosine schedule`.
 */
export function formatRecipe(r: FitRecipe): string {
  const parts: string[] = r.optimizer === 'sgd' ? [] : [r.optimizer]
  parts.push(`lr ${r.lr}`)
  if (r.momentum !== undefined) parts.push(`momentum ${r.momentum}${r.nesterov === true ? ' (Nesterov)' : ''}`)
  if (r.beta1 !== undefined) parts.push(`betas ${r.beta1}, ${r.beta2}, eps ${r.eps}`)
  if (r.weightDecay !== 0) parts.push(`weight decay ${r.weightDecay}`)
  if (r.schedule === 'step') parts.push(`lr × ${r.stepGamma} every ${r.stepEpochs} epoch${r.stepEpochs === 1 ? '' : 's'}`)
  if (r.schedule === 'cosine') parts.push('cosine schedule')
  if (r.warmupEpochs > 0) parts.push(`${r.warmupEpochs} warm-up epoch${r.warmupEpochs === 1 ? '' : 's'} from ×${r.warmupStartFactor}`)
  const values = r as unknown as Record<string, unknown>
  for (const spec of optionsOf('fit')) {
    const value = values[spec.name]
    if (spec.recipe && !WORDED.has(spec.name) && value !== undefined && value !== defaultOf(spec, r.optimizer)) parts.push(`${optionWords(spec.name)} ${String(value)}`)
  }
  return parts.join(', ')
}

/** The header lines printed before training (a third for a resumed run). */
export function formatStart(info: RunInfo): string[] {
  const lines = [
    `training ${info.model} (${formatCount(info.paramCount)} parameters) on ${info.device}: ` +
      `${info.trainSize} training images, ${info.testSize} test images`,
    `${info.epochs} epoch${info.epochs === 1 ? '' : 's'}, batch size ${info.batchSize}, ` +
      `${formatRecipe(info.recipe)}, seed ${info.seed}`,
  ]
  const from = info.resumedFrom
  if (from) {
    const batches = from.batchesDone === 0 ? '' : ` and ${from.batchesDone} batches`
    lines.push(`resuming ${from.path} after ${from.epochsDone} epoch${from.epochsDone === 1 ? '' : 's'}${batches}`)
  }
  return lines
}

/** The final line: `done: 10 epochs in 512.3 s, test accuracy 98.81 % [9881/10000]`. */
export function formatDone(history: TrainingHistory): string {
  const n = history.epochs.length
  let line = `done: ${n} epoch${n === 1 ? '' : 's'} in ${formatSeconds(history.seconds)}`
  const last = history.epochs.at(-1)
  if (last?.testCorrect !== undefined && last.testTotal !== undefined && last.testAccuracy !== undefined) {
    line += `, test accuracy ${(100 * last.testAccuracy).toFixed(2)} % [${last.testCorrect}/${last.testTotal}]`
  }
  return line
}

/** `stopped at epoch 2, batch 417` (and the checkpoint written), or that training never started. */
export function formatStopped(at: StopPosition | undefined): string {
  if (!at) return 'stopped before training started'
  const line = `stopped at epoch ${at.epoch}, batch ${at.batch}`
  return at.checkpoint === undefined ? line : `${line}; checkpoint written to ${at.checkpoint} (continue with --resume)`
}
