/**
 * {@link compareModels}: several models trained on the same data, seed and
 * budget, side by side.
 * @module
 */
import { loadMnist } from './mnist.js'
import { checkModelName } from './catalog.js'
import { Model } from './model.js'
import { checkCallback, checkOptions, checkOptionsObject, checkedOptions, optionSpec } from './options.js'
import type { CompareSettings, DataSettings, Device, ModelName, ProgressEvent } from './types.js'

/** Options of {@link compareModels}. */
export interface CompareOptions extends CompareSettings, DataSettings {
  /** Models to train, in order; at least one. */
  models: ModelName[]
  /** Default `'auto'`. */
  device?: Device
  /** MNIST-format folder; default the bundled MNIST. */
  dir?: string
  /** Called with each model's result as soon as it is trained. */
  onResult?: (result: ComparisonRow) => void
  /** Progress of the model being trained (the events of `fit`'s `onProgress`), with its name. */
  onProgress?: (event: ProgressEvent, model: ModelName) => void
  /** Stops at the next batch. */
  signal?: AbortSignal
}

/** One model's line of the comparison. */
export interface ComparisonRow {
  model: ModelName
  params: number
  /** Multiply-accumulates per image (convolutions and linear layers). */
  macs: number
  /** Test accuracy after each epoch. */
  accuracy: number[]
  /** Training seconds, all epochs (evaluation excluded). */
  seconds: number
}

/** Default epochs of a comparison, as the core declares it. */
export const COMPARE_EPOCHS = optionSpec('compare', 'epochs').default as number

/**
 * Trains each model in turn with the reference recipe ({@link FIT_DEFAULTS})
 * on the same data with the same seed and number of epochs,
 * evaluating on the test split after every epoch.
 * @throws (rejects) TypeError/RangeError for bad options, before any training
 */
export async function compareModels(options: CompareOptions): Promise<ComparisonRow[]> {
  const o = checkOptionsObject('options', options)
  if (!Array.isArray(o.models) || o.models.length === 0) throw new TypeError('models must be a non-empty array of model names')
  const models = o.models.map((m) => checkModelName(m))
  const { epochs, seed } = checkedOptions('compare', o) as Required<Pick<CompareOptions, 'epochs' | 'seed'>>
  checkOptions('data', o)
  checkCallback('onResult', o.onResult)
  checkCallback('onProgress', o.onProgress)
  const data = await loadMnist(o.dir === undefined ? {} : { dir: o.dir })
  const train = o.limit === undefined ? data.train : data.train.take(o.limit)
  const test = o.testLimit === undefined ? data.test : data.test.take(o.testLimit)
  const rows: ComparisonRow[] = []
  for (const name of models) {
    const model = new Model(name, { seed, device: o.device })
    const history = await model.fit(train, {
      epochs,
      seed,
      validation: test,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onProgress === undefined ? {} : { onProgress: (event: ProgressEvent) => o.onProgress?.(event, name) }),
    })
    const { params, macs } = model.summary()
    const row: ComparisonRow = {
      model: name,
      params,
      macs,
      accuracy: history.epochs.map((e) => e.testAccuracy ?? Number.NaN),
      seconds: history.epochs.reduce((total, e) => total + e.seconds, 0),
    }
    rows.push(row)
    o.onResult?.(row)
  }
  return rows
}
