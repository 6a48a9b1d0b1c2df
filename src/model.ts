/**
 * The {@link Model} class and {@link createModel}. What models there are,
 * and their rules, come from the addon's catalog (see `catalog.ts`).
 * @module
 */
import { addonPath } from './addon-path.js'
import { type Dataset, nativeDataset } from './dataset.js'
import { resolveDevice } from './device.js'
import { version } from './package-info.js'
import { abortError, isNativeAbort } from './errors.js'
import { readDigitImage } from './image.js'
import { type ModelSummary, summarize } from './insight.js'
import { nativeBinding, type NativeDataset, type NativeModel, type NativeModelInfo } from './native.js'
import { recipeOfFit, resolveFitOptions } from './fit-options.js'
import { modelEntry, models } from './catalog.js'
import { type ModelSource, checkSourceDepth, describeModel, parseDescription, resolveSource, sourceOrDefault } from './describe/source.js'
import type { ModelDescription } from './describe/types.js'
import { checkOptions, checkOptionsObject, checkedOptions, recipeOf } from './options.js'
import { ProgressTracker, toEpochRecord } from './progress.js'
import { trainingWarnings } from './warnings.js'
import type {
  CheckpointInfo,
  ClassAccuracy,
  DetailedEvaluation,
  Device,
  EvaluateOptions,
  EvaluationResult,
  FilePrediction,
  FitOptions,
  ModelOptions,
  ParameterInfo,
  PredictFileOptions,
  PredictOptions,
  Prediction,
  TrainingHistory,
} from './types.js'

/** Per-class accuracy and the classes×classes confusion matrix of `predictions` against `labels`. */
function confusionOf(
  labels: Uint8Array,
  predictions: Uint8Array,
  classNames: readonly string[],
): Pick<DetailedEvaluation, 'perClass' | 'confusion' | 'predictions' | 'classNames'> {
  const classes = classNames.length
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  labels.forEach((label, i) => {
    confusion[label][predictions[i]] += 1
  })
  const perClass: ClassAccuracy[] = confusion.map((row, label) => {
    const total = row.reduce((a, b) => a + b, 0)
    const correct = row[label]
    return { label, name: classNames[label], correct, total, accuracy: total === 0 ? 0 : correct / total }
  })
  return { perClass, confusion, predictions, classNames: [...classNames] }
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
  readonly #name: string
  /** Whether the model is exactly a zoo model (its name at its depth), not one of the user's own. */
  readonly #zoo: boolean
  readonly #description: ModelDescription
  readonly #seed: number
  readonly #device: 'cpu' | 'cuda'
  readonly #parameters: readonly ParameterInfo[]
  readonly #depth: number | undefined
  /** Epochs trained so far, and the test accuracy after the last evaluated one (saved with the model). */
  #epochsTrained = 0
  #testAccuracy: number | undefined
  /** The checkpoint the model was loaded from, and whether a fit has resumed it yet. */
  readonly #checkpoint: CheckpointInfo | undefined
  #resumed = false

  /**
   * Creates a freshly initialized model (PyTorch's default initialization).
   * @param model - a zoo name ({@link modelNames}) or a description (see {@link network}, {@link descriptions})
   * @param handle - internal: wraps an already loaded native model instead (typed opaquely, so that the
   *   public types need not import the addon's loader, which is an ES module CommonJS types cannot import)
   * @throws TypeError for a model that is neither a name nor a description; RangeError for an unknown
   *   name, a depth the model does not take, a description the core refuses (its message names the JSON
   *   path at fault, or the layer that does not fit and both shapes) or a bad seed;
   *   Error for `device: 'cuda'` where no CUDA device can be used
   */
  constructor(model?: ModelSource, options?: ModelOptions, handle?: object) {
    const o = checkOptionsObject('options', options)
    // The seed's rule is the core's (device names are checked with their own message by resolveDevice).
    this.#seed = checkedOptions('model', { seed: o.seed }).seed as number
    this.#device = resolveDevice(o.device)
    let native = handle as NativeModel | undefined
    if (native) {
      this.#depth = o.depth
    } else {
      const resolved = resolveSource(withInput(sourceOrDefault(model), o.input))
      this.#depth = checkSourceDepth(resolved, o.depth)
      const data = o.data === undefined ? undefined : nativeDataset(o.data, 'data')
      native = new (nativeBinding().NativeModel)(resolved.arg, this.#seed, this.#device, this.#depth, data)
    }
    this.#native = native
    this.#name = native.name
    this.#description = parseDescription(native.description)
    this.#zoo = isZooModel(this.#name, this.#depth, this.#description)
    this.#parameters = this.#native.parameters().map((p) => Object.freeze({ name: p.name, shape: [...p.shape] }))
    const loaded = this.#native.loadedInfo
    if (loaded) {
      this.#epochsTrained = loaded.epochs
      if (loaded.testAccuracy !== undefined && loaded.testAccuracy !== null) this.#testAccuracy = loaded.testAccuracy
    }
    const checkpoint = this.#native.checkpointInfo
    if (checkpoint) {
      this.#checkpoint = Object.freeze({
        path: checkpoint.path,
        epochsDone: checkpoint.epochsDone,
        batchesDone: checkpoint.batchesDone,
        trainSize: checkpoint.trainSize,
        recipe: recipeOf(checkpoint.config),
        history: checkpoint.history.map(toEpochRecord),
      })
    }
  }

  /**
   * Reads a training checkpoint written by `fit` with `checkpointDir`:
   * `path` is a checkpoint file or a folder, whose furthest checkpoint is
   * taken. The model holds the checkpoint's weights; `fit(train, { resume:
   * true })` continues the run (see {@link Model.checkpoint}).
   * @throws (rejects) Error naming the file when it is missing, damaged or not a checkpoint
   */
  static async loadCheckpoint(path: string, options?: { device?: Device }): Promise<Model> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
    const device = resolveDevice(checkOptionsObject('options', options).device)
    return Model.#fromNative(nativeBinding().NativeModel.loadCheckpoint(addonPath(path), device), device)
  }

  static #fromNative(native: NativeModel, device: 'cpu' | 'cuda'): Model {
    const depth = native.loadedInfo?.depth ?? undefined
    return new Model(native.name as ModelSource, { device, ...(depth === undefined || depth === null ? {} : { depth }) }, native)
  }

  /** What the checkpoint this model was loaded from records; undefined for other models. */
  get checkpoint(): CheckpointInfo | undefined {
    return this.#checkpoint
  }

  /**
   * Reads a model file written by {@link Model.save}, or a PyTorch
   * `state_dict` of one of these models saved with
   * `safetensors.torch.save_file(model.state_dict(), path)`.
   * @throws (rejects) Error naming the file when it is missing, damaged or fits no model
   */
  static async load(path: string, options?: { device?: Device }): Promise<Model> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
    const device = resolveDevice(checkOptionsObject('options', options).device)
    return Model.#fromNative(nativeBinding().NativeModel.load(addonPath(path), device), device)
  }

  /**
   * {@link Model.load} on the bytes of a model file (from a database, an
   * upload, {@link Model.toBytes}). `name` stands for the file in errors.
   * @throws (rejects) Error naming `name` when the bytes are not a complete model file or fit no model
   */
  static async fromBytes(bytes: Uint8Array, options?: { device?: Device; name?: string }): Promise<Model> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (a Buffer is one)')
    const { device: wanted, name = 'model bytes' } = checkOptionsObject('options', options)
    if (typeof name !== 'string') throw new TypeError('name must be a string')
    const device = resolveDevice(wanted)
    return Model.#fromNative(nativeBinding().NativeModel.fromBytes(bytes, name, device), device)
  }

  /**
   * The bytes {@link Model.save} would write: a safetensors file, for
   * storage that is not a file system. {@link Model.fromBytes} reads them.
   * @throws (rejects) Error when the model is busy
   */
  async toBytes(): Promise<Uint8Array> {
    return this.#native.toBytes(this.#info())
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
    this.#native.save(addonPath(path), this.#info())
  }

  /**
   * Writes the model to `path` as an ONNX file that ONNX Runtime and other
   * ONNX runtimes run with this model's predictions (the contract, opset
   * included, is {@link onnxFormat}): input `images`, `N × channels × height × width`
   * float32 with any batch size N, each pixel normalized as in training,
   * `(pixel / 255 - mean) / std`; output `logits`, `N × classes` scores before
   * softmax ({@link Model.logits}). Standard operators only (Conv, Gemm,
   * BatchNormalization in inference form, pools, Relu, Add, Concat, Flatten);
   * parameters under their PyTorch names. The file's metadata holds the
   * mean, std, class labels (`"0"`..`"9"`), the model's description and
   * what {@link Model.save} records. Written beside `path` and renamed into place.
   * @throws (rejects) Error when the file cannot be written or the model is busy
   */
  async exportOnnx(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
    this.#native.exportOnnx(addonPath(path), this.#info())
  }

  /** The metadata saved with the weights. */
  #info(): NativeModelInfo {
    return {
      model: this.#name,
      ...(this.#depth === undefined ? {} : { depth: this.#depth }),
      epochs: this.#epochsTrained,
      ...(this.#testAccuracy === undefined ? {} : { testAccuracy: this.#testAccuracy }),
      version,
    }
  }

  /** Epochs this model has been trained for (including before it was saved and loaded). */
  get epochsTrained(): number {
    return this.#epochsTrained
  }

  /** The model's name, e.g. `'googlenet'` (a description's `name` for a model of one's own). */
  get name(): string {
    return this.#name
  }

  /**
   * What the model is made of, in the JSON format of `describe` and
   * `--model-file` (canonical, frozen): a zoo model's description, or the
   * one it was created from. Saved with the weights.
   */
  get description(): ModelDescription {
    return this.#description
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
    const [, height, width] = this.#description.input
    return { height, width }
  }

  /** The channels of the images it takes: 1 (grey) or 3 (colour). */
  get channels(): number {
    return this.#description.input[0]
  }

  /**
   * Class scores per image: the outputs of its last layer (10 for the zoo's
   * digit models). `predict`'s probabilities and `logits` hold this many per image.
   */
  get classes(): number {
    return this.#native.classes
  }

  /**
   * The name of each class, one per class score: the training data's
   * (folder names for an image folder), `"0"`…`"9"` for a model made without data.
   */
  get classNames(): readonly string[] {
    return Object.freeze(this.#native.classNames)
  }

  /**
   * How the model normalizes its inputs, one mean and std per channel: a
   * pixel byte `p` of channel `c` becomes `(p / 255 - mean[c]) / std[c]`.
   * Measured on the training data it was made for (rounded to 4 decimals;
   * MNIST's 0.1307 and 0.3081), MNIST's for a model made without data.
   */
  get normalization(): { readonly mean: readonly number[]; readonly std: readonly number[] } {
    const { mean, std } = this.#native.normalization
    return Object.freeze({ mean: Object.freeze(mean), std: Object.freeze(std) })
  }

  /** Total number of trainable scalars (97,298 for googlenet). */
  get paramCount(): number {
    return this.#native.paramCount
  }

  /** Every layer's output shape, parameters and multiply-accumulates (see {@link summarize}). */
  summary(): ModelSummary {
    return summarize(this.#description)
  }

  /** Residual units per stage of a model that takes a depth (the ResNets); undefined for a model of fixed depth. */
  get depth(): number | undefined {
    return this.#depth ?? (this.#zoo ? modelEntry(this.#name).depth?.default : undefined)
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
    const resume = checkOptionsObject('options', options).resume ?? false
    if (typeof resume !== 'boolean') throw new TypeError('resume must be a boolean')
    if (resume && !this.#checkpoint) throw new RangeError('resume needs a model loaded with Model.loadCheckpoint()')
    if (resume && this.#resumed) throw new RangeError('this checkpoint was resumed already: its state has moved on')
    const o = resolveFitOptions(options, this.#seed, resume ? this.#checkpoint?.recipe : undefined)
    const trainData = this.#checkData(train, 'train')
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
      const pending = this.#native.fit(
        trainData,
        validation,
        { ...recipeOfFit(o) },
        tracker ? (event) => tracker.handle(event) : null,
        token,
        resume,
        o.checkpointDir === undefined
          ? null
          : { dir: addonPath(o.checkpointDir), info: this.#info(), startOver: o.startOver ?? false },
      )
      if (resume) this.#resumed = true
      const summaries = await pending
      if (tracker) await drainCallbacks()
      const records = summaries.map(toEpochRecord)
      tracker?.finish(records)
      if (callbackError) throw callbackError.error
      const history: TrainingHistory = { epochs: records, seconds: (performance.now() - started) / 1000, warnings: trainingWarnings(records, this.classes) }
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
  async evaluate(dataset: Dataset, options: EvaluateOptions & { confusion: true }): Promise<DetailedEvaluation>
  async evaluate(dataset: Dataset, options?: EvaluateOptions): Promise<EvaluationResult>
  async evaluate(dataset: Dataset, options?: EvaluateOptions): Promise<EvaluationResult | DetailedEvaluation> {
    const { batchSize, confusion = false } = checkOptionsObject('options', options)
    checkOptions('evaluate', { batchSize })
    if (typeof confusion !== 'boolean') throw new TypeError('confusion must be a boolean')
    const data = this.#checkData(dataset, 'dataset')
    const r = await this.#native.evaluate(data, batchSize, confusion)
    const result: EvaluationResult = { accuracy: r.accuracy, correct: r.correct, total: r.total, loss: r.loss }
    if (!confusion || !r.predictions) return result
    return { ...result, ...confusionOf(data.labels(), new Uint8Array(r.predictions), this.classNames) }
  }

  /**
   * Classifies images.
   * @param images - `count × channels × height × width` pixels, image after image (each image's
   *   channels one plane after another): a Uint8Array of raw bytes (0..255) or a Float32Array
   *   already scaled to [0, 1]; `count` is inferred
   * @throws (rejects) TypeError/RangeError when the input is not a whole number of images
   */
  async predict(images: Uint8Array | Float32Array, options?: PredictOptions): Promise<Prediction> {
    const { count, shape } = this.#checkImages(images, options)
    if (count === 0) return { labels: new Uint8Array(0), probabilities: new Float32Array(0) }
    // Bytes cross as bytes: the core normalizes them a batch at a time, so
    // no float copy of the whole input is ever made (in JS or in Rust).
    const probabilities = await this.#native.predict(images, count, shape)
    const classes = this.classes
    const labels = new Uint8Array(count)
    for (let i = 0; i < count; i++) {
      let best = 0
      for (let c = 1; c < classes; c++) {
        if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c
      }
      labels[i] = best
    }
    return { labels, probabilities }
  }

  /**
   * The logits of images: {@link Model.classes} class scores per image before softmax
   * (`count × classes`, row-major), the numbers the `logits` output of an
   * exported ONNX file ({@link Model.exportOnnx}) gives for them. Their
   * softmax is {@link Model.predict}'s probabilities.
   * @param images - as {@link Model.predict} takes them: raw bytes (0..255) or floats scaled to [0, 1]
   * @throws (rejects) TypeError/RangeError when the input is not a whole number of images
   */
  async logits(images: Uint8Array | Float32Array, options?: PredictOptions): Promise<Float32Array> {
    const { count, shape } = this.#checkImages(images, options)
    if (count === 0) return new Float32Array(0)
    return this.#native.logits(images, count, shape)
  }

  /** The number of images in `images` and their shape, once they are checked to be whole images the model takes. */
  #checkImages(images: Uint8Array | Float32Array, options: PredictOptions | undefined): { count: number; shape: number[] } {
    const want = this.inputSize
    const o = checkOptionsObject('options', options)
    const { height = want.height, width = want.width } = checkedOptions('predict', { height: o.height, width: o.width })
    this.#native.checkImageShape(this.channels, height, width)
    const size = this.channels * height * width
    if (images instanceof Float32Array) {
      const bad = images.findIndex((x) => !Number.isFinite(x))
      if (bad !== -1) throw new RangeError(`images[${bad}] is ${images[bad]}; pixel values must be finite`)
    } else if (!(images instanceof Uint8Array)) {
      throw new TypeError('images must be a Uint8Array (0..255) or a Float32Array ([0, 1])')
    }
    if (images.length % size !== 0) {
      const image = this.channels === 1 ? `${height}x${width}` : `${this.channels}x${height}x${width}`
      throw new RangeError(`images has ${images.length} values, not a multiple of ${image} = ${size}`)
    }
    return { count: images.length / size, shape: [this.channels, height, width] }
  }

  /**
   * Classifies the image in a file, fitted to the model's input as `fit`
   * says (see {@link ImageFit}): for a digit model (grey, classes `"0"`…`"9"`)
   * by default the way MNIST was made, dark-on-light images inverted first
   * (see {@link readDigitImage} for every step); for any other model by a
   * plain resize to its input (PNG, JPEG, BMP, GIF or WebP).
   * @returns the label and its class name, the 3 most probable classes and all the probabilities;
   *   or, when fitting a digit finds none (blank, a speck, faint shading), `found: false` and the
   *   reason, unclassified
   * @throws TypeError/RangeError for a `fit` that is not one, or `'digit'` on a model that does not
   *   take 28×28 grey images; (rejects) Error naming the file when it is missing, not an image,
   *   damaged or too large
   */
  async predictFile(path: string, options?: PredictFileOptions): Promise<FilePrediction> {
    const { fit = this.isDigitModel() ? 'digit' : 'resize' } = checkOptionsObject('options', options)
    if (fit !== 'digit' && fit !== 'resize') throw new TypeError(`fit must be 'digit' or 'resize' (got ${String(fit)})`)
    let pixels: Uint8Array | Float32Array
    let inverted = false
    if (fit === 'digit') {
      const { height, width } = this.inputSize
      if (this.channels !== 1 || height !== 28 || width !== 28) {
        throw new RangeError(`fit 'digit' makes 28x28 grey images; model "${this.name}" takes ${this.channels === 1 ? 'grey' : 'colour'} ${height}x${width} images: use fit 'resize'`)
      }
      const digit = await readDigitImage(path)
      if (digit.reason !== undefined) return { file: path, found: false, reason: digit.reason }
      ;({ pixels, inverted } = digit)
    } else {
      if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
      pixels = new Uint8Array(await nativeBinding().readResizedImage(addonPath(path), [...this.#description.input]))
    }
    const { labels, probabilities } = await this.predict(pixels)
    const names = this.classNames
    const top = [...probabilities]
      .map((probability, label) => ({ label, name: names[label], probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 3)
    return { file: path, found: true, label: labels[0], name: names[labels[0]], top, probabilities, inverted, fit }
  }

  /** Whether the model is a digit model: grey images, classes "0"…"9". */
  isDigitModel(): boolean {
    return this.channels === 1 && this.classNames.length === 10 && this.classNames.every((name, i) => name === String(i))
  }

  /** The native dataset behind argument `name`, once the core has checked that the model can run on it (not empty, images of its size); messages name its source. */
  #checkData(dataset: Dataset, name: string): NativeDataset {
    const data = nativeDataset(dataset, name)
    this.#native.checkData(data, name)
    return data
  }
}

/**
 * Creates a freshly initialized model: one of the zoo by name, or one of
 * your own from a description (built with {@link network}, read from JSON,
 * or a zoo model's from {@link descriptions}, changed).
 * @param model - one of {@link modelNames}, or a description; default: {@link defaultModel}
 * @example
 * ```ts
 * const net = createModel(network([{ conv: conv2d({ outChannels: 8, kernel: 3 }) }, relu(), flatten(), { fc: linear({ outFeatures: 10 }) }]), { seed: 1 })
 * ```
 * @throws TypeError for a model that is neither a name nor a description; RangeError for an unknown name,
 *   a depth the model does not take, a description the core refuses (naming the JSON path at fault, or the
 *   layer that does not fit and both shapes) or a bad seed; Error for `device: 'cuda'` where no CUDA device can be used
 */
export function createModel(model?: ModelSource, options?: ModelOptions): Model {
  return new Model(model, options)
}

/** `model` with its input replaced by `input`, where given (descriptions only). */
function withInput(model: unknown, input: unknown): unknown {
  if (input === undefined) return model
  if (typeof model === 'string') throw new RangeError(`input applies to descriptions; the zoo's ${model} is built for its own input`)
  if (!Array.isArray(input) || input.length !== 3) throw new TypeError('input must be [channels, height, width]')
  return { ...(model as object), input }
}

/**
 * Whether `description` is exactly zoo model `name` at `depth`, not a model
 * of one's own (which may keep a zoo model's name after a change).
 */
function isZooModel(name: string, depth: number | undefined, description: ModelDescription): boolean {
  if (!Object.hasOwn(models, name)) return false
  const zoo = describeModel(name, depth === undefined ? {} : { depth })
  return JSON.stringify(zoo) === JSON.stringify(description)
}
