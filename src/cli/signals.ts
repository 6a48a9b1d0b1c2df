/**
 * Stopping long commands on SIGINT (Ctrl-C), SIGTERM (`kill`, container
 * stops) and SIGHUP (a closed terminal), all alike.
 * @module
 */

/** The signals that stop a run at the next batch, with the exit status each gives (128 + its number). */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const

type StopSignal = keyof typeof STOP_SIGNALS
const NAMES = Object.keys(STOP_SIGNALS) as StopSignal[]

/**
 * Turns the stop signals into an AbortSignal while a command runs, in place
 * of Node's default of dying at once (which would skip the checkpoint and
 * the line saying where the run stopped). A second signal exits at once.
 * Call {@link StopSignals.dispose} when the command is over.
 */
export class StopSignals {
  readonly #controller = new AbortController()
  #received: StopSignal | undefined
  readonly #listener = (name: NodeJS.Signals): void => {
    const received = name as StopSignal
    if (this.#received !== undefined) process.exit(STOP_SIGNALS[received])
    this.#received = received
    this.#controller.abort()
  }

  constructor() {
    for (const name of NAMES) process.on(name, this.#listener)
  }

  /** Aborts when the first stop signal arrives. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** The exit status for the signal that stopped the run (130 for Ctrl-C). */
  get exitStatus(): number {
    return STOP_SIGNALS[this.#received ?? 'SIGINT']
  }

  /** Gives the signals back to Node's defaults. */
  dispose(): void {
    for (const name of NAMES) process.off(name, this.#listener)
  }
}
