/**
 * How a training run is reported, and the choice among the three ways
 * (JSON lines, progress bar on a terminal, plain text lines).
 * @module
 */
import type { ProgressEvent, TrainingHistory } from '../types.js'
import type { RunInfo, StopPosition } from './format.js'
import type { Io } from './io.js'
import { JsonReporter } from './json-reporter.js'
import { TextReporter } from './text-reporter.js'
import { TtyReporter } from './tty-reporter.js'

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

/** What decides the output mode. */
export interface ReporterChoice {
  json: boolean
  quiet: boolean
}

/** JSON lines with `--json`; a progress bar when both streams are terminals (unless `--quiet`); text lines otherwise. */
export function createReporter(choice: ReporterChoice, io: Io): Reporter {
  if (choice.json) return new JsonReporter(io, choice.quiet)
  if (!choice.quiet && io.stdout.isTTY === true && io.stderr.isTTY === true) return new TtyReporter(io)
  return new TextReporter(io, choice.quiet)
}
