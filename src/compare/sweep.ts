/**
 * A comparison's runs: every (model, seed) pair in a fixed order, the slice
 * one shard of a job array takes, and where each run keeps its checkpoints.
 * @module
 */
import { join } from 'node:path'
import type { ModelSource } from '../describe/source.js'

/** One model of a comparison, under the name its rows carry. */
export interface SweepModel {
  label: string
  source: ModelSource
}

/** One run of a comparison. */
export interface PlannedRun {
  /** Its place in the whole comparison (seed-major: every model of the first seed, then the next seed). */
  index: number
  model: SweepModel
  seed: number
}

/** `--shard i/n`: shard `index` (0-based, as `JOB_COMPLETION_INDEX`) of `count`. */
export interface Shard {
  index: number
  count: number
}

/**
 * Every run, seed-major, so that a comparison stopped half-way (or a shard)
 * holds every model at the seeds it reached, not every seed of some models.
 */
export function planRuns(models: readonly SweepModel[], seeds: readonly number[]): PlannedRun[] {
  return seeds.flatMap((seed, s) => models.map((model, m) => ({ index: s * models.length + m, model, seed })))
}

/**
 * The runs shard `shard` takes: every `count`-th, from its index. Each run
 * belongs to exactly one shard, and shards get the models in turn, so
 * shards of a comparison take about as long as each other.
 */
export function shardRuns(runs: readonly PlannedRun[], shard: Shard | undefined): PlannedRun[] {
  return shard === undefined ? [...runs] : runs.filter((run) => run.index % shard.count === shard.index)
}

/**
 * Reads `i/n`.
 * @throws RangeError saying the form, for anything else
 */
export function parseShard(text: string): Shard {
  const match = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim())
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (match === null || count < 1 || index >= count) {
    throw new RangeError(`shard must be i/n with 0 <= i < n, counting from 0 as JOB_COMPLETION_INDEX does (got '${text}')`)
  }
  return { index, count }
}

/** The seeds `seed`, `seed + 1`, …: `count` of them. */
export function seedList(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => seed + i)
}

/** The seed count a comparison's seeds may not exceed, at the top of the seed range. */
export function checkSeedRange(seed: number, count: number, max: number): void {
  if (seed + count - 1 > max) throw new RangeError(`seeds ${seed} to ${seed + count - 1} pass the largest seed, ${max}`)
}

/** A model's name as a folder name: letters, digits, `.`, `_` and `-`; anything else becomes `_`. */
function folderName(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')
}

/** The folder of `run`'s checkpoints under `dir`: `<model>-seed<seed>`. */
export function runCheckpointDir(dir: string, run: Pick<PlannedRun, 'model' | 'seed'>): string {
  return join(dir, `${folderName(run.model.label)}-seed${run.seed}`)
}

/**
 * Refuses models that share a name, or whose names share a checkpoint folder.
 * @throws RangeError naming both
 */
export function checkModelLabels(models: readonly SweepModel[]): void {
  const seen = new Map<string, string>()
  for (const { label } of models) {
    const folder = folderName(label)
    const other = seen.get(folder)
    if (other !== undefined) {
      throw new RangeError(
        other === label
          ? `model '${label}' is named twice: each model of a comparison needs its own name (a description's "name")`
          : `models '${other}' and '${label}' would share the checkpoint folder '${folder}': rename one`,
      )
    }
    seen.set(folder, label)
  }
}

/** What a run is called in messages: its model, and its seed when the comparison has several. */
export function runName(run: { model: string; seed: number }, seeds: number): string {
  return seeds > 1 ? `${run.model} seed ${run.seed}` : run.model
}
