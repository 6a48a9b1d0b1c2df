/**
 * Runs trained side by side: each in a worker process of its own
 * (`worker.ts`), with `GOOGLENET_NATIVE_THREADS` set so that the workers'
 * threads together match the cores. Processes, not threads: the engine's
 * thread pool is per process, and a worker that dies takes only its run.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { abortError } from '../errors.js'
import type { ProgressEvent } from '../types.js'
import type { RunSpec } from './run.js'
import type { PlannedRun } from './sweep.js'
import type { RunRecord } from './types.js'

/** What a worker tells its parent. */
export type WorkerMessage =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'result'; record: RunRecord }
  | { type: 'stopped' }
  | { type: 'error'; message: string; name: string }

/** A run to train, with what it trains. */
export interface QueuedRun {
  run: PlannedRun
  spec: RunSpec
}

/** Hears the runs of {@link trainInWorkers}. */
export interface PoolHooks {
  signal?: AbortSignal
  onStart?: (run: PlannedRun) => void
  onProgress?: (run: PlannedRun, event: ProgressEvent) => void
  /** Called as each run finishes, in the order they finish. */
  onResult: (run: PlannedRun, record: RunRecord) => void
}

/** The worker's script: built beside the module that starts it (dist/compare-worker.js). */
function workerScript(): string {
  return fileURLToPath(new URL('./compare-worker.js', import.meta.url))
}

/**
 * Trains `queue` with `workers` processes at once, each given `threads`
 * engine threads. An error in one run stops the others (each leaves a
 * checkpoint where it has a folder) and rejects with that run's error;
 * `hooks.signal` stops them all and rejects with an `AbortError`.
 */
export async function trainInWorkers(queue: readonly QueuedRun[], workers: number, threads: number, hooks: PoolHooks): Promise<void> {
  const waiting = [...queue]
  const running = new Set<ChildProcess>()
  let failure: Error | undefined
  const stopAll = (): void => {
    for (const child of running) child.kill('SIGTERM')
  }
  const onAbort = (): void => stopAll()
  hooks.signal?.addEventListener('abort', onAbort, { once: true })

  const start = (item: QueuedRun): Promise<void> =>
    new Promise((resolve) => {
      const child = fork(workerScript(), [], {
        env: { ...process.env, GOOGLENET_NATIVE_THREADS: String(threads) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      running.add(child)
      hooks.onStart?.(item.run)
      let settled = false
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') hooks.onProgress?.(item.run, message.event)
        else if (message.type === 'result') {
          settled = true
          hooks.onResult(item.run, message.record)
        } else if (message.type === 'stopped') {
          settled = true
        } else {
          settled = true
          const error = new Error(`${item.run.model.label} seed ${item.run.seed}: ${message.message}`)
          error.name = message.name
          failure ??= error
          stopAll()
        }
      })
      child.on('error', (error) => {
        failure ??= error
      })
      child.on('exit', (code, signal) => {
        running.delete(child)
        if (!settled && !hooks.signal?.aborted) {
          failure ??= new Error(`the worker training ${item.run.model.label} seed ${item.run.seed} died (${signal ?? `exit status ${code}`})`)
          stopAll()
        }
        resolve()
      })
      child.send({ type: 'run', spec: item.spec })
    })

  const lane = async (): Promise<void> => {
    for (let item = waiting.shift(); item !== undefined; item = waiting.shift()) {
      if (failure !== undefined || hooks.signal?.aborted) return
      await start(item)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(workers, queue.length) }, lane))
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort)
  }
  if (failure !== undefined) throw failure
  if (hooks.signal?.aborted) throw abortError(hooks.signal)
}
