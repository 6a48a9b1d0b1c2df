/**
 * A thread worker's side of its port to the engine (see
 * `engine-threads.ts`). Evaluated before napi-rs's thread worker, which
 * takes `postMessage` as it loads and answers whatever reaches
 * `onmessage`: where the page created this worker, the first message is
 * the port, and from then on the engine's messages come in through it and
 * the replies go out through it, as they would with the engine as the
 * parent. Uncaught errors go to the engine over the port too, as its
 * worker's error events. A worker the engine created itself has no port
 * and talks to its parent as before.
 * @module
 */
import type { ThreadErrorMessage, ThreadPortMessage } from './protocol.js'

/** The worker's global scope, without the WebWorker lib (the page's DOM lib is loaded). */
const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void
  onmessage: ((event: MessageEvent) => void) | null
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void
}

let port: MessagePort | undefined
const toParent = scope.postMessage.bind(scope)
scope.postMessage = (message, transfer = []) => (port ? port.postMessage(message, transfer) : toParent(message, transfer))

scope.addEventListener('message', (event) => {
  const threadPort = (event.data as Partial<ThreadPortMessage> | null)?.threadPort
  if (threadPort === undefined) return
  // The port is for this module only, not for the thread worker's handler.
  event.stopImmediatePropagation()
  port = threadPort
  port.onmessage = (message) => scope.onmessage?.(message)
})

scope.addEventListener('error', (event) => {
  const failure: ThreadErrorMessage = { threadError: event.message }
  port?.postMessage(failure)
})
