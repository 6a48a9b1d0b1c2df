/**
 * What {@link renderReport} draws: everything is plain data, so a report can
 * be rendered from a finished `train` run or from a `test` run alike.
 * @module
 */
import type { DetailedEvaluation, EpochRecord } from '../types.js'

/** One running-loss window of training (a `'window'` progress event). */
export interface ReportLossWindow {
  /** 1-based epoch. */
  epoch: number
  /** 1-based batch that closed the window. */
  batch: number
  /** Batches per epoch. */
  batches: number
  /** Mean batch loss over the window. */
  loss: number
}

/** A test image the model got wrong, with its pixels for the report's grid. */
export interface ReportMisclassified {
  /** Position of the image in the evaluated dataset. */
  index: number
  /** The true class's index. */
  label: number
  /** The class the model predicted. */
  predicted: number
  /** Their names ({@link Model.classNames}); the index when absent. */
  labelName?: string
  predictedName?: string
  /** The model's probability for `predicted`, in [0, 1]. */
  probability?: number
  /** `channels × height × width` bytes, each channel a plane, row-major. */
  pixels: Uint8Array
  /** 1 (grey, the default) or 3 (colour). */
  channels?: number
  width: number
  height: number
}

/** Everything one report shows. Optional parts are left out of the page when absent. */
export interface ReportInput {
  /** Heading of the page, e.g. `googlenet on MNIST`. */
  title: string
  /** Shown under the title; left out (keeping the page reproducible) when absent. */
  generatedAt?: Date
  /** The run's settings: model, device, epochs, batch size, lr, momentum, seed, data sizes, version… */
  config: Record<string, string | number | boolean>
  /** Durations in seconds: total, per-epoch mean, evaluation… */
  timings?: Record<string, number>
  /** Running-loss windows of training, in order; absent for a report of a test run. */
  lossWindows?: ReportLossWindow[]
  /** One record per trained epoch; absent for a report of a test run. */
  epochs?: EpochRecord[]
  /** The final evaluation on the test set, with its confusion matrix. */
  evaluation: DetailedEvaluation
  /** Misclassified test images to show (the caller picks a few dozen at most). */
  misclassified: ReportMisclassified[]
}
