/**
 * Error helpers shared by the API and the CLI.
 * @module
 */

/**
 * The error an aborted operation rejects with: the signal's `reason` when it
 * is an `Error` named `AbortError`, otherwise a new `DOMException` named
 * `AbortError`.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name === 'AbortError') return reason
  return new DOMException('This operation was aborted', 'AbortError')
}

/** True for errors named `AbortError` (what an aborted `fit` or `train` rejects with). */
export function isAbortError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'AbortError'
}

/** True when a native call rejected because its CancelToken was cancelled (the binding's `Cancelled` code). @internal */
export function isNativeAbort(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'Cancelled'
}

/** The first line of an error's message (or of its string form), for one-line reports. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? text
  return line.trim()
}
