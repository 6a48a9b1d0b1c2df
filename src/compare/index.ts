/**
 * {@link compareModels}: several models trained on the same data and
 * recipe, each over several seeds, side by side; {@link mergeResults}: the
 * same comparison from the results files of its shards.
 * @module
 */
import { appendFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { modelEntry } from '../catalog.js'
import { type ModelSource, checkDescription, resolveSource } from '../describe/source.js'
import type { IdxFiles } from '../data.js'
import { resolveDevice } from '../device.js'
import { abortError } from '../errors.js'
import { resolveRecipe } from '../fit-options.js'
import {
  MAX_SEED,
  checkCallback,
  checkOptions,
  checkOptionsObject,
  checkSignal,
  checkedOptions,
  optionSpec,
  optionsOf,
} from '../options.js'
import { checkDepth } from '../catalog.js'
import type { CompareSettings, DataSettings, Device, FitSettings, FolderSettings, ProgressEvent } from '../types.js'
import { trainInWorkers } from './pool.js'
import { appendRun, checkOneComparison, dropTornLine, readResultsFile, readResultsIfAny, settingsDifference } from './results-file.js'
import { type RunSpec, holdsCheckpoint, trainRun } from './run.js'
import { summarizeRuns } from './summary.js'
import {
  type PlannedRun,
  type Shard,
  type SweepModel,
  checkModelLabels,
  checkSeedRange,
  parseShard,
  planRuns,
  runCheckpointDir,
  seedList,
  shardRuns,
} from './sweep.js'
import type { Comparison, RunRecord, StoredRun } from './types.js'

export { PAPER_FIGURES, RESIDUAL_DESIGNS, summarizeRuns } from './summary.js'
export type { Comparison, ErrorTest, MachineInfo, ModelComparison, PaperFigure, RunData, RunRecord, RunSettings } from './types.js'
export { parseShard, type Shard } from './sweep.js'

/** The recipe options a comparison passes to every run (its own `epochs` and `seed` aside). */
type RecipeSettings = Omit<FitSettings, 'epochs' | 'seed' | 'logEvery'>

/** Options of {@link compareModels}. */
export interface CompareOptions extends CompareSettings, DataSettings, FolderSettings, RecipeSettings {
  /** Models to train, in order (the first is the one the others are tested against): zoo names or descriptions, each under its own name. */
  models: ModelSource[]
  /** Residual units per stage, for the models that take a depth (the ResNets). */
  depth?: number
  /** Default `'auto'`. */
  device?: Device
  /** MNIST-format folder or folder of images; default the bundled MNIST. */
  dir?: string
  /** IDX files under other names, instead of `dir`. */
  files?: IdxFiles
  /**
   * Append each finished run to this file, as one JSON line
   * ({@link RunRecord}). A file that holds runs already is refused unless
   * `resume` is set.
   */
  results?: string
  /**
   * Continue the comparison whose runs `results` holds: finished runs are
   * not trained again, and a run with a checkpoint in `checkpointDir`
   * continues from it. The settings must be the same.
   */
  resume?: boolean
  /** Each run writes a checkpoint after every epoch (and when stopped) into `<checkpointDir>/<model>-seed<seed>/`. */
  checkpointDir?: string
  /** Train only this slice of the runs: `'i/n'` or `{ index, count }` (see `--shard`). */
  shard?: Shard | string
  /** Called with each run's record as soon as it finishes (and is in `results`). */
  onResult?: (record: RunRecord) => void
  /** Called as each run starts training (or continuing its checkpoint). */
  onRunStart?: (run: { model: string; seed: number }) => void
  /** Progress of the runs in training (the events of `fit`'s `onProgress`), with which run it is. */
  onProgress?: (event: ProgressEvent, run: { model: string; seed: number }) => void
  /** Stops every run at its next batch (each leaves a checkpoint where `checkpointDir` is set). */
  signal?: AbortSignal
}

/** What {@link compareModels} and {@link mergeResults} resolve to: the table's content, and the runs behind it. */
export interface CompareResult extends Comparison {
  /** Every run of the comparison, those found in the results file first. */
  records: RunRecord[]
  /** Runs the results file held already (not trained again). */
  found: number
}

/** Default epochs of a comparison, as the core declares it. */
export const COMPARE_EPOCHS = optionSpec('compare', 'epochs').default as number

const RECIPE_NAMES: readonly string[] = optionsOf('fit')
  .map((s) => s.name)
  .filter((name) => !['epochs', 'seed', 'logEvery'].includes(name))
const FOLDER_NAMES: readonly string[] = optionsOf('folder').map((s) => s.name)

function pick(o: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.flatMap((name) => (o[name] === undefined ? [] : [[name, o[name]]])))
}

/** The comparison's models under their names: a zoo model's own name (not an alias), a description's `name`. */
function sweepModels(sources: unknown): SweepModel[] {
  if (!Array.isArray(sources) || sources.length === 0) throw new TypeError('models must be a non-empty array of model names or descriptions')
  const models = sources.map((source): SweepModel => {
    const { description } = resolveSource(source, 'models[]')
    return description === undefined
      ? { label: modelEntry(source as string).name, source: modelEntry(source as string).name }
      : { label: description.name, source: checkDescription(description) }
  })
  checkModelLabels(models)
  return models
}

/** The depth each model takes: `depth` for the zoo models that take one, none for the rest. */
function depthFor(model: SweepModel, depth: number | undefined): number | undefined {
  if (depth === undefined || typeof model.source !== 'string') return undefined
  return modelEntry(model.source).depth === null ? undefined : checkDepth(model.source, depth)
}

/** Where the data comes from, as records show it. */
function dataSource(dir: string | undefined, files: IdxFiles | undefined): string {
  if (files !== undefined) return `${files.trainImages}, ${files.trainLabels}, ${files.testImages}, ${files.testLabels}`
  return dir ?? 'MNIST (bundled)'
}

/** The engine threads of this process's machine: `GOOGLENET_NATIVE_THREADS`, or the cores. */
function totalThreads(): number {
  const set = Number(process.env.GOOGLENET_NATIVE_THREADS)
  return Number.isInteger(set) && set > 0 ? set : availableParallelism()
}

/** The runs the results file finished already, refusing a file of another comparison. */
function finishedRuns(o: Partial<CompareOptions>, probe: RunRecord['settings'], source: string): StoredRun[] {
  if (o.results === undefined) return []
  const file = readResultsIfAny(o.results)
  if (file.runs.length > 0 && o.resume !== true) {
    throw new RangeError(`${o.results} holds ${file.runs.length} finished runs already: resume that comparison (resume, --resume) or name another file`)
  }
  const runs = checkOneComparison(file.runs)
  const first = runs[0]
  if (first !== undefined) {
    const difference = settingsDifference(first.record, { ...first.record, settings: probe })
    if (difference !== null) throw new RangeError(`${first.where} was run with other settings (${difference})`)
    // The data's figures are known once it is read; where it came from, now.
    if (first.record.data.source !== source) throw new RangeError(`${first.where} was run on other data (${first.record.data.source}, not ${source})`)
  }
  dropTornLine(o.results, file)
  // Made (or checked writable) now, not after the first run has trained.
  appendFileSync(o.results, '')
  return runs
}

/**
 * Trains each model once per seed (`seeds` seeds from `seed`) with the
 * same recipe on the same data, evaluating on the test split after every
 * epoch, `workers` runs at a time; appends each finished run to `results`.
 * With `resume`, finished runs are skipped and unfinished ones continue
 * from their checkpoints, to the same results as a comparison that never
 * stopped (with the same threads per run: the engine's sums depend on how
 * a batch is split).
 * @throws (rejects) TypeError/RangeError for bad options, before any training;
 *   an `AbortError` when `signal` aborts
 */
export async function compareModels(options: CompareOptions): Promise<CompareResult> {
  const o = checkOptionsObject('options', options)
  const models = sweepModels(o.models)
  const { epochs, seed, seeds: seedCount, workers: asked } = checkedOptions('compare', o) as CompareSettings & Required<Pick<CompareSettings, 'epochs' | 'seed' | 'seeds'>>
  // One run per engine thread, each on one thread: on 2 cores, 3–5 % more
  // runs per hour than one run on both (docs/compare.md#workers).
  const workers = asked ?? totalThreads()
  checkSeedRange(seed, seedCount, MAX_SEED)
  checkOptions('data', o)
  checkOptions('folder', o)
  const recipe = pick(o, RECIPE_NAMES) as RecipeSettings
  checkOptions('fit', recipe)
  const { seed: _s, epochs: _e, ...resolved } = resolveRecipe({ ...recipe, epochs, seed })
  const folder = pick(o, FOLDER_NAMES) as FolderSettings
  if (o.depth !== undefined && models.every((m) => typeof m.source !== 'string' || modelEntry(m.source).depth === null)) {
    throw new RangeError('depth applies to the zoo models that take one (the ResNets), and none is compared')
  }
  for (const name of ['onResult', 'onProgress', 'onRunStart'] as const) checkCallback(name, o[name])
  const signal = checkSignal('signal', o.signal)
  const shard = typeof o.shard === 'string' ? parseShard(o.shard) : o.shard
  if (shard !== undefined) parseShard(`${shard.index}/${shard.count}`)
  if (o.resume === true && o.results === undefined) throw new TypeError('resume needs results: the file whose comparison it continues')
  const device = resolveDevice(o.device)
  const seeds = seedList(seed, seedCount)
  const probe: RunRecord['settings'] = {
    epochs,
    depth: o.depth ?? null,
    recipe: resolved,
    limit: o.limit ?? null,
    testLimit: o.testLimit ?? null,
    folder: folder as Record<string, number | boolean>,
    device,
  }
  const found = finishedRuns(o, probe, dataSource(o.dir, o.files))
  const done = new Set(found.map((r) => `${r.record.model}\u0000${r.record.seed}`))
  const runs = shardRuns(planRuns(models, seeds), shard)
  const todo = runs.filter((run) => !done.has(`${run.model.label}\u0000${run.seed}`))
  if (o.checkpointDir !== undefined && o.resume !== true) {
    const left = todo.filter((run) => holdsCheckpoint(runCheckpointDir(o.checkpointDir as string, run)))
    if (left.length > 0) {
      throw new RangeError(
        `${o.checkpointDir} holds checkpoints of ${left.map((r) => `${r.model.label} seed ${r.seed}`).join(', ')}: ` +
          'resume that comparison (resume, --resume, with its results file) or choose another folder',
      )
    }
  }
  const sweep = { models: models.map((m) => m.label), seeds }
  const specOf = (run: PlannedRun): RunSpec => {
    const depth = depthFor(run.model, o.depth)
    return {
      model: run.model.source,
      label: run.model.label,
      seed: run.seed,
      ...(depth === undefined ? {} : { depth }),
      epochs,
      recipe,
      ...(o.dir === undefined ? {} : { dir: o.dir }),
      ...(o.files === undefined ? {} : { files: o.files }),
      folder,
      ...(o.limit === undefined ? {} : { limit: o.limit }),
      ...(o.testLimit === undefined ? {} : { testLimit: o.testLimit }),
      device,
      ...(o.checkpointDir === undefined ? {} : { checkpointDir: runCheckpointDir(o.checkpointDir, run) }),
      source: dataSource(o.dir, o.files),
      sweep,
    }
  }

  const records = found.map((r) => r.record)
  const keep = (record: RunRecord): void => {
    const first = records[0]
    const difference = first === undefined ? null : settingsDifference(first, record)
    if (difference !== null) throw new RangeError(`${record.model} seed ${record.seed} ran with other settings than the comparison's (${difference})`)
    if (o.results !== undefined) appendRun(o.results, record)
    records.push(record)
    o.onResult?.(record)
  }
  const onProgress = o.onProgress
  const label = (run: PlannedRun): { model: string; seed: number } => ({ model: run.model.label, seed: run.seed })
  if (workers === 1 || device === 'cuda') {
    for (const run of todo) {
      if (signal?.aborted) throw abortError(signal)
      o.onRunStart?.(label(run))
      keep(
        await trainRun(specOf(run), {
          ...(signal === undefined ? {} : { signal }),
          ...(onProgress === undefined ? {} : { onProgress: (event: ProgressEvent) => onProgress(event, label(run)) }),
        }),
      )
    }
  } else {
    const threads = Math.max(1, Math.floor(totalThreads() / workers))
    await trainInWorkers(
      todo.map((run) => ({ run, spec: specOf(run) })),
      workers,
      threads,
      {
        ...(signal === undefined ? {} : { signal }),
        ...(onProgress === undefined ? {} : { onProgress: (run: PlannedRun, event: ProgressEvent) => onProgress(event, label(run)) }),
        onStart: (run) => o.onRunStart?.(label(run)),
        onResult: (_run, record) => keep(record),
      },
    )
  }
  const planned = new Set(runs.map((run) => `${run.model.label}\u0000${run.seed}`))
  const mine = records.filter((r) => planned.has(`${r.model}\u0000${r.seed}`))
  if (mine.length === 0) throw new RangeError('this shard holds no run: there are fewer runs than shards')
  return { ...summarizeRuns(mine, sweep), records: mine, found: found.length }
}

/**
 * The comparison the results files of its shards (or of stretches of one
 * comparison) make together: runs must share their settings and data;
 * a run found in two files with the same result counts once.
 * @throws Error naming the file and line of a line that is not a run;
 *   RangeError naming two runs that cannot be compared
 */
export function mergeResults(files: readonly string[]): CompareResult {
  if (!Array.isArray(files) || files.length === 0) throw new TypeError('files must name at least one results file')
  const runs = checkOneComparison(files.flatMap((file) => readResultsFile(file).runs))
  const records = runs.map((r) => r.record)
  if (records.length === 0) throw new RangeError(`${files.join(', ')} hold${files.length === 1 ? 's' : ''} no finished run`)
  const first = records[0] as RunRecord
  const models = [...first.sweep.models, ...new Set(records.map((r) => r.model).filter((m) => !first.sweep.models.includes(m)))]
  const seeds = [...new Set(records.flatMap((r) => r.sweep.seeds))].sort((a, b) => a - b)
  return { ...summarizeRuns(records, { models, seeds }), records, found: records.length }
}
