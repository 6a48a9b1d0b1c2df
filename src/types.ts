/**
 * Public types of the googlenet-native API.
 * @module
 */
import type { Dataset } from './dataset.js'

/**
 * The name of a model this build can create: one of {@link modelNames}
 * (e.g. `'googlenet'`, `'resnet-full-preact'`). A string, because the list
 * lives in the addon's catalog (see {@link modelCatalog}); other names are
 * refused with a `RangeError` that lists the known ones.
 */
export type ModelName = string

/**
 * Where a model runs. `'auto'` picks the first NVIDIA GPU when the CUDA
 * build of the addon loads and finds one, else the CPU; `'cuda'` insists on
 * the GPU and fails, saying what is missing, where there is none.
 */
export type Device = 'auto' | 'cpu' | 'cuda'

/**
 * An optimizer: `'sgd'` (the reference recipe's, the default), `'adam'` or
 * `'adamw'`, as `torch.optim` defines them (see docs/training.md, "Training
 * options"). A string, because the list lives in the addon; other names are
 * refused with a `RangeError` that lists the known ones.
 */
export type OptimizerName = string

/**
 * A learning-rate schedule: `'constant'` (the default), `'step'` (times
 * `stepGamma` every `stepEpochs` epochs) or `'cosine'` (down to 0 at the
 * last batch), each after an optional linear warm-up (`warmupEpochs`).
 * Schedules step once per batch.
 */
export type ScheduleName = string

/** Options of {@link createModel} and the {@link Model} constructor. */
export interface ModelOptions {
  /** Seeds the weight initialization and, unless `fit` gets its own, the shuffle. Integer in [0, 2^32-1]; default {@link FIT_DEFAULTS}`.seed` (0). */
  seed?: number
  /** Default `'auto'`. */
  device?: Device
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
}

/** One trainable tensor of a model, named as PyTorch names it. */
export interface ParameterInfo {
  /** e.g. `conv1.weight`, `incep1.branch5x5_2.bias`, `fc.bias`. */
  name: string
  /** e.g. `[10, 1, 5, 5]`. */
  shape: number[]
}

/** Options of {@link Model.fit}. Every field is optional; defaults are the reference recipe. */
export interface FitOptions {
  /** Passes over the training set; integer in [1, 2^32 − 1], default {@link FIT_DEFAULTS}`.epochs` (10). */
  epochs?: number
  /** Images per SGD step; integer in [1, {@link maxBatchSize}()] (1024), default {@link FIT_DEFAULTS}`.batchSize` (64). */
  batchSize?: number
  /** The optimizer; default `'sgd'`. Settings another optimizer uses (`momentum` with `'adam'`) are refused. */
  optimizer?: OptimizerName
  /** Base learning rate; finite > 0, default 0.01 with SGD ({@link FIT_DEFAULTS}`.lr`), 0.001 (PyTorch's) with Adam and AdamW. */
  lr?: number
  /** SGD only: momentum (PyTorch's form, no dampening); finite in [0, 1), default {@link FIT_DEFAULTS}`.momentum` (0.5). */
  momentum?: number
  /** SGD only: Nesterov momentum (needs `momentum` > 0); default false. */
  nesterov?: boolean
  /**
   * Weight decay λ, finite >= 0. SGD and Adam add λ·p to the gradient (L2);
   * AdamW decays the weights apart from it, p ← p·(1 − lr·λ). Default 0, or
   * 0.01 with AdamW (PyTorch's defaults).
   */
  weightDecay?: number
  /** Adam and AdamW only: decay of the gradient's running mean; finite in [0, 1), default 0.9. */
  beta1?: number
  /** Adam and AdamW only: decay of the squared gradient's running mean; finite in [0, 1), default 0.999. */
  beta2?: number
  /** Adam and AdamW only: added to the denominator; finite > 0, default 1e-8. */
  eps?: number
  /** The learning-rate schedule; default `'constant'`. */
  schedule?: ScheduleName
  /** `'step'` schedule only: epochs between two decays; integer >= 1, default 1. */
  stepEpochs?: number
  /** `'step'` schedule only: the factor of each decay; finite in (0, 1], default 0.1 (PyTorch's `StepLR`). */
  stepGamma?: number
  /** Epochs of linear warm-up before the schedule; integer >= 0 and below `epochs`, default 0. */
  warmupEpochs?: number
  /** With `warmupEpochs`: the warm-up starts at this fraction of `lr`; finite in (0, 1], default 1/3 (PyTorch's `LinearLR`). */
  warmupStartFactor?: number
  /** Seeds the per-epoch shuffle; integer in [0, 2^32-1], default the model's seed. */
  seed?: number
  /** Evaluated after every epoch; its results land in each {@link EpochRecord}. */
  validation?: Dataset
  /** Aborting it stops training at the next batch; the promise then rejects with an `AbortError`. */
  signal?: AbortSignal
  /** Called with progress while training runs (on the event loop, never blocking training). */
  onProgress?: (event: ProgressEvent) => void
  /** Batches per `'window'` event; integer >= 1, default {@link FIT_DEFAULTS}`.logEvery` (the tutorial's 300). */
  logEvery?: number
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

/**
 * The settings of a run: what a checkpoint keeps so it can be resumed.
 * Every setting its optimizer and schedule use is there, and only those
 * (`momentum` and `nesterov` for SGD; `beta1`, `beta2` and `eps` for Adam
 * and AdamW; `stepEpochs` and `stepGamma` for the step schedule;
 * `warmupStartFactor` with a warm-up). See {@link FitOptions}.
 */
export interface FitRecipe {
  /** Planned total epochs. */
  epochs: number
  batchSize: number
  /** Seed of the shuffle. */
  seed: number
  optimizer: OptimizerName
  /** Base learning rate (the schedule scales it). */
  lr: number
  momentum?: number
  nesterov?: boolean
  weightDecay: number
  beta1?: number
  beta2?: number
  eps?: number
  schedule: ScheduleName
  stepEpochs?: number
  stepGamma?: number
  warmupEpochs: number
  warmupStartFactor?: number
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
export interface EvaluateOptions {
  /** Images per forward pass; integer in [1, {@link maxBatchSize}()] (1024), default 256. */
  batchSize?: number
  /** Also return per-class accuracy, the confusion matrix and every prediction ({@link DetailedEvaluation}). */
  confusion?: boolean
}

/** Options of {@link Model.predict}. */
export interface PredictOptions {
  /** Image height in pixels; default the model's ({@link Model.inputSize}; 28 for every model of the zoo). */
  height?: number
  /** Image width in pixels; default the model's ({@link Model.inputSize}). */
  width?: number
}

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

/** A {@link FilePrediction} for an image that holds a digit. */
export interface DigitPrediction {
  /** The path as given. */
  file: string
  /** True: the image holds a digit, classified here. */
  found: true
  /** The most probable class, 0..9. */
  label: number
  /** The 3 most probable classes, most probable first. */
  top: { label: number; probability: number }[]
  /** The 10 softmax probabilities. */
  probabilities: Float32Array
  /** True when the image was dark on light and was inverted to MNIST's light on dark. */
  inverted: boolean
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

/** How well one class (digit) was recognized. */
export interface ClassAccuracy {
  /** The true class, 0..9. */
  label: number
  /** Images of this class classified correctly. */
  correct: number
  /** Images of this class. */
  total: number
  /** `correct / total` (0 when the class has no images). */
  accuracy: number
}

/** {@link EvaluationResult} with the per-class view, from `evaluate(dataset, { confusion: true })`. */
export interface DetailedEvaluation extends EvaluationResult {
  /** One entry per class, 0..9. */
  perClass: ClassAccuracy[]
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
