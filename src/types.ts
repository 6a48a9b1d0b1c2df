/**
 * Public types of the googlenet-native API.
 * @module
 */
import type { Dataset } from './dataset.js'

export type {
  BenchSettings,
  CompareSettings,
  DataSettings,
  Device,
  EvaluateSettings,
  FitRecipe,
  FitSettings,
  FolderSettings,
  ModelName,
  ModelSettings,
  OptimizerName,
  PredictSettings,
  ScheduleName,
} from './generated/options.js'
import type { EvaluateSettings, FitRecipe, FitSettings, ModelSettings, PredictSettings } from './generated/options.js'

/** Options of {@link createModel} and the {@link Model} constructor. */
export interface ModelOptions extends ModelSettings {
  /**
   * Residual units per stage, for the models that take a depth (the ResNets):
   * within the model's `depth` rule in {@link models} (1 to 16; default 1).
   * Models of fixed depth refuse one, and so do descriptions (written at their depth).
   */
  depth?: number
  /**
   * For a description: the images it takes, `[channels, height, width]`,
   * replacing the description's own `input`. The zoo's models are built for
   * their own input and refuse one.
   */
  input?: readonly [number, number, number]
  /**
   * The training set the model is made for: a zoo model takes its images'
   * shape and gives one score per class; a description must already fit
   * them (a RangeError names both otherwise). The model keeps the set's
   * class names and per-channel pixel statistics ({@link Model.normalization}),
   * which evaluation, prediction, its files and ONNX export use.
   */
  data?: Dataset
}

/** One trainable tensor of a model, named as PyTorch names it. */
export interface ParameterInfo {
  /** e.g. `conv1.weight`, `incep1.branch5x5_2.bias`, `fc.bias`. */
  name: string
  /** e.g. `[10, 1, 5, 5]`. */
  shape: number[]
}

/**
 * Options of {@link Model.fit}. Every field is optional; defaults are the
 * reference recipe. The core's settings ({@link FitSettings}: epochs, batch
 * size, optimizer, schedule, seed…) are checked by the core; a refused one
 * throws an {@link OptionError} naming it. `seed` defaults to the model's.
 */
export interface FitOptions extends FitSettings {
  /** Evaluated after every epoch; its results land in each {@link EpochRecord}. */
  validation?: Dataset
  /** Aborting it stops training at the next batch; the promise then rejects with an `AbortError`. */
  signal?: AbortSignal
  /** Called with progress while training runs (on the event loop, never blocking training). */
  onProgress?: (event: ProgressEvent) => void
  /**
   * Write a checkpoint into this folder after every epoch, and when training
   * stops early (abort, or an error in `onProgress`): weights, the
   * optimizer's buffers (momentum, or Adam's moments) and step count, the
   * shuffle generator's state and the recipe, in
   * `checkpoint-e0003.safetensors` (after 3 epochs) or
   * `checkpoint-e0003-b00412.safetensors` (412 batches into the fourth).
   * Each file is written beside its name and renamed into place. A new
   * run refuses a folder that holds another run's checkpoints (a mix of two
   * runs could not be resumed): resume that run, pass `startOver`, or choose
   * another folder.
   */
  checkpointDir?: string
  /**
   * With `checkpointDir`: delete the checkpoints another run left in that
   * folder before this run writes its own. Default false (such a folder is
   * refused).
   */
  startOver?: boolean
  /**
   * Continue the run of the checkpoint this model was loaded from
   * ({@link Model.loadCheckpoint}) instead of starting a new one. The
   * recipe (batch size, optimizer and schedule settings, seed, epochs)
   * defaults to the checkpoint's; only `epochs` may differ (to train
   * longer; not with a cosine schedule, which ends with them). On the CPU
   * the result equals an uninterrupted run's, bit for bit.
   */
  resume?: boolean
}

/** What a training checkpoint records (see {@link Model.loadCheckpoint}). */
export interface CheckpointInfo {
  /** The checkpoint file. */
  path: string
  /** Whole epochs trained. */
  epochsDone: number
  /** Batches of the next epoch already trained (non-zero when the run stopped mid-epoch). */
  batchesDone: number
  /** Training images per epoch: resume on the same data (same `--limit`). */
  trainSize: number
  recipe: FitRecipe
  /** The finished epochs (without `testCorrect`/`testTotal`). */
  history: EpochRecord[]
}

/** Options of {@link Model.evaluate}. */
export interface EvaluateOptions extends EvaluateSettings {
  /** Also return per-class accuracy, the confusion matrix and every prediction ({@link DetailedEvaluation}). */
  confusion?: boolean
}

/** Options of {@link Model.predict}. */
export type PredictOptions = PredictSettings

/** What {@link Model.predict} returns. */
export interface Prediction {
  /** The most probable class (0..9) of each image. */
  labels: Uint8Array
  /** `Model.classes` softmax probabilities per image, row-major (`count × classes`). */
  probabilities: Float32Array
}

/**
 * What {@link Model.predictFile} returns for one image file: the digit's
 * classification, or why the image holds no digit. Check `found` first:
 * only a {@link DigitPrediction} has a label.
 */
export type FilePrediction = DigitPrediction | NoDigitPrediction

/** A {@link FilePrediction} for an image that was classified. */
export interface DigitPrediction {
  /** The path as given. */
  file: string
  /** True: the image was classified (for `fit: 'digit'`, it holds a digit). */
  found: true
  /** The most probable class's index (0..9 for digits). */
  label: number
  /** Its name ({@link Model.classNames}): `"7"`, `"Trouser"`. */
  name: string
  /** The 3 most probable classes, most probable first. */
  top: { label: number; name: string; probability: number }[]
  /** The softmax probabilities, one per class. */
  probabilities: Float32Array
  /** True when the image was dark on light and was inverted to MNIST's light on dark (`fit: 'digit'` only). */
  inverted: boolean
  /** How the image was fitted to the model's input (see {@link PredictFileOptions}). */
  fit: ImageFit
}

/**
 * How an image file is fitted to a model's input: `'digit'`, the way MNIST
 * was made (grey, inverted when light, cropped to the ink, scaled to 20
 * pixels, centred by mass in 28×28; images with no digit are not
 * classified); `'resize'`, plainly (grey or RGB as the model takes, resized
 * to its height and width, bilinear, aspect not kept: as a folder's images
 * are read for training).
 */
export type ImageFit = 'digit' | 'resize'

/** Options of {@link Model.predictFile}. */
export interface PredictFileOptions {
  /** Default: `'digit'` for a digit model (grey, classes `"0"`…`"9"`), `'resize'` for any other. */
  fit?: ImageFit
}

/**
 * A {@link FilePrediction} for an image that holds no digit: blank, a lone
 * speck, scattered specks or faint shading (the rules are under
 * {@link readDigitImage}). It is not classified, because a model trained on
 * MNIST names a digit for anything, often with confidence.
 */
export interface NoDigitPrediction {
  /** The path as given. */
  file: string
  /** False: no digit was found, so there is no label. */
  found: false
  /** Why, e.g. `the image is blank: nothing stands out from its background`. */
  reason: string
}

/** Accuracy and mean cross-entropy of a model on a dataset. */
export interface EvaluationResult {
  /** `correct / total`, in [0, 1]. */
  accuracy: number
  /** Images classified correctly. */
  correct: number
  /** Images evaluated. */
  total: number
  /** Mean cross-entropy loss. */
  loss: number
}

/** How well one class was recognized. */
export interface ClassAccuracy {
  /** The true class's index (0..9 for digits). */
  label: number
  /** Its name ({@link Model.classNames}). */
  name: string
  /** Images of this class classified correctly. */
  correct: number
  /** Images of this class. */
  total: number
  /** `correct / total` (0 when the class has no images). */
  accuracy: number
}

/** {@link EvaluationResult} with the per-class view, from `evaluate(dataset, { confusion: true })`. */
export interface DetailedEvaluation extends EvaluationResult {
  /** One entry per class, in class order. */
  perClass: ClassAccuracy[]
  /** The model's class names, one per row and column of `confusion`. */
  classNames: string[]
  /** `confusion[trueLabel][predictedLabel]`: image counts, classes × classes. */
  confusion: number[][]
  /** The predicted class of every image, in dataset order. */
  predictions: Uint8Array
}

/** What one epoch of training did. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number
  /** Mean training loss over the epoch's batches. */
  loss: number
  /** Training time of the epoch in seconds (evaluation excluded). */
  seconds: number
  /** Training throughput of the epoch. */
  trainImagesPerSec: number
  /** Accuracy on the validation set after the epoch, if one was given. */
  testAccuracy?: number
  /** Correctly classified validation images. */
  testCorrect?: number
  /** Size of the validation set. */
  testTotal?: number
  /** Mean cross-entropy on the validation set. */
  testLoss?: number
  /** Seconds the evaluation took. */
  evalSeconds?: number
}

/** What {@link Model.fit} resolves to. */
export interface TrainingHistory {
  /** One record per completed epoch, in order. */
  epochs: EpochRecord[]
  /** Wall-clock seconds of the whole fit (training and evaluation). */
  seconds: number
  /** Validation accuracy after the last epoch, if a validation set was given. */
  testAccuracy?: number
  /**
   * Signs that the run learned nothing or went the wrong way, one sentence
   * each; empty when there are none. They are: test accuracy at chance after
   * the last epoch, an epoch's mean training loss above the previous
   * epoch's, or above a uniform guess's (ln 10). See `trainingWarnings`.
   */
  warnings: string[]
}

/** Sent after every training batch. */
export interface BatchProgressEvent {
  type: 'batch'
  /** 1-based epoch. */
  epoch: number
  /** Epochs in this fit. */
  epochs: number
  /** 1-based batch within the epoch. */
  batch: number
  /** Batches per epoch. */
  batches: number
  /** Mean loss of this batch. */
  loss: number
  /** Training images seen in this epoch so far. */
  imagesSeen: number
  /** Training throughput of this epoch so far. */
  imagesPerSec: number
}

/** Sent every `logEvery` batches: the tutorial's `[epoch, batch] loss: x` line. */
export interface WindowProgressEvent {
  type: 'window'
  /** 1-based epoch. */
  epoch: number
  /** 1-based batch that closed the window. */
  batch: number
  /** Batches per epoch. */
  batches: number
  /** Mean batch loss over the window. */
  loss: number
  /** Batches in the window (`logEvery`). */
  size: number
}

/** Sent after each epoch (after evaluation, if any). */
export interface EpochProgressEvent extends EpochRecord {
  type: 'epoch'
  /** Epochs in this fit. */
  epochs: number
}

/** Progress reported by {@link Model.fit} and {@link train}; switch on `type`. */
export type ProgressEvent = BatchProgressEvent | WindowProgressEvent | EpochProgressEvent
