/**
 * The error for bad command-line input (exit status 2).
 * @module
 */

/** Bad command-line input: the CLI prints `error: <message>` and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Exit status for bad command-line input. */
export const EXIT_USAGE = 2
/** Exit status for failures while running (bad data, native errors). */
export const EXIT_FAILURE = 1
// The statuses after SIGINT, SIGTERM and SIGHUP (130, 143, 129) are in signals.ts.
