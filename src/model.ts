/**
 * The {@link Model} class and {@link createModel}.
 * @module
 */
import { type Dataset, NUM_CLASSES, nativeDataset } from './dataset.js'
import { resolve as resolvePath } from 'node:path'
import { resolveDevice } from './device.js'
import { version } from './package-info.js'
import { abortError, isNativeAbort } from './errors.js'
import { type ModelSummary, summarize } from './insight.js'
import { nativeBinding, type NativeDataset, type NativeModel } from './native.js'
import { resolveFitOptions } from './fit-options.js'
import { FIT_DEFAULTS, checkInteger, checkOptionsObject, checkSeed } from './options.js'
import { ProgressTracker, toEpochRecord } from './progress.js'
import type {
  Device,
  EvaluateOptions,
  EvaluationResult,
  FitOptions,
  ModelName,
  ModelOptions,
  ParameterInfo,
  PredictOptions,
  Prediction,
  TrainingHistory,
} from './types.js'

/** The models this build can create, with the image size each takes. */
export const models: Readonly<Record<ModelName, { readonly height: number; readonly width: number }>> = Object.freeze({
  /** The reference GoogLeNet of the tutorial: two Inception-A modules, 97,298 parameters. */
  googlenet: Object.freeze({ height: 28, width: 28 }),
  /** LeNet-5's shape with ReLU and max-pool, 61,706 parameters. */
  lenet5: Object.freeze({ height: 28, width: 28 }),
  /** The tutorial's small residual network: two residual blocks, 41,514 parameters. */
  residual: Object.freeze({ height: 28, width: 28 }),
  /** A small MNIST ResNet with He et al. 2016's original unit, Fig. 4(a) (same as `resnet-original`). */
  resnet: Object.freeze({ height: 28, width: 28 }),
  /** Fig. 4(a): conv, BN, ReLU, conv, BN, addition, ReLU. */
  'resnet-original': Object.freeze({ height: 28, width: 28 }),
  /** Fig. 4(b): BN after the addition. */
  'resnet-bn-after-add': Object.freeze({ height: 28, width: 28 }),
  /** Fig. 4(c): ReLU before the addition. */
  'resnet-relu-before-add': Object.freeze({ height: 28, width: 28 }),
  /** Fig. 4(d): ReLU-only pre-activation. */
  'resnet-relu-only-preact': Object.freeze({ height: 28, width: 28 }),
  /** Fig. 4(e): full pre-activation (BN and ReLU before each conv). */
  'resnet-full-preact': Object.freeze({ height: 28, width: 28 }),
})

/** The names accepted by {@link createModel}. */
export const modelNames: readonly ModelName[] = Object.freeze(Object.keys(models) as ModelName[])

/** Checks that `name` is a model this build can create. @internal */
export function checkModelName(name: unknown): ModelName {
  if (typeof name !== 'string') throw new TypeError(`model name must be a string (got ${typeof name})`)
  if (!Object.hasOwn(models, name)) {
    throw new RangeError(`unknown model ${JSON.stringify(name)} (available: ${modelNames.join(', ')})`)
  }
  return name as ModelName
}

/** The most residual units per stage a ResNet may have (the core's limit too). */
export const MAX_DEPTH = 16

/**
 * Checks a ResNet depth (units per stage); other models have a fixed depth.
 * @internal
 */
export function checkDepth(model: ModelName, depth: unknown, name = 'depth', shown?: string): number | undefined {
  if (depth === undefined) return undefined
  if (!model.startsWith('resnet')) throw new RangeError(`${name} applies to the resnet models only (model ${JSON.stringify(model)})`)
  return checkInteger(name, depth, 1, MAX_DEPTH, shown)
}

/** Lets callbacks queued by native code run before a fit settles. */
function drainCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A trainable image classifier whose weights live in native memory.
 * `fit`, `evaluate` and `predict` run off the event loop; one of them may
 * run at a time on a given model.
 */
export class Model {
  readonly #native: NativeModel
  readonly #name: ModelName
  readonly #seed: number
  readonly #device: 'cpu' | 'cuda'
  readonly #parameters: readonly ParameterInfo[]
  readonly #depth: number | undefined
  /** Epochs trained so far, and the test accuracy after the last evaluated one (saved with the model). */
  #epochsTrained = 0
  #testAccuracy: number | undefined

  /**
   * Creates a freshly initialized model (PyTorch's default initialization).
   * @param native - internal: wraps an already loaded native model instead
   * @throws RangeError for an unknown name or bad seed; Error for `device: 'cuda'` where no CUDA device can be used
   */
  constructor(name: ModelName = 'googlenet', options?: ModelOptions, native?: NativeModel) {
    const o = checkOptionsObject('options', options)
    this.#name = checkModelName(name)
    this.#seed = checkSeed('seed', o.seed ?? FIT_DEFAULTS.seed)
    this.#device = resolveDevice(o.device ?? 'auto')
    this.#depth = checkDepth(this.#name, o.depth)
    this.#native = native ?? new (nativeBinding().NativeModel)(this.#name, this.#seed, this.#device, this.#depth)
    this.#parameters = this.#native.parameters().map((p) => Object.freeze({ name: p.name, shape: [...p.shape] }))
    const loaded = this.#native.loadedInfo
    if (loaded) {
      this.#epochsTrained = loaded.epochs
      if (loaded.testAccuracy !== undefined && loaded.testAccuracy !== null) this.#testAccuracy = loaded.testAccuracy
    }
  }

  /**
   * Reads a model file written by {@link Model.save}, or a PyTorch
   * `state_dict` of one of these models saved with
   * `safetensors.torch.save_file(model.state_dict(), path)`.
   * @throws (rejects) Error naming the file when it is missing, damaged or fits no model
   */
  static async load(path: string, options?: { device?: Device }): Promise<Model> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
    const device = resolveDevice(checkOptionsObject('options', options).device ?? 'auto')
    const native = nativeBinding().NativeModel.load(resolvePath(path), device)
    const info = native.loadedInfo
    const name = checkModelName(info?.model || native.name)
    const depth = info?.depth ?? undefined
    return new Model(name, { device, ...(depth === undefined || depth === null ? {} : { depth }) }, native)
  }

  /**
   * Writes the weights (with BatchNorm statistics) to `path` as safetensors
   * with PyTorch's names and shapes, so PyTorch's `load_state_dict` reads
   * them, plus metadata: model name and depth, epochs trained, last test
   * accuracy and this package's version. The file is written beside `path`
   * and renamed into place.
   * @throws (rejects) Error when the file cannot be written or the model is busy
   */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
    this.#native.save(resolvePath(path), {
      model: this.#name,
      ...(this.#depth === undefined ? {} : { depth: this.#depth }),
      epochs: this.#epochsTrained,
      ...(this.#testAccuracy === undefined ? {} : { testAccuracy: this.#testAccuracy }),
      version,
    })
  }

  /** Epochs this model has been trained for (including before it was saved and loaded). */
  get epochsTrained(): number {
    return this.#epochsTrained
  }

  /** The model's name, e.g. `'googlenet'`. */
  get name(): ModelName {
    return this.#name
  }

  /** The seed the weights were initialized with (also the default shuffle seed of `fit`). */
  get seed(): number {
    return this.#seed
  }

  /** The device the model runs on (`'auto'` resolved). */
  get device(): 'cpu' | 'cuda' {
    return this.#device
  }

  /** The image size the model takes. */
  get inputSize(): { height: number; width: number } {
    return { ...models[this.#name] }
  }

  /** Total number of trainable scalars (97,298 for googlenet). */
  get paramCount(): number {
    return this.#native.paramCount
  }

  /** Every layer's output shape, parameters and multiply-accumulates (see {@link summarize}). */
  summary(): ModelSummary {
    return summarize(this.#name, this.#depth === undefined ? {} : { depth: this.#depth })
  }

  /** Residual units per stage of a `resnet` model; undefined for the others. */
  get depth(): number | undefined {
    return this.#depth ?? (this.#name.startsWith('resnet') ? 1 : undefined)
  }

  /** The trainable tensors, in PyTorch's order and with PyTorch's names. */
  parameters(): ParameterInfo[] {
    return this.#parameters.map((p) => ({ name: p.name, shape: [...p.shape] }))
  }

  /**
   * Trains the model in place with SGD (cross-entropy loss), reshuffling the
   * training set every epoch. Training runs off the event loop; progress
   * arrives through `onProgress` while it runs.
   * @returns one record per epoch
   * @throws (rejects) TypeError/RangeError for bad options, an `AbortError` when `signal` aborts,
   *   or the error an `onProgress` callback threw (training stops at the next batch)
   */
  async fit(train: Dataset, options?: FitOptions): Promise<TrainingHistory> {
    const o = resolveFitOptions(options, this.#seed)
    const trainData = this.#checkData(train, 'train')
    if (trainData.length === 0) throw new RangeError('train must not be empty')
    const validation = o.validation === undefined ? null : this.#checkData(o.validation, 'validation')
    const { signal } = o
    if (signal?.aborted) throw abortError(signal)

    const binding = nativeBinding()
    const token = new binding.CancelToken()
    let callbackError: { error: unknown } | undefined
    const tracker =
      o.onProgress &&
      new ProgressTracker({
        epochs: o.epochs,
        logEvery: o.logEvery,
        onProgress: o.onProgress,
        onCallbackError: (error) => {
          callbackError = { error }
          token.cancel()
        },
      })
    const onAbort = (): void => token.cancel()
    signal?.addEventListener('abort', onAbort, { once: true })
    const started = performance.now()
    try {
      // The addon refuses a second call on a busy model with "model is busy".
      const summaries = await this.#native.fit(
        trainData,
        validation,
        { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, momentum: o.momentum, seed: o.seed },
        tracker ? (event) => tracker.handle(event) : null,
        token,
      )
      if (tracker) await drainCallbacks()
      const records = summaries.map(toEpochRecord)
      tracker?.finish(records)
      if (callbackError) throw callbackError.error
      const history: TrainingHistory = { epochs: records, seconds: (performance.now() - started) / 1000 }
      const last = records.at(-1)
      if (last?.testAccuracy !== undefined) history.testAccuracy = last.testAccuracy
      this.#epochsTrained += records.length
      this.#testAccuracy = last?.testAccuracy
      return history
    } catch (error) {
      if (callbackError) throw callbackError.error
      if (signal?.aborted && isNativeAbort(error)) throw abortError(signal)
      throw error
    } finally {
      tracker?.close()
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Accuracy and mean loss of the model on `dataset`.
   * @throws (rejects) TypeError/RangeError for a bad dataset or batch size
   */
  async evaluate(dataset: Dataset, options?: EvaluateOptions): Promise<EvaluationResult> {
    const { batchSize } = checkOptionsObject('options', options)
    if (batchSize !== undefined) checkInteger('batchSize', batchSize, 1)
    const data = this.#checkData(dataset, 'dataset')
    if (data.length === 0) throw new RangeError('dataset must not be empty')
    const r = await this.#native.evaluate(data, batchSize)
    return { accuracy: r.accuracy, correct: r.correct, total: r.total, loss: r.loss }
  }

  /**
   * Classifies images.
   * @param images - `count × height × width` pixels, image after image: a Uint8Array of raw
   *   bytes (0..255) or a Float32Array already scaled to [0, 1]; `count` is inferred
   * @throws (rejects) TypeError/RangeError when the input is not a whole number of images
   */
  async predict(images: Uint8Array | Float32Array, options?: PredictOptions): Promise<Prediction> {
    const { height = 28, width = 28 } = checkOptionsObject('options', options)
    checkInteger('height', height, 1)
    checkInteger('width', width, 1)
    this.#checkSize(height, width)
    const size = height * width
    let pixels: Float32Array
    if (images instanceof Float32Array) {
      pixels = images
      const bad = pixels.findIndex((x) => !Number.isFinite(x))
      if (bad !== -1) throw new RangeError(`images[${bad}] is ${pixels[bad]}; pixel values must be finite`)
    } else if (images instanceof Uint8Array) {
      pixels = Float32Array.from(images, (x) => x / 255)
    } else {
      throw new TypeError('images must be a Uint8Array (0..255) or a Float32Array ([0, 1])')
    }
    if (pixels.length % size !== 0) {
      throw new RangeError(`images has ${pixels.length} values, not a multiple of ${height}x${width} = ${size}`)
    }
    const count = pixels.length / size
    if (count === 0) return { labels: new Uint8Array(0), probabilities: new Float32Array(0) }
    const probabilities = await this.#native.predict(pixels, count, height, width)
    const labels = new Uint8Array(count)
    for (let i = 0; i < count; i++) {
      let best = 0
      for (let c = 1; c < NUM_CLASSES; c++) {
        if (probabilities[i * NUM_CLASSES + c] > probabilities[i * NUM_CLASSES + best]) best = c
      }
      labels[i] = best
    }
    return { labels, probabilities }
  }

  #checkSize(height: number, width: number): void {
    const want = models[this.#name]
    if (height !== want.height || width !== want.width) {
      throw new RangeError(`model "${this.#name}" takes ${want.height}x${want.width} images (got ${height}x${width})`)
    }
  }

  #checkData(dataset: Dataset, name: string): NativeDataset {
    const data = nativeDataset(dataset, name)
    this.#checkSize(data.height, data.width)
    return data
  }
}

/**
 * Creates a freshly initialized model.
 * @param name - default `'googlenet'`
 * @throws RangeError for an unknown name or bad seed; Error for `device: 'cuda'` where no CUDA device can be used
 */
export function createModel(name: ModelName = 'googlenet', options?: ModelOptions): Model {
  return new Model(name, options)
}
