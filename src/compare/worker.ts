/**
 * A worker process of `compare --workers N`: trains the one run its parent
 * sends, reporting progress and the finished record back over IPC. A stop
 * signal, or its parent going away, stops the run at the next batch, which
 * leaves a checkpoint in the run's folder to resume from.
 * @module
 */
import { errorMessage, isAbortError } from '../errors.js'
import type { ProgressEvent } from '../types.js'
import { type RunSpec, trainRun } from './run.js'
import type { WorkerMessage } from './pool.js'

const controller = new AbortController()
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => controller.abort())
process.on('disconnect', () => controller.abort())

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve()
    else process.send(message, undefined, {}, () => resolve())
  })
}

async function work(spec: RunSpec): Promise<number> {
  // Every event, batches included: the parent says where a stopped run was.
  const onProgress = (event: ProgressEvent): void => void send({ type: 'progress', event })
  try {
    const record = await trainRun(spec, { signal: controller.signal, onProgress })
    await send({ type: 'result', record })
    return 0
  } catch (error) {
    if (isAbortError(error)) {
      await send({ type: 'stopped' })
      return 130
    }
    await send({ type: 'error', message: errorMessage(error), name: error instanceof Error ? error.name : 'Error' })
    return 1
  }
}

process.once('message', (message: { type: 'run'; spec: RunSpec }) => {
  void work(message.spec).then((code) => {
    process.exitCode = code
    process.disconnect?.()
  })
})
