/**
 * One run of a comparison, trained in this process: a fresh model, or the
 * continuation of the checkpoint its folder holds, to the record a results
 * file keeps.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import type { ModelSource } from '../describe/source.js'
import type { IdxFiles } from '../data.js'
import { loadedBinary, nativeBinding } from '../native.js'
import { Model } from '../model.js'
import { packageName, version } from '../package-info.js'
import { recipeOfFit } from '../fit-options.js'
import { type TrainOptions, prepareTraining } from '../train.js'
import type { Device, EpochRecord, FitRecipe, FitSettings, FolderSettings, ProgressEvent } from '../types.js'
import type { MachineInfo, RunData, RunRecord, RunSettings } from './types.js'

/** What a run trains: plain data, so that it can be sent to a worker process. */
export interface RunSpec {
  model: ModelSource
  /** The model's name in the comparison. */
  label: string
  seed: number
  /** For the models that take a depth. */
  depth?: number
  epochs: number
  /** The recipe options given (the rest take their defaults). */
  recipe: Omit<FitSettings, 'epochs' | 'seed' | 'logEvery'>
  dir?: string
  files?: IdxFiles
  folder: FolderSettings
  limit?: number
  testLimit?: number
  device: Device
  /** This run's checkpoint folder: a checkpoint found there is continued. */
  checkpointDir?: string
  /** Where the data came from, as the record shows it. */
  source: string
  sweep: RunRecord['sweep']
}

/** Hears a run's progress; stops it. */
export interface RunHooks {
  signal?: AbortSignal
  onProgress?: (event: ProgressEvent) => void
}

const CHECKPOINT_FILE = /^checkpoint-e\d+(-b\d+)?\.safetensors$/

/** Whether `dir` holds a checkpoint of `fit`'s. */
export function holdsCheckpoint(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => CHECKPOINT_FILE.test(name))
}

/** The machine this process trains on. */
export function machineInfo(device: 'cpu' | 'cuda'): MachineInfo {
  const binary = loadedBinary().kind
  const cpu = nativeBinding().cpuInfo()
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    ...(device === 'cpu' ? { isa: cpu.isa } : {}),
    threads: cpu.threads,
    cores: availableParallelism(),
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    package: `${packageName} ${version}`,
    binary,
  }
}

/**
 * Trains `spec`'s run to the end, continuing the checkpoint in its folder
 * when there is one (a run whose checkpoint has every epoch is recorded
 * from it without training), and returns its record.
 * @throws (rejects) what `train` throws, an `AbortError` when `hooks.signal` aborts
 */
export async function trainRun(spec: RunSpec, hooks: RunHooks = {}): Promise<RunRecord> {
  const resuming = spec.checkpointDir !== undefined && holdsCheckpoint(spec.checkpointDir)
  if (resuming) {
    const saved = await Model.loadCheckpoint(spec.checkpointDir as string, { device: spec.device })
    const checkpoint = saved.checkpoint
    if (checkpoint !== undefined && checkpoint.recipe.epochs !== spec.epochs) {
      throw new RangeError(
        `${checkpoint.path} belongs to a run of ${checkpoint.recipe.epochs} epochs, not ${spec.epochs}: ` +
          'resume with the comparison\'s own settings, or choose another checkpoint folder',
      )
    }
    if (checkpoint && checkpoint.batchesDone === 0 && checkpoint.epochsDone >= spec.epochs) {
      const last = checkpoint.history.at(-1)
      return runRecord(spec, saved, checkpoint.history, checkpoint.recipe, checkpoint.epochsDone, {
        train: checkpoint.trainSize,
        test: last?.testTotal ?? 0,
      })
    }
  }
  const options: TrainOptions = {
    model: spec.model,
    seed: spec.seed,
    epochs: spec.epochs,
    ...spec.recipe,
    ...(spec.depth === undefined ? {} : { depth: spec.depth }),
    ...(spec.dir === undefined ? {} : { dir: spec.dir }),
    ...(spec.files === undefined ? {} : { files: spec.files }),
    ...spec.folder,
    ...(spec.limit === undefined ? {} : { limit: spec.limit }),
    ...(spec.testLimit === undefined ? {} : { testLimit: spec.testLimit }),
    device: spec.device,
    ...(spec.checkpointDir === undefined ? {} : resuming ? { resume: spec.checkpointDir } : { checkpointDir: spec.checkpointDir }),
    ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
    ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
  }
  const { model, train, test, fit, resume } = await prepareTraining(options)
  const history = await model.fit(train, { ...fit, validation: test, resume })
  const earlier = resume ? (model.checkpoint?.history ?? []) : []
  const startedAt = resume ? (model.checkpoint?.epochsDone ?? 0) : 0
  return runRecord(spec, model, [...earlier, ...history.epochs], recipeOfFit(fit), startedAt, { train: train.length, test: test.length })
}

function runRecord(
  spec: RunSpec,
  model: Model,
  history: EpochRecord[],
  recipe: FitRecipe,
  resumedAt: number,
  sizes: { train: number; test: number },
): RunRecord {
  const { seed: _seed, epochs: _epochs, ...shared } = recipe
  const settings: RunSettings = {
    epochs: spec.epochs,
    depth: spec.depth ?? null,
    recipe: shared,
    limit: spec.limit ?? null,
    testLimit: spec.testLimit ?? null,
    folder: { ...spec.folder } as Record<string, number | boolean>,
    device: model.device,
  }
  const { height, width } = model.inputSize
  const data: RunData = { source: spec.source, ...sizes, shape: [model.channels, height, width], classes: [...model.classNames] }
  const { params, macs } = model.summary()
  return {
    type: 'run',
    version: 1,
    model: spec.label,
    seed: spec.seed,
    testAccuracy: history.at(-1)?.testAccuracy ?? Number.NaN,
    description: model.description,
    params,
    macs,
    settings,
    data,
    sweep: spec.sweep,
    history,
    machine: machineInfo(model.device),
    resumedAt,
    finishedAt: new Date().toISOString(),
  }
}
