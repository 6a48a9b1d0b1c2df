/**
 * The engine's threads run in workers the page creates, reached over
 * MessagePorts: imported by the engine worker before napi-rs's browser
 * loader, this module asks the page for them and stands in for `Worker`
 * while the loader makes its workers.
 *
 * Why: the loader starts one worker per WebAssembly thread
 * (`wasi-worker-browser.mjs`) with `new Worker()` inside the engine worker,
 * a nested worker. Firefox (ESR 153), while a WebDriver BiDi session drives
 * it, as the tests' puppeteer does, sometimes never returns from
 * `new Worker()` called in a worker, with or without any event subscribed
 * (a page whose worker makes six: 3 of 25 loads hung; the same six made
 * on the page's thread: 0 of 25), and the engine never starts (5 of 25
 * loads of this page before, 0 of 25 since). Each `new Worker()` of the
 * loader gets the next port instead, wrapped to look like the worker
 * behind it (messages, errors, terminate). The page makes as many as the
 * loader's pool holds, all it starts; a thread past those gets a nested
 * worker, as before.
 * @module
 */
import type { EngineReply, ThreadErrorMessage, ThreadPorts } from './protocol.js'

/**
 * The loader's pool of thread workers, all made as it loads: its
 * `asyncWorkPoolSize` (4) plus its thread count, `max(2, hardwareConcurrency ?? 4)`.
 */
const POOL = 4 + Math.max(2, navigator.hardwareConcurrency ?? 4)

/** The file of the loader's thread workers. */
const THREAD_SCRIPT = '/wasi-worker-browser.mjs'

/** The worker's side of postMessage, without the WebWorker lib (the page's DOM lib is loaded). */
const scope = self as unknown as {
  postMessage(message: EngineReply): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  Worker: unknown
}

/**
 * A thread worker the page created, seen through its port as the loader
 * sees a worker: message and error events (listeners and `onmessage`,
 * `onerror`), `postMessage` and `terminate`.
 */
class PortWorker extends EventTarget {
  private readonly handlers: Partial<Record<'message' | 'error', EventListener>> = {}

  constructor(
    private readonly port: MessagePort,
    private readonly index: number,
  ) {
    super()
    port.onmessage = (event) => {
      const failure = (event.data as Partial<ThreadErrorMessage> | null)?.threadError
      this.dispatchEvent(failure === undefined ? new MessageEvent('message', { data: event.data }) : new ErrorEvent('error', { message: failure }))
    }
  }

  get onmessage(): EventListener | null {
    return this.handlers.message ?? null
  }
  set onmessage(handler: EventListener | null | undefined) {
    this.setHandler('message', handler)
  }
  get onerror(): EventListener | null {
    return this.handlers.error ?? null
  }
  set onerror(handler: EventListener | null | undefined) {
    this.setHandler('error', handler)
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer)
  }

  terminate(): void {
    this.port.close()
    scope.postMessage({ type: 'end-thread', index: this.index })
  }

  private setHandler(type: 'message' | 'error', handler: EventListener | null | undefined): void {
    const old = this.handlers[type]
    if (old !== undefined) this.removeEventListener(type, old)
    delete this.handlers[type]
    if (typeof handler !== 'function') return
    this.handlers[type] = handler
    this.addEventListener(type, handler)
  }
}

scope.postMessage({ type: 'need-threads', count: POOL })
const ports = await new Promise<MessagePort[]>((resolve) => {
  const listen = (event: MessageEvent): void => {
    const reply = event.data as Partial<ThreadPorts> | null
    if (reply?.type !== 'threads' || reply.ports === undefined) return
    scope.removeEventListener('message', listen)
    resolve(reply.ports)
  }
  scope.addEventListener('message', listen)
})

const NestedWorker = Worker
let next = 0
scope.Worker = function EngineThreadWorker(url: string | URL, options?: WorkerOptions): Worker | PortWorker {
  const port = String(url).endsWith(THREAD_SCRIPT) ? ports[next] : undefined
  if (port === undefined) return new NestedWorker(url, options)
  next++
  return new PortWorker(port, next - 1)
}
