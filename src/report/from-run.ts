/**
 * Gathers a {@link ReportInput} from a model and its test set, after
 * `train` or for `test`: the detailed evaluation, the first mistakes with
 * their pixels and probabilities, the run's settings and timings.
 * @module
 */
import { basename, dirname } from 'node:path'
import type { Dataset } from '../dataset.js'
import { defaultMnistDir } from '../mnist.js'
import type { Model } from '../model.js'
import { optionWords, optionsOf } from '../options.js'
import { version } from '../package-info.js'
import type { BatchProgressEvent, DetailedEvaluation, FitRecipe, TrainingHistory } from '../types.js'
import type { ReportInput, ReportLossWindow, ReportMisclassified } from './types.js'

/** How many misclassified digits a report shows. */
export const REPORT_MISTAKES = 48

/** Running-loss windows per epoch on the report's loss curve. */
const WINDOWS_PER_EPOCH = 25

/** Averages batch losses over windows of about 1/25 epoch, for the loss curve. */
export class LossWindows {
  readonly windows: ReportLossWindow[] = []
  #sum = 0
  #count = 0

  add(event: BatchProgressEvent): void {
    const size = Math.max(1, Math.ceil(event.batches / WINDOWS_PER_EPOCH))
    this.#sum += event.loss
    this.#count += 1
    if (this.#count >= size || event.batch === event.batches) {
      this.windows.push({ epoch: event.epoch, batch: event.batch, batches: event.batches, loss: this.#sum / this.#count })
      this.#sum = 0
      this.#count = 0
    }
  }
}

/** The first `limit` misclassified images of `data`, with the probability the model gave its wrong answer. */
export async function misclassified(
  model: Model,
  data: Dataset,
  evaluation: DetailedEvaluation,
  limit = REPORT_MISTAKES,
): Promise<ReportMisclassified[]> {
  const labels = data.labels()
  const wrong: number[] = []
  for (let i = 0; i < labels.length && wrong.length < limit; i++) {
    if (evaluation.predictions[i] !== labels[i]) wrong.push(i)
  }
  if (wrong.length === 0) return []
  const size = data.channels * data.height * data.width
  const pixels = new Uint8Array(wrong.length * size)
  wrong.forEach((index, k) => pixels.set(data.image(index), k * size))
  const { probabilities } = await model.predict(pixels, { height: data.height, width: data.width })
  return wrong.map((index, k) => {
    const predicted = evaluation.predictions[index]
    return {
      index,
      label: labels[index],
      predicted,
      probability: probabilities[k * model.classes + predicted],
      pixels: pixels.slice(k * size, (k + 1) * size),
      channels: data.channels,
      width: data.width,
      height: data.height,
      labelName: model.classNames[labels[index]],
      predictedName: model.classNames[predicted],
    }
  })
}

/**
 * What the data is called in a report's title: MNIST for the bundled copy,
 * else the folder it came from (an image folder, or IDX files' folder).
 */
export function dataName(data: Dataset): string {
  const source = data.source
  if (source === undefined) return 'arrays'
  const folder = /^(?:the first \d+ images of )?the (?:training|test) images of (.*)$/.exec(source)?.[1]
  if (folder !== undefined) return basename(folder)
  const file = source.replace(/^the first \d+ images of /, '')
  return dirname(file) === defaultMnistDir() ? 'MNIST' : basename(dirname(file))
}

function mean(values: number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length
}

/** The settings every report lists. */
function modelConfig(model: Model, test: Dataset): Record<string, string | number> {
  return {
    model: model.name,
    ...(model.depth === undefined ? {} : { depth: model.depth }),
    parameters: model.paramCount,
    device: model.device,
    'test images': test.length,
    version,
  }
}

/**
 * The report of a finished training run: `history` is what `fit` returned,
 * `windows` the loss windows collected from its batch events. A resumed run
 * shows the checkpoint's earlier epochs too.
 */
export async function trainingReport(
  model: Model,
  test: Dataset,
  recipe: FitRecipe & { resume: boolean },
  history: TrainingHistory,
  windows: ReportLossWindow[],
  trainSize: number,
): Promise<ReportInput> {
  const started = performance.now()
  const evaluation = await model.evaluate(test, { confusion: true })
  const evalSeconds = (performance.now() - started) / 1000
  const earlier = recipe.resume ? (model.checkpoint?.history ?? []) : []
  const epochs = [...earlier, ...history.epochs]
  const timings: Record<string, number> = { 'training and evaluation': history.seconds, 'final evaluation': evalSeconds }
  const epochSeconds = mean(history.epochs.map((e) => e.seconds))
  if (epochSeconds !== undefined) timings['mean epoch (training only)'] = epochSeconds
  const evalMean = mean(history.epochs.flatMap((e) => (e.evalSeconds === undefined ? [] : [e.evalSeconds])))
  if (evalMean !== undefined) timings['mean evaluation per epoch'] = evalMean
  return {
    title: `${model.name} on ${dataName(test)}`,
    generatedAt: new Date(),
    config: {
      ...modelConfig(model, test),
      'training images': trainSize,
      epochs: recipe.epochs,
      'batch size': recipe.batchSize,
      ...recipeConfig(recipe),
      seed: recipe.seed,
      ...(recipe.resume && model.checkpoint ? { 'resumed from': model.checkpoint.path } : {}),
    },
    timings,
    lossWindows: windows,
    epochs,
    evaluation,
    misclassified: await misclassified(model, test, evaluation),
  }
}

/** The report of evaluating a saved model (`test --report`): no training parts. */
export async function testReport(
  model: Model,
  test: Dataset,
  evaluation: DetailedEvaluation,
  source: string,
  evalSeconds: number,
): Promise<ReportInput> {
  return {
    title: `${model.name} on ${dataName(test)}: test`,
    generatedAt: new Date(),
    config: { ...modelConfig(model, test), 'model file': source, 'epochs trained': model.epochsTrained },
    timings: { evaluation: evalSeconds },
    evaluation,
    misclassified: await misclassified(model, test, evaluation),
  }
}

/** The optimizer and schedule settings of `recipe` that it uses (every recipe setting the core declares), as the report lists them. */
function recipeConfig(recipe: FitRecipe): Record<string, string | number | boolean> {
  const values = recipe as unknown as Record<string, string | number | boolean | undefined>
  return Object.fromEntries(
    optionsOf('fit').flatMap((spec) => {
      const value = values[spec.name]
      return spec.recipe && value !== undefined ? [[optionWords(spec.name), value]] : []
    }),
  )
}
