/**
 * The server of `serve` (src/serve/server.ts) in this process, with a
 * stand-in page: the Host header it answers to, the counts it takes, and
 * what a client that does not read costs it (the body is streamed as the
 * socket drains, and at most HEAVY_LIMIT large bodies are sent at once).
 * Runs without the page's build; test/serve.test.ts runs the command.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { type AddressInfo, type Socket, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { networkWarning, pageUrl } from '../src/serve/address.js'
import { hostCheck } from '../src/serve/host-check.js'
import { HEAVY_LIMIT, type RunningServer, startServer } from '../src/serve/server.js'
import { MNIST_DIR } from './helpers.js'

const TRAIN_IMAGES = readFileSync(join(MNIST_DIR, 'train-images-idx3-ubyte'))
const FULL = '/mnist/train-images?count=60000'

/** A status, and the body as text. */
interface Answer {
  status: number
  body: string
}

describe('the server of serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-server-'))
  let server: RunningServer
  let port: number

  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>stand-in</title>\n')
    writeFileSync(join(dir, 'engine.wasm'), Buffer.alloc(4096, 7))
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      pageDir: dir,
      wasmFile: join(dir, 'engine.wasm'),
      model: { bytes: new Uint8Array([1, 2, 3]), name: 'stand-in.safetensors' },
      mnistDir: MNIST_DIR,
    })
    port = Number(new URL(server.url).port)
    // MNIST is read on first use: read it now, so that what the tests measure is what a request costs.
    await fetch(new URL('/mnist/train-images?count=1', server.url)).then((r) => r.arrayBuffer())
  })
  afterAll(async () => {
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** GET `path` with the Host header `host`. */
  const getWithHost = (host: string, path = '/model.safetensors'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let body = ''
        res.setEncoding('latin1')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })

  /** The status line of the answer to `text`, sent as is (HTTP/1.0 allows a request with no Host header; Node refuses one in HTTP/1.1). */
  const statusLine = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text))
      let answer = ''
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => (answer += chunk))
      socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''))
      socket.on('error', reject)
    })

  /** Opens a socket, sends `text`, and pauses it once the first bytes of the answer arrive: a client that stopped reading. */
  const stalledClient = async (text: string): Promise<Socket> => {
    const socket = connect(port, '127.0.0.1')
    socket.write(text)
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.once('data', () => {
        socket.pause()
        resolve()
      })
    })
    return socket
  }
  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`

  /** Settles with the answer, or with 'pending' if none came within `ms`. */
  const within = <T>(ms: number, promise: Promise<T>): Promise<T | 'pending'> =>
    Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))])

  it('answers to the address it listens on and to loopback names, on its port, and refuses other Host headers', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`]) {
      expect((await getWithHost(host)).status, host).toBe(200)
    }
    for (const host of [`evil.com:${port}`, 'evil.com', `127.0.0.1:${port + 1}`, 'localhost', '127.0.0.1', `localhost.evil.com:${port}`, `127.0.0.1.evil.com:${port}`]) {
      const answer = await getWithHost(host)
      expect(answer.status, host).toBe(403)
      expect(answer.body, host).toBe(`this server answers to 127.0.0.1:${port} (or localhost:${port}), not to ${host}\n`)
    }
    for (const path of ['/', '/mnist/train-labels?count=1', '/nope']) expect((await getWithHost(`evil.com:${port}`, path)).status, path).toBe(403)
    expect(await statusLine('GET /model.safetensors HTTP/1.0\r\n\r\n')).toBe('HTTP/1.1 403 Forbidden')
  })

  it('takes counts in plain decimal digits only', async () => {
    expect((await fetch(new URL('/mnist/train-labels?count=0016', server.url))).status).toBe(200)
    for (const count of ['0x10', '1e3', '+5', '%2012', '12%20', '', '0b1', '1.0', '0', '60001']) {
      const response = await fetch(new URL(`/mnist/train-labels?count=${count}`, server.url))
      expect([response.status, await response.text()], count).toEqual([400, 'count must be a whole number from 1 to 60000\n'])
    }
  })

  it('streams a large body as the client reads it: clients that stop reading cost the server little memory', async () => {
    const before = process.memoryUsage().arrayBuffers
    const stalled = await Promise.all([0, 1, 2].map(() => stalledClient(get(FULL))))
    // One socket, many requests sent at once (HTTP pipelining), none read.
    stalled.push(await stalledClient(get(FULL).repeat(8)))
    const grown = process.memoryUsage().arrayBuffers - before
    for (const socket of stalled) socket.destroy()
    // Copies of the body would be 47 MB each; the slices in flight are 64 kB each.
    expect(grown).toBeLessThan(16 * 2 ** 20)
  })

  it('sends the whole body, unchanged, to a client that reads it late', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: FULL }, (res) => {
        res.pause()
        const chunks: Buffer[] = []
        setTimeout(() => {
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => resolve(Buffer.concat(chunks)))
          res.resume()
        }, 300)
      })
      req.on('error', reject)
      req.end()
    })
    expect(body.equals(TRAIN_IMAGES)).toBe(true)
    const head = await fetch(new URL(FULL, server.url), { method: 'HEAD' })
    expect(head.headers.get('content-length')).toBe(String(TRAIN_IMAGES.length))
  })

  it(`sends at most ${HEAVY_LIMIT} large bodies at once, and queues the next ones; a socket's pipelined requests take one place`, async () => {
    const stalled = [await stalledClient(get(FULL).repeat(4))]
    for (let i = 1; i < HEAVY_LIMIT; i++) stalled.push(await stalledClient(get(FULL)))
    const queued = fetch(new URL('/mnist/test-labels?count=3', server.url)).then(async (r) => [r.status, [...new Uint8Array(await r.arrayBuffer())]])
    expect(await within(500, queued)).toBe('pending')
    // The page itself is small, and not queued.
    expect((await within(2000, fetch(new URL('/', server.url)).then((r) => r.status)))).toBe(200)
    stalled.pop()?.destroy()
    expect(await within(5000, queued)).toEqual([200, [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]])
    for (const socket of stalled) socket.destroy()
  })
})

describe('the addresses of serve, without listening on them', () => {
  const bound = (address: string, family = 'IPv4'): AddressInfo => ({ address, family, port: 8080 })

  it('shows a URL a browser can open: the host as given, or loopback for the wildcard', () => {
    expect(pageUrl('127.0.0.1', bound('127.0.0.1'))).toBe('http://127.0.0.1:8080/')
    expect(pageUrl('localhost', bound('::1', 'IPv6'))).toBe('http://localhost:8080/')
    expect(pageUrl('::1', bound('::1', 'IPv6'))).toBe('http://[::1]:8080/')
    expect(pageUrl('0', bound('0.0.0.0'))).toBe('http://127.0.0.1:8080/')
    expect(pageUrl('0.0.0.0', bound('0.0.0.0'))).toBe('http://127.0.0.1:8080/')
    expect(pageUrl('::', bound('::', 'IPv6'))).toBe('http://[::1]:8080/')
    expect(pageUrl('192.168.1.5', bound('192.168.1.5'))).toBe('http://192.168.1.5:8080/')
  })

  it('warns, in one line, when the page is open to the network', () => {
    for (const address of ['127.0.0.1', '127.0.1.1', '::1', '::ffff:127.0.0.1']) expect(networkWarning(address), address).toBeUndefined()
    expect(networkWarning('0.0.0.0')).toBe(
      'listening on every network interface (0.0.0.0): anyone who can reach this computer can open the page and train in it (--host 127.0.0.1 keeps it to this computer)',
    )
    expect(networkWarning('::')).toMatch(/^listening on every network interface \(::\): anyone/)
    expect(networkWarning('192.168.1.5')).toMatch(/^listening on 192\.168\.1\.5: anyone who can reach this computer/)
  })

  it('answers, on the wildcard, to the addresses of this computer and loopback, and on an address, to it and localhost', () => {
    const wildcard = hostCheck('0.0.0.0', bound('0.0.0.0'), () => ['127.0.0.1', '192.168.1.5', '[fe80::1]'])
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', '192.168.1.5:8080', '[fe80::1]:8080']) expect(wildcard(host), host).toBeUndefined()
    for (const host of ['192.168.1.6:8080', '192.168.1.5:8081', 'evil.com:8080', 'myhost.local:8080', undefined]) {
      expect(wildcard(host), host).toMatch(/^this server answers to the addresses of this computer on port 8080, not to /)
    }
    const lan = hostCheck('192.168.1.5', bound('192.168.1.5'), () => [])
    for (const host of ['192.168.1.5:8080', 'localhost:8080']) expect(lan(host), host).toBeUndefined()
    for (const host of ['127.0.0.1:8080', 'evil.com:8080']) expect(lan(host), host).toBe(`this server answers to 192.168.1.5:8080 (or localhost:8080), not to ${host}\n`)
    const named = hostCheck('Localhost', bound('127.0.0.1'), () => [])
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080']) expect(named(host), host).toBeUndefined()
    expect(hostCheck('localhost', { address: '127.0.0.1', family: 'IPv4', port: 80 })('localhost')).toBeUndefined()
  })
})
