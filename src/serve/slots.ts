/**
 * A cap on work done at once: at most `limit` holders, the others waiting
 * their turn, first come first served.
 * @module
 */
export class Slots {
  #free: number
  readonly #waiting: Array<() => void> = []

  constructor(limit: number) {
    this.#free = limit
  }

  /** Resolves once a slot is this caller's, with the function that gives it back (calls after the first do nothing). */
  async take(): Promise<() => void> {
    if (this.#free > 0) this.#free--
    else await new Promise<void>((resolve) => this.#waiting.push(resolve))
    let held = true
    return () => {
      if (!held) return
      held = false
      // The slot passes straight to the next in line, if any.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#free++
    }
  }
}
