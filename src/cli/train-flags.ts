/**
 * Turns the raw `train` flags from commander into validated values.
 * @module
 */
import { defaultModel } from '../catalog.js'
import { FIT_DEFAULTS, checkBatchSize, checkFitSetting, checkInteger, checkSeed } from '../options.js'
import { type RecipeOptions, type ResolvedFit, checkRecipeOptions, resolveRecipe } from '../fit-options.js'
import type { ModelSource } from '../describe/source.js'
import type { Device } from '../types.js'
import { type RawFlags, atLeastOne, decimalFlag, numberFlag } from './flags.js'
import { modelFlags } from './model-flags.js'
import { UsageError } from './usage-error.js'

/** The optimizer and schedule flags, by the option each sets (`fit`'s name). */
export const RECIPE_FLAGS: Readonly<Record<keyof RecipeOptions, string>> = {
  optimizer: '--optimizer',
  lr: '--lr',
  momentum: '--momentum',
  nesterov: '--nesterov',
  weightDecay: '--weight-decay',
  beta1: '--beta1',
  beta2: '--beta2',
  eps: '--eps',
  schedule: '--schedule',
  stepEpochs: '--step-epochs',
  stepGamma: '--step-gamma',
  warmupEpochs: '--warmup-epochs',
  warmupStartFactor: '--warmup-start-factor',
}

/** The `train` command's flags, validated: the fit settings plus where data and output go. */
export interface TrainFlags extends Pick<ResolvedFit, 'epochs' | 'batchSize' | 'seed' | 'logEvery'> {
  /** The optimizer and schedule flags given; the rest take the defaults of the optimizer and schedule (or the checkpoint's). */
  recipe: RecipeOptions
  /** `--model`, or the description `--model-file` holds. */
  model: ModelSource
  /** `--model-file`: the description file (read already; named so that no output replaces it). */
  modelFile?: string
  depth?: number
  data?: string
  /** Where `--save` writes the trained model. */
  save?: string
  /** `--checkpoint-dir`: where a checkpoint is written after every epoch and on Ctrl-C, SIGTERM or SIGHUP. */
  checkpointDir?: string
  /** `--resume`: the checkpoint (file or folder) to continue. */
  resume?: string
  /** `--report`: where the HTML report goes. */
  report?: string
  /** `--start-over`: delete another run's checkpoints found in `--checkpoint-dir`. */
  startOver: boolean
  /** The flags given on the command line (the rest are defaults): a resumed run takes those from its checkpoint. */
  given: ReadonlySet<string>
  limit?: number
  testLimit?: number
  device: Device
  json: boolean
  quiet: boolean
}

/**
 * Validates the `train` flags.
 * @throws UsageError naming the first bad flag, e.g. `--batch-size must be an integer in [1, 1024] (got 0)`
 */
export function parseTrainFlags(raw: RawFlags, given: ReadonlySet<string> = new Set(Object.keys(raw))): TrainFlags {
  const flags: TrainFlags = {
    model: defaultModel(),
    epochs: numberFlag(raw, 'epochs', '--epochs', atLeastOne, FIT_DEFAULTS.epochs),
    batchSize: numberFlag(raw, 'batchSize', '--batch-size', checkBatchSize, FIT_DEFAULTS.batchSize),
    recipe: recipeFlags(raw),
    seed: numberFlag(raw, 'seed', '--seed', checkSeed, FIT_DEFAULTS.seed),
    logEvery: numberFlag(raw, 'logEvery', '--log-every', atLeastOne, FIT_DEFAULTS.logEvery),
    device: (raw.device as Device | undefined) ?? 'auto',
    json: raw.json === true,
    quiet: raw.quiet === true,
    startOver: raw.startOver === true,
    given,
  }
  for (const [key, flag, what] of [
    ['save', '--save', 'a file'],
    ['checkpointDir', '--checkpoint-dir', 'a folder'],
    ['resume', '--resume', 'a checkpoint file or folder'],
    ['report', '--report', 'a file'],
  ] as const) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must name ${what}`)
    flags[key] = value
  }
  if (flags.startOver && flags.checkpointDir === undefined) throw new UsageError('--start-over needs --checkpoint-dir')
  if (flags.startOver && flags.resume !== undefined) throw new UsageError('--start-over and --resume contradict each other: a resumed run keeps its checkpoints')
  if (flags.resume !== undefined && !given.has('model') && raw.modelFile === undefined) {
    // A resumed run's model comes from its checkpoint: --depth alone is checked as a number only.
    const depth = numberFlag(raw, 'depth', '--depth', atLeastOne)
    if (depth !== undefined) flags.depth = depth
  } else {
    const { model, depth } = modelFlags(raw, given.has('model'))
    flags.model = model
    if (depth !== undefined) flags.depth = depth
    // A description file is the model, resumed or not: the run checks it against the checkpoint's.
    if (typeof raw.modelFile === 'string') {
      flags.given = new Set([...flags.given, 'model'])
      flags.modelFile = raw.modelFile
    }
  }
  const limit = numberFlag(raw, 'limit', '--limit', atLeastOne)
  if (limit !== undefined) flags.limit = limit
  const testLimit = numberFlag(raw, 'testLimit', '--test-limit', atLeastOne)
  if (testLimit !== undefined) flags.testLimit = testLimit
  if (raw.data !== undefined) {
    if (typeof raw.data !== 'string' || raw.data === '') throw new UsageError('--data must name a folder')
    flags.data = raw.data
  }
  // A resumed run's recipe comes from its checkpoint, which decides whether these fit it.
  if (flags.resume === undefined) {
    asUsageError(() => resolveRecipe({ epochs: flags.epochs, batchSize: flags.batchSize, seed: flags.seed }, flags.recipe))
  }
  return flags
}

/** The numeric recipe flags, by the option each sets; the rules are the core's. */
const RECIPE_NUMBERS = ['lr', 'momentum', 'weightDecay', 'beta1', 'beta2', 'eps', 'stepGamma', 'warmupStartFactor'] as const

/**
 * The optimizer and schedule flags given, each checked under its flag's
 * name (`--weight-decay must be a finite number >= 0 (got -1)`).
 * @throws UsageError naming the first bad flag
 */
function recipeFlags(raw: RawFlags): RecipeOptions {
  const given: RecipeOptions = asUsageError(() =>
    checkRecipeOptions({ optimizer: raw.optimizer, schedule: raw.schedule, nesterov: raw.nesterov } as RecipeOptions, (o) => RECIPE_FLAGS[o]),
  )
  for (const key of RECIPE_NUMBERS) {
    const value = decimalFlag(raw, key, RECIPE_FLAGS[key], (name, v, shown) => checkFitSetting(key, name, v, shown))
    if (value !== undefined) given[key] = value
  }
  const stepEpochs = numberFlag(raw, 'stepEpochs', RECIPE_FLAGS.stepEpochs, atLeastOne)
  if (stepEpochs !== undefined) given.stepEpochs = stepEpochs
  const warmupEpochs = numberFlag(raw, 'warmupEpochs', RECIPE_FLAGS.warmupEpochs, (name, v, shown) => checkInteger(name, v, 0, undefined, shown))
  if (warmupEpochs !== undefined) given.warmupEpochs = warmupEpochs
  return given
}

/**
 * Runs a check whose refusal (a RangeError or TypeError) is a usage error;
 * a message that begins with an option's name (the core's, such as
 * `stepGamma does not apply to …`) names its flag instead.
 */
function asUsageError<T>(check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error
    const [first = '', ...rest] = error.message.split(' ')
    const flag = RECIPE_FLAGS[first as keyof RecipeOptions] as string | undefined
    throw new UsageError(flag === undefined ? error.message : [flag, ...rest].join(' '))
  }
}
