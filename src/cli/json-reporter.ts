/**
 * One JSON object per line on stdout, for scripts.
 * @module
 */
import type { ProgressEvent, TrainingHistory } from '../types.js'
import { type StopPosition, formatStopped } from './format.js'
import type { Io } from './io.js'
import { type Reporter, writeWarnings } from './reporting.js'

/**
 * Writes `{"type":"epoch",...}` after each epoch and `{"type":"done",...}` at
 * the end (only that one when quiet), whose `warnings` are repeated as text
 * on stderr; failures as `{"type":"error",...}` and `{"type":"stopped",...}`,
 * repeated as text on stderr too.
 */
export class JsonReporter implements Reporter {
  readonly #io: Io
  readonly #quiet: boolean

  constructor(io: Io, quiet: boolean) {
    this.#io = io
    this.#quiet = quiet
  }

  #emit(value: object): void {
    this.#io.stdout.write(`${JSON.stringify(value)}\n`)
  }

  start(): void {}

  progress(event: ProgressEvent): void {
    if (event.type !== 'epoch' || this.#quiet) return
    this.#emit({
      type: 'epoch',
      epoch: event.epoch,
      epochs: event.epochs,
      loss: event.loss,
      testAccuracy: event.testAccuracy,
      testCorrect: event.testCorrect,
      testTotal: event.testTotal,
      testLoss: event.testLoss,
      seconds: event.seconds,
      evalSeconds: event.evalSeconds,
      trainImagesPerSec: event.trainImagesPerSec,
    })
  }

  saved(path: string): void {
    this.#emit({ type: 'saved', path })
  }

  done(history: TrainingHistory): void {
    const last = history.epochs.at(-1)
    this.#emit({
      type: 'done',
      epochs: history.epochs.length,
      testAccuracy: last?.testAccuracy,
      testCorrect: last?.testCorrect,
      testTotal: last?.testTotal,
      loss: last?.loss,
      seconds: history.seconds,
      warnings: history.warnings,
    })
    writeWarnings(this.#io, history.warnings)
  }

  reported(path: string): void {
    this.#emit({ type: 'report', path })
  }

  stopped(at: StopPosition | undefined): void {
    this.#emit({ type: 'stopped', epoch: at?.epoch ?? 0, batch: at?.batch ?? 0, ...(at?.checkpoint === undefined ? {} : { checkpoint: at.checkpoint }) })
    this.#io.stderr.write(`${formatStopped(at)}\n`)
  }

  error(message: string): void {
    this.#emit({ type: 'error', message })
    this.#io.stderr.write(`error: ${message}\n`)
  }
}
