/**
 * `googlenet-native serve` over HTTP, without a browser: its routes, the
 * headers that give the page threads, what it refuses, and its flags.
 * test/serve-page.test.ts drives the page itself in Chromium.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conv2d, createModel, flatten, linear, network } from '../dist/index.js'
import { idxCount, idxSlice } from '../src/serve/idx-slice.js'
import { MNIST_DIR, ROOT, runCli } from './helpers.js'
import { type Served, pageBuiltOrSkip, serve } from './serve-process.js'

describe('idxSlice', () => {
  it('keeps the header, sets the count and keeps the first records, for images and labels, without copying them', () => {
    const images = readFileSync(join(MNIST_DIR, 't10k-images-idx3-ubyte'))
    const labels = readFileSync(join(MNIST_DIR, 't10k-labels-idx1-ubyte'))
    expect([idxCount(images), idxCount(labels)]).toEqual([10_000, 10_000])
    const five = Buffer.concat(idxSlice(images, 5))
    expect(five.length).toBe(16 + 5 * 784)
    expect(idxCount(five)).toBe(5)
    expect(five.subarray(8, 16)).toEqual(images.subarray(8, 16))
    expect(five.subarray(16).equals(images.subarray(16, 16 + 5 * 784))).toBe(true)
    expect([...Buffer.concat(idxSlice(labels, 3))]).toEqual([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    // The records are a view of the file, not a copy; the header is a copy, which leaves the file as it was.
    expect(idxSlice(images, 5)[1].buffer).toBe(images.buffer)
    expect(idxCount(images)).toBe(10_000)
  })
})

describe.skipIf(!pageBuiltOrSkip('test/serve.test.ts'))('serve', () => {
  let served: Served
  beforeAll(async () => {
    served = await serve()
  })
  afterAll(async () => {
    await served?.stop()
  })
  const get = (path: string, init?: RequestInit): Promise<Response> => fetch(new URL(path, served.url), init)

  it('serves the page with the headers that give it threads, and a policy that keeps it on this server', async () => {
    const response = await get('/')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin')
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp')
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await response.text()
    for (const asset of html.matchAll(/(?:src|href)="(\/app\/[^"]+)"/g)) {
      const file = await get(asset[1]!)
      expect(file.status, asset[1]).toBe(200)
      await file.arrayBuffer()
      expect(file.headers.get('cross-origin-resource-policy')).toBe('same-origin')
    }
    const wasm = await get('/app/googlenet-native.wasm32-wasi.wasm')
    expect(wasm.headers.get('content-type')).toBe('application/wasm')
    // equals, not toEqual: a deep comparison of 5 MB takes vitest seconds.
    expect(Buffer.from(await wasm.arrayBuffer()).equals(readFileSync(join(ROOT, 'googlenet-native.wasm32-wasi.wasm')))).toBe(true)
    // The relaxed-SIMD module beside it, for browsers that run it (src/web/wasm-module.ts).
    const relaxed = await get('/app/googlenet-native.wasm32-wasi.relaxed-simd.wasm')
    expect(relaxed.headers.get('content-type')).toBe('application/wasm')
    expect(Buffer.from(await relaxed.arrayBuffer()).equals(readFileSync(join(ROOT, 'googlenet-native.wasm32-wasi.relaxed-simd.wasm')))).toBe(true)
  })

  it('serves the bundled model, and prefixes of MNIST as IDX files', async () => {
    const model = await get('/model.safetensors')
    expect(model.headers.get('x-model-name')).toBe('googlenet-mnist.safetensors')
    expect(Buffer.from(await model.arrayBuffer()).equals(readFileSync(join(ROOT, 'models', 'googlenet-mnist.safetensors')))).toBe(true)
    const images = new Uint8Array(await (await get('/mnist/train-images?count=2000')).arrayBuffer())
    expect(images.length).toBe(16 + 2000 * 784)
    expect(idxCount(images)).toBe(2000)
    const labels = new Uint8Array(await (await get('/mnist/test-labels?count=1000')).arrayBuffer())
    expect([...labels.subarray(8, 12)]).toEqual([7, 2, 1, 0])
  })

  it('refuses what it does not serve: unknown paths, paths out of its folders, other methods, bad counts', async () => {
    for (const path of ['/nope', '/app/../package.json', '/app/%2e%2e/package.json', '/app/', '/mnist/train-images-idx3-ubyte', '/dist/cli.js']) {
      expect((await get(path)).status, path).toBe(404)
    }
    expect((await get('/', { method: 'POST', body: 'x' })).status).toBe(405)
    for (const count of ['0', '-1', '1.5', 'x', '60001']) {
      const response = await get(`/mnist/train-labels?count=${count}`)
      expect(response.status, count).toBe(400)
      expect(await response.text()).toBe('count must be a whole number from 1 to 60000\n')
    }
  })

  it('serves the model --load names, and refuses one that does not take 28×28 digits or a port in use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-serve-'))
    try {
      const lenet = join(dir, 'lenet.safetensors')
      await createModel('lenet5', { seed: 1 }).save(lenet)
      const other = await serve(['--load', lenet])
      try {
        const model = await fetch(new URL('/model.safetensors', other.url))
        expect(model.headers.get('x-model-name')).toBe('lenet.safetensors')
        expect(Buffer.from(await model.arrayBuffer()).equals(readFileSync(lenet))).toBe(true)
      } finally {
        await other.stop()
      }
      const wide = join(dir, 'wide.safetensors')
      const net = network([{ c: conv2d({ outChannels: 4, kernel: 3 }) }, flatten(), { fc: linear({ outFeatures: 10 }) }])
      await createModel(net, { input: [1, 32, 32] }).save(wide)
      const refused = await runCli(['serve', '--port', '0', '--load', wide])
      expect([refused.code, refused.stderr]).toEqual([1, `error: ${wide}: the page draws one grey 28×28 image, but this model takes 1×32×32\n`])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const port = new URL(served.url).port
    const taken = await runCli(['serve', '--port', port])
    expect([taken.code, taken.stderr]).toEqual([1, `error: port ${port} is in use: choose another with --port (0 picks a free one)\n`])
  })

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('stops on %s with the status train gives (%i), having written nothing on stderr', async (signal, status) => {
    const other = await serve()
    expect(await other.stop(signal)).toBe(status)
    expect(other.stderr()).toBe('')
  })
})

describe('serve refuses bad flags and files, in one line', () => {
  it.each([
    [['--port', '70000'], 2, "error: --port must be an integer in [0, 65535] (got 70000)\n"],
    [['--port', 'x'], 2, 'error: --port must be an integer in [0, 65535] (got x)\n'],
    [['--load', '/nonexistent/model.safetensors'], 1, undefined],
    // The file is missing: these fail before reading it.
    [['--host', '', '--load', '/nonexistent/model.safetensors'], 2, 'error: --host must name an address to listen on (127.0.0.1 unless given)\n'],
    [['--host', ' ', '--load', '/nonexistent/model.safetensors'], 2, 'error: --host must name an address to listen on (127.0.0.1 unless given)\n'],
  ])('serve %j exits %i', async (args, code, message) => {
    const r = await runCli(['serve', ...args])
    expect(r.code).toBe(code)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')).toHaveLength(2)
    if (message) expect(r.stderr).toBe(message)
    else expect(r.stderr).toMatch(/^error: .*\/nonexistent\/model\.safetensors/)
  })

  it('refuses a model that does not take one grey 28×28 image, as the page draws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-serve-'))
    try {
      const rgb = join(dir, 'rgb.safetensors')
      const net = network([{ c: conv2d({ outChannels: 4, kernel: 3 }) }, flatten(), { fc: linear({ outFeatures: 10 }) }])
      await createModel(net, { input: [3, 28, 28] }).save(rgb)
      const r = await runCli(['serve', '--port', '0', '--load', rgb], { timeoutMs: 60_000 })
      expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `error: ${rgb}: the page draws one grey 28×28 image, but this model takes 3×28×28\n`])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('documents itself', async () => {
    const r = await runCli(['serve', '--help'])
    expect(r.code).toBe(0)
    for (const flag of ['--load <file>', '--port <port>', '--host <address>']) expect(r.stdout).toContain(flag)
  })
})
