/**
 * A per-epoch progress bar on the terminal, and the epoch results as lines.
 * @module
 */
import type { BatchProgressEvent, ProgressEvent } from '../types.js'
import { type RunInfo, type StopPosition, formatStopped } from './format.js'
import type { Io } from './io.js'
import { ProgressBar, formatEta, renderBar } from './progress-bar.js'
import { TextReporter } from './text-reporter.js'

/** Draws a bar with loss and images/s while an epoch trains (on stderr), and prints each epoch's result (on stdout). */
export class TtyReporter extends TextReporter {
  readonly #bar: ProgressBar
  #lossSum = 0
  #lossCount = 0
  #testSize = 0

  constructor(io: Io) {
    super(io, false)
    this.#bar = new ProgressBar(io.stderr)
  }

  protected override clear(): void {
    this.#bar.clear()
  }

  override start(info: RunInfo): void {
    this.#testSize = info.testSize
    super.start(info)
  }

  override progress(event: ProgressEvent): void {
    if (event.type === 'batch') this.#batch(event)
    else if (event.type === 'epoch') super.progress(event)
  }

  #batch(e: BatchProgressEvent): void {
    if (e.batch === 1) {
      this.#lossSum = 0
      this.#lossCount = 0
    }
    this.#lossSum += e.loss
    this.#lossCount += 1
    const last = e.batch === e.batches
    const head = `epoch ${e.epoch}/${e.epochs} `
    const count = ` ${e.batch}/${e.batches}`
    const tail = last
      ? `  loss ${(this.#lossSum / this.#lossCount).toFixed(4)}  evaluating on ${this.#testSize} test images…`
      : `  loss ${(this.#lossSum / this.#lossCount).toFixed(4)}  ${Math.round(e.imagesPerSec)} img/s  eta ${formatEta(
          e.imagesPerSec > 0 ? ((e.batches - e.batch) * (e.imagesSeen / e.batch)) / e.imagesPerSec : Number.NaN,
        )}`
    const width = Math.min(30, Math.max(10, this.#bar.columns - head.length - count.length - tail.length))
    this.#bar.update(head + renderBar(e.batch / e.batches, width) + count + tail, last || e.batch === 1)
  }

  override stopped(at: StopPosition | undefined): void {
    this.clear()
    this.io.stderr.write(`\n${formatStopped(at)}\n`)
  }
}
