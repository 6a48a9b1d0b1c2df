/**
 * What the three ways of reporting a training run share: the interface
 * they implement, and the run's warnings on stderr. Its own module, so
 * that `reporter.ts`, which picks among them, is imported by none of them.
 * @module
 */
import type { ProgressEvent, TrainingHistory } from '../types.js'
import type { RunInfo, StopPosition } from './format.js'
import type { Io } from './io.js'

/** Receives what happens during `train` and writes it out. */
export interface Reporter {
  /** Before the first batch. */
  start(info: RunInfo): void
  /** Each progress event of the fit. */
  progress(event: ProgressEvent): void
  /** After the last epoch: the final line and the run's warnings. */
  done(history: TrainingHistory): void
  /** After `--save` wrote the model. */
  saved(path: string): void
  /** After `--report` wrote the HTML report. */
  reported(path: string): void
  /** After SIGINT, SIGTERM or SIGHUP stopped the run. */
  stopped(at: StopPosition | undefined): void
  /** A failure, as one line. */
  error(message: string): void
}

/** Writes each of a run's warnings (see `trainingWarnings`) on stderr as `warning: ...`, even when quiet. */
export function writeWarnings(io: Io, warnings: readonly string[]): void {
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`)
}
