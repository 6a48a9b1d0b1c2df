/**
 * The output streams the CLI writes to, as a small interface for testing.
 * @module
 */

/** A text sink such as `process.stdout`. */
export interface Output {
  write(text: string): unknown
  /** True when the stream is a terminal. */
  isTTY?: boolean
  /** Terminal width, when it is a terminal. */
  columns?: number
}

/** Where the CLI writes: results to `stdout`, diagnostics and progress bars to `stderr`. */
export interface Io {
  stdout: Output
  stderr: Output
}

/** The process's own streams. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr }
}
