/**
 * {@link trainingWarnings}: the signs that a finished training run learned
 * nothing or went the wrong way, which otherwise end without a word.
 * @module
 */
import type { EpochRecord } from './types.js'

/**
 * Test accuracy at or below this is "at chance" among `classes` classes:
 * 1.5 times what guessing one class for every image scores on balanced
 * classes (15 % for 10 digits).
 */
export function chanceAccuracy(classes: number): number {
  return 1.5 / classes
}

/**
 * The cross-entropy of a uniform guess over `classes` classes, ln 10 ≈
 * 2.303 for digits: about where a freshly initialized model starts (2.300
 * to 2.358 for the models here, seeds 0 to 2, measured on 1,000 test images).
 */
export function uniformLoss(classes: number): number {
  return Math.log(classes)
}

/**
 * How much higher a mean training loss must be than the one it is compared
 * with to count as growth: 5 %, more than a fresh model's loss differs from
 * {@link uniformLoss}, so noise and an epoch of one batch raise no warning.
 */
export const LOSS_MARGIN = 1.05

const percent = (fraction: number): string => `${(100 * fraction).toFixed(2)} %`

/**
 * Warnings about a finished run, one sentence each (empty when all is well):
 *
 * - an epoch's mean training loss is more than 5 % ({@link LOSS_MARGIN})
 *   above the previous epoch's;
 * - otherwise, it is more than 5 % above {@link uniformLoss}, where every
 *   model starts (this catches a first epoch whose loss grew);
 * - the last epoch's test accuracy is at chance ({@link chanceAccuracy} or less).
 *
 * @param epochs - the epochs of one fit, in order
 * @param classes - the model's class count
 */
export function trainingWarnings(epochs: readonly EpochRecord[], classes: number): string[] {
  const uniform = uniformLoss(classes)
  const warnings: string[] = []
  epochs.forEach((record, i) => {
    const previous = epochs[i - 1]
    if (previous !== undefined && record.loss > LOSS_MARGIN * previous.loss) {
      warnings.push(
        `the training loss grew from ${previous.loss.toFixed(4)} in epoch ${previous.epoch} to ${record.loss.toFixed(4)} in epoch ${record.epoch}: the learning rate may be too high`,
      )
    } else if (record.loss > LOSS_MARGIN * uniform) {
      warnings.push(
        `the training loss of epoch ${record.epoch} (${record.loss.toFixed(4)}) is above a uniform guess's (${uniform.toFixed(4)}): the learning rate may be too high`,
      )
    }
  })
  const last = epochs.at(-1)
  if (last?.testAccuracy !== undefined && last.testAccuracy <= chanceAccuracy(classes)) {
    warnings.push(
      `test accuracy ${percent(last.testAccuracy)} after epoch ${last.epoch} is at chance level (${percent(1 / classes)} for ${classes} classes): the model has not learned; check the learning rate, the epochs and the data`,
    )
  }
  return warnings
}
