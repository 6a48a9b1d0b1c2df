/**
 * The `train` command: the reference recipe on MNIST, from a shell.
 * @module
 */
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { addDataOptions } from './data-flags.js'
import type { SkippedFile } from '../folder.js'
import { ProgressBar, renderBar } from './progress-bar.js'
import { writeWarnings } from './reporting.js'
import type { Model } from '../model.js'
import { modelFileOption } from './model-flags.js'
import { errorMessage, isAbortError } from '../errors.js'
import { checkCheckpointFolder, checkOutputFile } from '../output-file.js'
import { furthestCheckpoint } from '../checkpoint.js'
import { LossWindows, trainingReport } from '../report/from-run.js'
import { writeReport } from '../report/render.js'
import { type TrainOptions, prepareTraining } from '../train.js'
import type { StopPosition } from './format.js'
import type { Io } from './io.js'
import { type Reporter, createReporter } from './reporter.js'
import { StopSignals } from './signals.js'
import { depthRange, modelChoices } from './addon-help.js'
import { type FlagFile, checkDistinctFiles } from './distinct-files.js'
import { checkFlag } from './flags.js'
import { type TrainFlags, parseTrainFlags } from './train-flags.js'
import { addSchemaOptions, deviceOption } from './schema-flags.js'
import { recipeOfFit } from '../fit-options.js'
import { EXIT_FAILURE } from './usage-error.js'

const EXAMPLES = `
Examples:
  $ googlenet-native train                      # the reference recipe: 10 epochs on all of MNIST
  $ googlenet-native train --epochs 1 --limit 10000
  $ googlenet-native train --data ./fashion-mnist --json > runs.jsonl
  $ googlenet-native train --checkpoint-dir runs/a       # Ctrl-C, then:
  $ googlenet-native train --resume runs/a               # goes on where it stopped
  $ googlenet-native train --report report.html --save model.safetensors
  $ googlenet-native train --optimizer adamw --weight-decay 0.01 --schedule cosine --warmup-epochs 1

With --resume, the model and recipe (batch size, optimizer and schedule
settings, seed, epochs) come from the checkpoint; --epochs may raise the
total (not with a cosine schedule, which ends with it). Use the same --data
and --limit. On the CPU a resumed run ends with the weights of a run that
never stopped.`

/**
 * Adds `train` to `program`.
 * @param done - receives the command's exit status
 */
export function addTrainCommand(program: Command, io: Io, done: (code: number) => void): Command {
  // Defaults and model names come from the addon, read when they are needed
  // (see addon-help.ts); the recipe's flags from the core's declarations
  // (schema-flags.ts). parseTrainFlags applies the defaults.
  const command = program
    .command('train')
    .description('train a model on MNIST-format data, evaluating on the test split after every epoch')
    .addOption(modelChoices(new Option('--model <name>', 'model to train')))
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
    .addOption(modelFileOption())
  return addDataOptions(addSchemaOptions(command, 'fit'))
    .addOption(deviceOption())
    .addOption(new Option('--save <file>', 'write the trained model to this safetensors file (PyTorch names, with metadata)'))
    .addOption(new Option('--checkpoint-dir <dir>', 'write a checkpoint here after every epoch and on Ctrl-C (or SIGTERM, SIGHUP)'))
    .addOption(new Option('--start-over', "with --checkpoint-dir: delete another run's checkpoints found there (refused otherwise)"))
    .addOption(
      new Option('--resume <path>', 'continue the run of a checkpoint (file, or folder: its furthest one); model and recipe come from it'),
    )
    .addOption(new Option('--report <file>', 'write an HTML report: loss curve, accuracy per epoch, confusion matrix, mistakes'))
    .addOption(new Option('--json', 'write one JSON object per line instead of text'))
    .addOption(new Option('-q, --quiet', 'print only the final line'))
    .addHelpText('after', EXAMPLES)
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const given = new Set(Object.keys(raw).filter((key) => command.getOptionValueSource(key) === 'cli'))
      done(await runTrain(parseTrainFlags(raw, given), io))
    })
}

/** The most skipped files named one by one in warnings. */
const SKIPPED_SHOWN = 10

/** A warning per file a folder left out (the first {@link SKIPPED_SHOWN}), then how many more. */
export function skippedWarnings(skipped: readonly SkippedFile[]): string[] {
  const shown = skipped.slice(0, SKIPPED_SHOWN).map((s) => `skipped ${s.path}: ${s.reason}`)
  const more = skipped.length - shown.length
  return more > 0 ? [...shown, `skipped ${more} more files (info --data lists them all; --strict refuses damaged ones)`] : shown
}

/** Runs a training job and reports it; resolves to the exit status. */
export async function runTrain(flags: TrainFlags, io: Io): Promise<number> {
  checkOutputs(flags)
  const reporter = createReporter(flags, io)
  const stop = new StopSignals()
  const { signal } = stop
  let position: StopPosition | undefined
  let checkpointDir: string | undefined
  try {
    const bar = io.stderr.isTTY === true && !flags.quiet && !flags.json ? new ProgressBar(io.stderr) : undefined
    const onDataProgress = bar && ((done: number, total: number) => bar.update(`decoding images ${renderBar(done / total, 30)} ${done}/${total}`, done === total))
    const prepared = await prepareTraining({ ...trainOptions(flags, signal), ...(onDataProgress ? { onDataProgress } : {}) })
    bar?.clear()
    const { model, train, test, fit, resume } = prepared
    writeWarnings(io, skippedWarnings(prepared.skipped))
    checkpointDir = fit.checkpointDir
    const resumedFrom = resume ? model.checkpoint : undefined
    reporter.start({
      model: model.name,
      paramCount: model.paramCount,
      device: model.device,
      trainSize: train.length,
      testSize: test.length,
      epochs: fit.epochs,
      batchSize: fit.batchSize,
      seed: fit.seed,
      recipe: recipeOfFit(fit),
      ...(resumedFrom ? { resumedFrom: { path: resumedFrom.path, epochsDone: resumedFrom.epochsDone, batchesDone: resumedFrom.batchesDone } } : {}),
    })
    const windows = new LossWindows()
    const history = await model.fit(train, {
      ...fit,
      validation: test,
      resume,
      onProgress: (event) => {
        if (event.type === 'batch') {
          position = { epoch: event.epoch, batch: event.batch }
          windows.add(event)
        }
        reporter.progress(event)
      },
    })
    reporter.done(history)
    let status = 0
    if (flags.save !== undefined) status = await saveOrFallback(model, flags.save, reporter)
    if (flags.report !== undefined) {
      const input = await trainingReport(model, test, { ...fit, resume }, history, windows.windows, train.length)
      await writeReport(flags.report, input)
      reporter.reported(resolve(flags.report))
    }
    return status
  } catch (error) {
    if (isAbortError(error)) {
      reporter.stopped(stopPosition(position, checkpointDir))
      return stop.exitStatus
    }
    reporter.error(errorMessage(error))
    return EXIT_FAILURE
  } finally {
    stop.dispose()
  }
}

/** The options of {@link prepareTraining} the flags give; a resumed run takes only the given ones (the rest come from its checkpoint). */
function trainOptions(flags: TrainFlags, signal: AbortSignal): TrainOptions {
  const take = (key: string): boolean => flags.resume === undefined || flags.given.has(key)
  return {
    ...(take('model') ? { model: flags.model } : {}),
    ...(flags.depth === undefined ? {} : { depth: flags.depth }),
    ...(take('epochs') ? { epochs: flags.epochs } : {}),
    ...(take('batchSize') ? { batchSize: flags.batchSize } : {}),
    ...flags.recipe,
    ...(take('seed') ? { seed: flags.seed } : {}),
    logEvery: flags.logEvery,
    device: flags.device,
    signal,
    ...(flags.data === undefined ? {} : { dir: flags.data }),
    ...(flags.files === undefined ? {} : { files: flags.files }),
    ...flags.folder,
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    ...(flags.testLimit === undefined ? {} : { testLimit: flags.testLimit }),
    ...(flags.checkpointDir === undefined ? {} : { checkpointDir: flags.checkpointDir, startOver: flags.startOver }),
    ...(flags.resume === undefined ? {} : { resume: flags.resume }),
  }
}

/**
 * Refuses, before any work, outputs that could not be written or would
 * destroy a file the run needs: one named twice, or as an input; a `--save`
 * or `--report` target that is not a regular file or whose folder is
 * missing or read-only, and a `--checkpoint-dir` holding another run's
 * checkpoints (unless `--start-over`). Training for minutes and then losing
 * the weights to a typo is what this prevents.
 * @throws UsageError naming the flag
 */
function checkOutputs(flags: TrainFlags): void {
  const { save, report, checkpointDir: dir } = flags
  const given = (files: Array<[string, string | undefined]>): FlagFile[] =>
    files.flatMap(([flag, path]) => (path === undefined ? [] : [{ flag, path }]))
  checkDistinctFiles(
    given([
      ['--model-file', flags.modelFile],
      ['--resume', flags.resume],
    ]),
    given([
      ['--save', save],
      ['--report', report],
    ]),
  )
  if (save !== undefined) checkFlag('--save', () => checkOutputFile(save))
  if (report !== undefined) checkFlag('--report', () => checkOutputFile(report))
  if (dir !== undefined && flags.resume === undefined && !flags.startOver) {
    checkFlag('--checkpoint-dir', () => checkCheckpointFolder(dir), ` (--resume ${dir} continues it, --start-over deletes them)`)
  }
}

/**
 * Saves the trained model to `path`; when that fails after all (the disk
 * filled up, the folder went away), saves it to a file in the system's
 * temporary folder instead and says where, so the training is not lost.
 * @returns the exit status: 0, or 1 when the model went to the fallback file
 */
async function saveOrFallback(model: Model, path: string, reporter: Reporter): Promise<number> {
  try {
    await model.save(path)
    reporter.saved(resolve(path))
    return 0
  } catch (error) {
    const fallback = join(tmpdir(), `googlenet-native-${model.name}-${process.pid}-${Date.now()}.safetensors`)
    try {
      await model.save(fallback)
    } catch (second) {
      throw new Error(`could not save the model to ${resolve(path)} (${errorMessage(error)}) nor to ${fallback} (${errorMessage(second)})`)
    }
    reporter.error(`could not save the model to ${resolve(path)} (${errorMessage(error)}); saved it to ${fallback} instead`)
    return EXIT_FAILURE
  }
}

/**
 * Where a stopped run stands. Batch events reach JS a little after the
 * batches ran, so a checkpoint written at the stop (named after the
 * batches it holds) knows better than the last event seen.
 */
function stopPosition(seen: StopPosition | undefined, dir: string | undefined): StopPosition | undefined {
  if (seen === undefined || dir === undefined) return seen
  let checkpoint: ReturnType<typeof furthestCheckpoint>
  try {
    checkpoint = furthestCheckpoint(dir)
  } catch {
    return seen
  }
  const { path, epochsDone, batchesDone } = checkpoint
  return batchesDone === 0 ? { ...seen, checkpoint: path } : { epoch: epochsDone + 1, batch: batchesDone, checkpoint: path }
}
