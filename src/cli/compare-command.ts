/**
 * The `compare` command: models trained side by side over several seeds,
 * one table with means, intervals and tests; `compare merge`: the same table
 * from the results files of shards.
 * @module
 */
import { type Command, Option } from 'commander'
import { COMPARE_EPOCHS, type CompareOptions, type CompareResult, RESIDUAL_DESIGNS, compareModels, mergeResults } from '../compare/index.js'
import { resolveRecipe } from '../fit-options.js'
import { compareReportInput } from '../compare/report.js'
import { comparisonTable, formatComparisonTable } from '../compare/table.js'
import { errorMessage, isAbortError } from '../errors.js'
import { checkModelName } from '../catalog.js'
import type { ModelSource } from '../describe/source.js'
import { checkOptions, optionSpec, optionsOf } from '../options.js'
import { writeCompareReport } from '../report/compare-report.js'
import type { Device } from '../types.js'
import { depthRange } from './addon-help.js'
import { addDataOptions, dataFlags } from './data-flags.js'
import { type RawFlags, addonCheck, atLeastOne, namingFlags, numberFlag } from './flags.js'
import { folderFlags } from './folder-flags.js'
import { type StopPosition, formatStopped } from './format.js'
import type { Io } from './io.js'
import { readModelFile } from './model-flags.js'
import { StopSignals } from './signals.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'
import { checkedFlags, deviceOption, readSchemaFlags, schemaFlags, schemaOption } from './schema-flags.js'

const DEFAULT_MODELS = 'googlenet,lenet5,residual,resnet-original,resnet-full-preact'

const EXAMPLES = `
Examples:
  $ googlenet-native compare --models lenet5,googlenet --epochs 2
  $ googlenet-native compare --models designs --seeds 5 --epochs 10 --report designs.html
  $ googlenet-native compare --models designs --seeds 5 --results runs.jsonl --checkpoint-dir ckpt
  $ googlenet-native compare --models designs --seeds 5 --results runs.jsonl --checkpoint-dir ckpt --resume
  $ googlenet-native compare --models designs --seeds 5 --shard 0/3 --results shard-0.jsonl
  $ googlenet-native compare merge shard-0.jsonl shard-1.jsonl shard-2.jsonl --report designs.html

Every (model, seed) pair is a run: seeds --seed, --seed + 1, … (--seeds of
them). 'designs' in --models stands for the five residual units of He et al.
2016, (a) to (e). The table gives each model's final test error over its
seeds (mean ± sd, 95 % interval), its best epoch, seconds per epoch and
Welch's t-test against the first model. --workers N trains N runs at once,
each in its own process with its share of the threads. --results appends
each finished run as a JSON line; --resume continues a stopped comparison
(finished runs are skipped, unfinished ones continue from --checkpoint-dir).
--shard i/n trains every n-th run from the i-th (0-based, as
JOB_COMPLETION_INDEX); 'compare merge' joins the shards' results files.
A run's figures depend on its threads: resume with the same --workers.`

/** The recipe flags a comparison takes: `train`'s, less those the comparison sets itself. */
const RECIPE_SPECS = optionsOf('fit').filter((s) => !['epochs', 'seed', 'logEvery'].includes(s.name))

/** Model names of `--models`, with `designs` standing for the paper's five. */
function parseModels(raw: unknown): ModelSource[] {
  const names = String(raw ?? DEFAULT_MODELS)
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
    .flatMap((m) => (m === 'designs' ? [...RESIDUAL_DESIGNS] : [m]))
  if (names.length === 0) throw new UsageError('--models needs at least one model name')
  return names.map((name) => addonCheck('--models', () => checkModelName(name)))
}

/** The comparison's models: `--models` (its default only without `--model-file`), then each `--model-file`. */
function modelSources(raw: RawFlags, modelsGiven: boolean): ModelSource[] {
  const files = (raw.modelFile as string[] | undefined) ?? []
  const zoo = modelsGiven || files.length === 0 ? parseModels(raw.models) : []
  return [...zoo, ...files.map(readModelFile)]
}

/** The `compare` flags as {@link compareModels}'s options (callbacks aside). */
export function parseCompareFlags(raw: RawFlags, given: ReadonlySet<string>): CompareOptions {
  const { values, texts } = readSchemaFlags(raw, 'fit')
  const recipe = Object.fromEntries(RECIPE_SPECS.flatMap((s) => (values[s.name] === undefined ? [] : [[s.name, values[s.name]]])))
  const data = dataFlags(raw)
  const options: CompareOptions = {
    models: modelSources(raw, given.has('models')),
    ...schemaFlags(raw, 'compare'),
    ...recipe,
    ...folderFlags(raw),
    device: raw.device as Device,
    ...(data.data === undefined ? {} : { dir: data.data }),
    ...(data.files === undefined ? {} : { files: data.files }),
    ...(data.limit === undefined ? {} : { limit: data.limit }),
    ...(data.testLimit === undefined ? {} : { testLimit: data.testLimit }),
  }
  // Each value's kind and range, then whether they fit together, by the core; refusals name the flag.
  checkedFlags('fit', texts, () => checkOptions('fit', recipe))
  checkedFlags('fit', texts, () => resolveRecipe({ ...recipe, epochs: options.epochs ?? COMPARE_EPOCHS, seed: 0 }))
  const depth = numberFlag(raw, 'depth', '--depth', atLeastOne)
  if (depth !== undefined) options.depth = depth
  Object.assign(
    options,
    namingFlags(raw, [
      ['results', '--results', 'a file'],
      ['checkpointDir', '--checkpoint-dir', 'a folder'],
      ['shard', '--shard', 'a slice as i/n'],
    ] as const),
  )
  if (raw.resume === true) {
    if (options.results === undefined) throw new UsageError('--resume needs --results: the file whose comparison it continues')
    options.resume = true
  }
  return options
}

/**
 * The line after a signal stopped a comparison:
 * `stopped at epoch 2, batch 37 of lenet5; 1 of 5 runs finished (googlenet)`.
 * @param stopped - the runs in training when it stopped, with where each was (undefined: before its first batch)
 */
export function formatCompareStopped(
  runs: number,
  finished: readonly string[],
  stopped: ReadonlyArray<{ name: string; at: StopPosition | undefined }>,
): string {
  const where =
    stopped.length === 0
      ? 'stopped between runs'
      : stopped.map(({ name, at }) => (at === undefined ? `stopped before ${name} started` : `${formatStopped(at)} of ${name}`)).join(', ')
  const names = finished.length === 0 ? '' : ` (${finished.join(', ')})`
  return `${where}; ${finished.length} of ${runs} runs finished${names}`
}

async function writeOutputs(result: CompareResult, raw: RawFlags, io: Io, title: string): Promise<void> {
  const table = comparisonTable(result)
  if (typeof raw.report === 'string') await writeCompareReport(raw.report, compareReportInput(result, table, title))
  if (raw.json === true) {
    const { records: _records, ...summary } = result
    io.stdout.write(`${JSON.stringify({ type: 'comparison', ...summary })}\n`)
  } else {
    io.stdout.write(formatComparisonTable(table))
  }
}

async function runCompare(raw: RawFlags, given: ReadonlySet<string>, io: Io): Promise<number> {
  const options = parseCompareFlags(raw, given)
  const seeds = options.seeds ?? 1
  const name = (run: { model: string; seed: number }): string => (seeds > 1 ? `${run.model} seed ${run.seed}` : run.model)
  const stop = new StopSignals()
  const finished: string[] = []
  const positions = new Map<string, StopPosition | undefined>()
  try {
    const result = await compareModels({
      ...options,
      signal: stop.signal,
      onRunStart: (run) => positions.set(name(run), undefined),
      onProgress: (event, run) => {
        if (event.type === 'batch') positions.set(name(run), { epoch: event.epoch, batch: event.batch })
        if (event.type === 'epoch' && raw.json !== true) {
          const accuracy = event.testAccuracy === undefined ? '' : `, test ${(event.testAccuracy * 100).toFixed(2)} %`
          io.stderr.write(`${name(run)}: epoch ${event.epoch} of ${event.epochs}${accuracy} (${event.seconds.toFixed(1)} s)\n`)
        }
      },
      onResult: (record) => {
        finished.push(name(record))
        positions.delete(name(record))
        if (raw.json === true) io.stdout.write(`${JSON.stringify(record)}\n`)
        else io.stderr.write(`${name(record)}: ${(record.testAccuracy * 100).toFixed(2)} % after ${record.history.length} epochs\n`)
      },
    })
    const models = result.models.length
    if (options.shard !== undefined && raw.json !== true) {
      io.stderr.write(`shard ${String(options.shard)}: its runs are in the table; compare merge joins the results files of every shard\n`)
    }
    await writeOutputs(result, raw, io, `${models} model${models === 1 ? '' : 's'} × ${seeds} seed${seeds === 1 ? '' : 's'}`)
    return 0
  } catch (error) {
    if (isAbortError(error)) {
      const runs = options.models.length * seeds
      const stopped = [...positions].map(([n, at]) => ({ name: n, at }))
      io.stderr.write(`${formatCompareStopped(runs, finished, stopped)}\n`)
      return stop.exitStatus
    }
    throw error
  } finally {
    stop.dispose()
  }
}

/** Adds `compare` and `compare merge` to `program`; `done` receives the exit status. */
export function addCompareCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const fail = (error: unknown): void => {
    if (error instanceof UsageError) throw error
    io.stderr.write(`error: ${errorMessage(error)}\n`)
    done(EXIT_FAILURE)
  }
  const command = program
    .command('compare')
    .description('train several models over several seeds with the same data and recipe, and print one table')
    .addOption(new Option('--models <list>', "comma-separated model names; 'designs': the five residual units of He et al. 2016").default(DEFAULT_MODELS))
    .addOption(
      new Option('--model-file <file>', 'a model of your own: a description in JSON (see `describe`); repeat for several').argParser(
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    )
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
  for (const name of ['epochs', 'seed', 'seeds', 'workers']) command.addOption(schemaOption(optionSpec('compare', name)))
  for (const spec of RECIPE_SPECS) command.addOption(schemaOption(spec))
  addDataOptions(command)
    .addOption(deviceOption())
    .addOption(new Option('--results <file>', 'append each finished run to this file, one JSON line per run'))
    .addOption(new Option('--resume', 'continue the comparison --results holds: skip finished runs, continue the others from --checkpoint-dir'))
    .addOption(new Option('--checkpoint-dir <dir>', 'each run writes a checkpoint after every epoch (and when stopped) into <dir>/<model>-seed<seed>/'))
    .addOption(new Option('--shard <i/n>', 'train every n-th run from the i-th (0-based, as JOB_COMPLETION_INDEX)'))
    .addOption(new Option('--report <file>', 'write an HTML report: the table, and test error per epoch with a band over seeds'))
    .addOption(new Option('--json', 'one JSON line per finished run (as --results keeps them), then the comparison'))
    .addHelpText('after', EXAMPLES)
    .action(async (raw: RawFlags, self: Command) => {
      const given = new Set(Object.keys(raw).filter((key) => self.getOptionValueSource(key) === 'cli'))
      try {
        done(await runCompare(raw, given, io))
      } catch (error) {
        fail(error)
      }
    })
  command
    .command('merge')
    .description('print the table (and report) of the results files of a comparison: its shards, or its stretches')
    .argument('<files...>', 'results files written by compare --results')
    .addOption(new Option('--report <file>', 'write the HTML report'))
    .addOption(new Option('--json', 'print the comparison as one JSON object'))
    .action(async (files: string[], raw: RawFlags) => {
      try {
        const result = mergeResults(files)
        const seeds = new Set(result.records.map((r) => r.seed)).size
        await writeOutputs(result, raw, io, `${result.models.length} models × ${seeds} seeds`)
        done(0)
      } catch (error) {
        fail(error)
      }
    })
  return command
}
