/**
 * The `compare` command: models trained side by side, one table.
 * @module
 */
import { type Command, Option } from 'commander'
import { type ComparisonRow, compareModels } from '../compare.js'
import { errorMessage, isAbortError } from '../errors.js'
import { checkModelName } from '../catalog.js'
import { optionSpec } from '../options.js'
import type { Device, ModelName } from '../types.js'
import { type RawFlags, addonCheck } from './flags.js'
import { type StopPosition, formatCount, formatSeconds, formatStopped } from './format.js'
import type { Io } from './io.js'
import { StopSignals } from './signals.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'
import { deviceOption, schemaFlags, schemaOption } from './schema-flags.js'

const DEFAULT_MODELS = 'googlenet,lenet5,residual,resnet-original,resnet-full-preact'

function parseModels(raw: unknown): ModelName[] {
  const names = String(raw ?? DEFAULT_MODELS).split(',').map((m) => m.trim()).filter((m) => m !== '')
  if (names.length === 0) throw new UsageError('--models needs at least one model name')
  return names.map((name) => addonCheck('--models', () => checkModelName(name)))
}

/** The comparison table, one row per model. */
export function formatComparison(rows: readonly ComparisonRow[]): string {
  const epochs = Math.max(...rows.map((r) => r.accuracy.length))
  const header = ['model', 'params', 'MACs', ...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`), 'train s']
  const body = rows.map((r) => [
    r.model,
    formatCount(r.params),
    formatCount(r.macs),
    ...r.accuracy.map((a) => `${(a * 100).toFixed(2)} %`),
    formatSeconds(r.seconds),
  ])
  const all = [header, ...body]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return `${all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n')}\n`
}

/**
 * The line after a signal stopped a comparison, like `train`'s:
 * `stopped at epoch 2, batch 37 of lenet5; 1 of 5 models finished (googlenet)`.
 * @param finished - how many of `models` (trained in order) had finished
 * @param at - the last batch of the model in training; undefined before its first
 */
export function formatCompareStopped(models: readonly ModelName[], finished: number, at: StopPosition | undefined): string {
  const current = models[finished]
  const where = at === undefined ? `stopped before ${current} started` : `${formatStopped(at)} of ${current}`
  const names = finished === 0 ? '' : ` (${models.slice(0, finished).join(', ')})`
  return `${where}; ${finished} of ${models.length} models finished${names}`
}

/** Adds `compare` to `program`; `done` receives the exit status. */
export function addCompareCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('compare')
    .description('train several models with the same data, seed and budget, and print one table')
    .addOption(new Option('--models <list>', 'comma-separated model names').default(DEFAULT_MODELS))
    .addOption(schemaOption(optionSpec('compare', 'epochs')))
    .addOption(schemaOption(optionSpec('data', 'limit')))
    .addOption(schemaOption(optionSpec('data', 'testLimit')))
    .addOption(schemaOption(optionSpec('compare', 'seed')))
    .addOption(new Option('--data <dir>', 'MNIST-format folder (default: the bundled MNIST)'))
    .addOption(deviceOption())
    .addOption(new Option('--json', 'one {"model","params","macs","accuracy","seconds"} object per line'))
    .action(async (raw: RawFlags) => {
      const models = parseModels(raw.models)
      const options = {
        models,
        ...schemaFlags(raw, 'compare'),
        ...schemaFlags(raw, 'data'),
        device: raw.device as Device,
        ...(typeof raw.data === 'string' ? { dir: raw.data } : {}),
      }
      const stop = new StopSignals()
      let finished = 0
      let position: StopPosition | undefined
      try {
        const rows = await compareModels({
          ...options,
          signal: stop.signal,
          onProgress: (event) => {
            if (event.type === 'batch') position = { epoch: event.epoch, batch: event.batch }
          },
          onResult: (row) => {
            finished += 1
            position = undefined
            if (raw.json === true) io.stdout.write(`${JSON.stringify(row)}\n`)
            else io.stderr.write(`${row.model}: ${(100 * (row.accuracy.at(-1) ?? 0)).toFixed(2)} % after ${row.accuracy.length} epochs\n`)
          },
        })
        if (raw.json !== true) io.stdout.write(formatComparison(rows))
        done(0)
      } catch (error) {
        if (isAbortError(error)) {
          io.stderr.write(`${formatCompareStopped(models, finished, position)}\n`)
          done(stop.exitStatus)
        } else {
          io.stderr.write(`error: ${errorMessage(error)}\n`)
          done(EXIT_FAILURE)
        }
      } finally {
        stop.dispose()
      }
    })
}
