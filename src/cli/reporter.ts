/**
 * How a training run is reported, and the choice among the three ways
 * (JSON lines, progress bar on a terminal, plain text lines).
 * @module
 */
import type { Io } from './io.js'
import { JsonReporter } from './json-reporter.js'
import type { Reporter } from './reporting.js'
import { TextReporter } from './text-reporter.js'
import { TtyReporter } from './tty-reporter.js'

export type { Reporter } from './reporting.js'

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
