/**
 * Turns the native progress callbacks of a fit into the public
 * {@link ProgressEvent}s, including the `'window'` events computed here.
 * @internal
 * @module
 */
import type { NativeEpochSummary, NativeProgressEvent } from './native.js'
import type { EpochRecord, ProgressEvent } from './types.js'

/** Converts a native epoch summary into the public record. */
export function toEpochRecord(summary: NativeEpochSummary): EpochRecord {
  const record: EpochRecord = {
    epoch: summary.epoch,
    loss: summary.loss,
    seconds: summary.seconds,
    trainImagesPerSec: summary.trainImagesPerSec,
  }
  if (summary.test) {
    record.testAccuracy = summary.test.accuracy
    record.testCorrect = summary.test.correct
    record.testTotal = summary.test.total
    record.testLoss = summary.test.loss
  }
  if (summary.evalSeconds !== undefined && summary.evalSeconds !== null) record.evalSeconds = summary.evalSeconds
  return record
}

/** Settings of a {@link ProgressTracker}. */
export interface TrackerOptions {
  epochs: number
  logEvery: number
  onProgress: (event: ProgressEvent) => void
  /** Called once, with the first error a user callback throws. */
  onCallbackError: (error: unknown) => void
}

/** Forwards native progress to a user callback, one fit at a time. */
export class ProgressTracker {
  readonly #options: TrackerOptions
  #closed = false
  #windowEpoch = 0
  #windowSum = 0
  #windowCount = 0
  readonly #emittedEpochs = new Set<number>()

  constructor(options: TrackerOptions) {
    this.#options = options
  }

  /** Handles one native event (the callback given to `NativeModel.fit`). */
  handle(event: NativeProgressEvent): void {
    if (this.#closed) return
    if (event.kind === 'batch') this.#batch(event)
    else if (event.kind === 'epoch' && event.summary) this.#epoch(toEpochRecord(event.summary))
  }

  /** Emits the epoch events that native callbacks have not delivered yet, then stops forwarding. */
  finish(records: readonly EpochRecord[]): void {
    for (const record of records) {
      if (this.#closed) break
      if (!this.#emittedEpochs.has(record.epoch)) this.#epoch(record)
    }
    this.close()
  }

  /** Stops forwarding events (late native callbacks are dropped). */
  close(): void {
    this.#closed = true
  }

  #batch(event: NativeProgressEvent): void {
    if (event.epoch !== this.#windowEpoch || event.batch === 1) {
      this.#windowEpoch = event.epoch
      this.#windowSum = 0
      this.#windowCount = 0
    }
    this.#windowSum += event.loss
    this.#windowCount += 1
    this.#emit({
      type: 'batch',
      epoch: event.epoch,
      epochs: this.#options.epochs,
      batch: event.batch,
      batches: event.batches,
      loss: event.loss,
      imagesSeen: event.imagesSeen,
      imagesPerSec: event.elapsedSeconds > 0 ? event.imagesSeen / event.elapsedSeconds : 0,
    })
    if (event.batch % this.#options.logEvery === 0) {
      this.#emit({
        type: 'window',
        epoch: event.epoch,
        batch: event.batch,
        batches: event.batches,
        loss: this.#windowSum / this.#windowCount,
        size: this.#windowCount,
      })
      this.#windowSum = 0
      this.#windowCount = 0
    }
  }

  #epoch(record: EpochRecord): void {
    this.#emittedEpochs.add(record.epoch)
    this.#emit({ type: 'epoch', ...record, epochs: this.#options.epochs })
  }

  #emit(event: ProgressEvent): void {
    if (this.#closed) return
    try {
      this.#options.onProgress(event)
    } catch (error) {
      this.#closed = true
      this.#options.onCallbackError(error)
    }
  }
}
