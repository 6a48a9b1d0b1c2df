/**
 * Plain text lines in the tutorial's style, for logs and pipes.
 * @module
 */
import type { ProgressEvent, TrainingHistory } from '../types.js'
import { type RunInfo, type StopPosition, formatDone, formatEpoch, formatStart, formatStopped, formatWindow } from './format.js'
import type { Io } from './io.js'
import { type Reporter, writeWarnings } from './reporting.js'

/**
 * Writes `[epoch, batch] loss: x` lines, the accuracy after each epoch and
 * a final line (only that one when quiet). The terminal's reporter is this
 * one with a progress bar instead of the loss lines.
 */
export class TextReporter implements Reporter {
  protected readonly io: Io
  readonly #quiet: boolean

  constructor(io: Io, quiet: boolean) {
    this.io = io
    this.#quiet = quiet
  }

  /** Clears what is drawn on the terminal before a line is written (nothing here). */
  protected clear(): void {}

  protected line(text: string): void {
    this.clear()
    this.io.stdout.write(`${text}\n`)
  }

  start(info: RunInfo): void {
    if (!this.#quiet) for (const line of formatStart(info)) this.line(line)
  }

  progress(event: ProgressEvent): void {
    if (this.#quiet) return
    if (event.type === 'window') this.line(formatWindow(event.epoch, event.batch, event.loss))
    else if (event.type === 'epoch') for (const line of formatEpoch(event, event.epochs)) this.line(line)
  }

  done(history: TrainingHistory): void {
    this.line(formatDone(history))
    writeWarnings(this.io, history.warnings)
  }

  saved(path: string): void {
    this.io.stderr.write(`saved the model to ${path}\n`)
  }

  reported(path: string): void {
    this.io.stderr.write(`wrote the report to ${path}\n`)
  }

  stopped(at: StopPosition | undefined): void {
    this.clear()
    this.io.stderr.write(`${formatStopped(at)}\n`)
  }

  error(message: string): void {
    this.clear()
    this.io.stderr.write(`error: ${message}\n`)
  }
}
