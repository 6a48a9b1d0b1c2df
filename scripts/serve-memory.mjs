// The peak memory of `serve` under clients that ask for all of MNIST's
// training images (47 MB a response): `parallel` sockets at once, and
// `pipelined` requests sent together on one socket (HTTP pipelining). Each
// case starts its own server (`node dist/cli.js serve`, which needs
// `npm run build`, and the page that `npm run build:wasm` builds) on
// 127.0.0.1, lets the clients read nothing for `hold` seconds, then reads
// every body to its end, and reads the server's peak resident set (VmHWM,
// Linux) before stopping it. Prints one JSON object.
//
//   node scripts/serve-memory.mjs [parallel=100] [pipelined=40] [hold seconds=2]
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PATH = '/mnist/train-images?count=60000'
/** Bounds, so that a mistyped argument cannot open thousands of sockets or run for hours. */
const MAX_CLIENTS = 200
const CASE_SECONDS = 180

const [parallel, pipelined, hold] = [process.argv[2] ?? '100', process.argv[3] ?? '40', process.argv[4] ?? '2'].map(Number)
if (![parallel, pipelined].every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_CLIENTS) || !(hold >= 0 && hold <= 60)) {
  console.error(`usage: node scripts/serve-memory.mjs [parallel 1-${MAX_CLIENTS}] [pipelined 1-${MAX_CLIENTS}] [hold seconds 0-60]`)
  process.exit(2)
}

/** A figure of /proc/<pid>/status, in MiB. */
function procMiB(pid, field) {
  const kB = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
  return Math.round(kB / 1024)
}

/** Starts `serve` on a free loopback port; resolves with the child and its port once it listens. */
function startServe() {
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const port = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1]
      if (port) resolve({ child, port: Number(port) })
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)))
  })
}

/**
 * Sends `requests` GETs of PATH on one socket, reads nothing for `hold`
 * seconds, then reads until every response has come (or the server closed
 * the socket); resolves with the number of whole 200 responses received.
 */
function client(port, requests) {
  const socket = connect(port, '127.0.0.1')
  socket.pause()
  socket.write(`GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`.repeat(requests))
  return new Promise((resolve, reject) => {
    let answers = 0
    let head = Buffer.alloc(0)
    let bodyLeft = 0
    const finish = () => {
      socket.destroy()
      resolve(answers)
    }
    // Responses follow each other on the socket: a head, then Content-Length bytes of body.
    socket.on('data', (chunk) => {
      let data = chunk
      while (data.length > 0) {
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, data.length)
          bodyLeft -= n
          data = data.subarray(n)
          if (bodyLeft === 0 && ++answers === requests) return finish()
          continue
        }
        head = Buffer.concat([head, data])
        const end = head.indexOf('\r\n\r\n')
        if (end === -1) return
        const text = head.toString('latin1', 0, end)
        if (!text.startsWith('HTTP/1.1 200 ')) return finish()
        bodyLeft = Number(/^content-length: (\d+)$/im.exec(text)?.[1] ?? 0)
        data = head.subarray(end + 4)
        head = Buffer.alloc(0)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(answers))
    setTimeout(() => socket.resume(), hold * 1000)
  })
}

async function measure(name, sockets, requestsPerSocket) {
  const { child, port } = await startServe()
  const timer = setTimeout(() => child.kill('SIGKILL'), CASE_SECONDS * 1000)
  try {
    // Read MNIST once first, so that the figures are those of the requests, not of the first read.
    await client(port, 1)
    const idle = procMiB(child.pid, 'VmRSS')
    const started = performance.now()
    const received = await Promise.all(Array.from({ length: sockets }, () => client(port, requestsPerSocket)))
    const seconds = (performance.now() - started) / 1000
    const peak = procMiB(child.pid, 'VmHWM')
    const complete = received.every((answers) => answers === requestsPerSocket)
    return { case: name, sockets, requestsPerSocket, complete, idleRssMiB: idle, peakRssMiB: peak, seconds: Number(seconds.toFixed(2)) }
  } finally {
    clearTimeout(timer)
    child.kill('SIGINT')
  }
}

const results = [await measure('parallel', parallel, 1), await measure('pipelined', 1, pipelined)]
console.log(JSON.stringify({ cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, holdSeconds: hold, results }, null, 2))
