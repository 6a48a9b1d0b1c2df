/**
 * Keeps Node's "WASI is an experimental feature" warning off the CLI's
 * stderr when the WebAssembly build runs: it is printed once by the main
 * thread and once by each worker thread of the engine, and says nothing a
 * user can act on. Other warnings still print. The API leaves the process's
 * warnings alone (`NODE_NO_WARNINGS=1` hides them there).
 * @module
 */

/** Installs the filter; call it before the addon loads. */
export function quietWasiWarnings(): void {
  const printers = process.listeners('warning')
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && /\bWASI\b/.test(warning.message)) return
    for (const print of printers) print(warning)
  })
  // The engine's worker threads start later, each with this environment: Node reads it there.
  process.env.NODE_NO_WARNINGS = '1'
}
