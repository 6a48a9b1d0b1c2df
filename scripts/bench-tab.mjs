// Training speed in a browser tab, side by side: in one headless Chromium
// (Debian's, driven by puppeteer-core), one tab trains the tutorial's
// GoogLeNet for one epoch with ours (the page of `serve`: the WebAssembly
// build of the Rust core), then is navigated to scripts/bench-tab/'s page
// to train the same network with TensorFlow.js on each of its backends;
// the native build trains it too, through the CLI. Same recipe, batches and
// images everywhere. Not a test: the machine's load decides the figures.
// Run with --help for the options; docs/browser.md gives figures.
//
//   npm run build && npm run build:wasm      # the addon, dist/, the WebAssembly build and the page
//   npm run bench:tab                        # or: node scripts/bench-tab.mjs [images] [options]
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import puppeteer from 'puppeteer-core'
import { startTfjsServer } from './bench-tab/server.mjs'

const HELP = `Usage: node scripts/bench-tab.mjs [images] [options]   (npm run bench:tab -- [images] [options])

Trains googlenet for one epoch on the first [images] MNIST training images
(default 2048) with Adam (lr 0.001), batches of 32 and softmax cross-entropy:
natively (the CLI; AVX2, and AVX-512 where the CPU has it), in a headless
Chromium tab with ours (serve's page), and in the same tab with
TensorFlow.js 4.22 on each backend asked for. Then it tests each on the
first --test-images test images. Prints a table on stderr and one JSON
object on stdout.

Two speeds per run: over every batch trained, and steady (the batches
after the first --warmup-batches, left out of every run alike: TF.js
compiles its shaders and kernels there). An images count that is a
multiple of 32 keeps a smaller last batch out (webgl compiles shaders anew
for its shape). TF.js trains a hundred times slower than ours here, so
each of its runs stops after --tfjs-seconds of steady batches: it is timed
on fewer of the same images, in the same order, and left untested.

Options:
  --test-images <n>     test images evaluated after the epoch (default 1000)
  --warmup-batches <n>  batches left out of the steady speed, at least 1 (default 3)
  --tfjs-seconds <s>    steady seconds after which a TF.js run stops; 0 for
                        whole epochs (default 60)
  --backends <list>     TF.js backends, comma-separated (default cpu,webgl,wasm)
  --timeout <minutes>   longest a browser run may take (default 30)
  -h, --help            this text

Needs npm run build and npm run build:wasm (the page) first, and
Debian's chromium on PATH.`

const BATCH_SIZE = 32
const LR = 0.001
const SEED = 0
const TFJS_BACKENDS = ['cpu', 'webgl', 'wasm']

/** The options, checked; exits with a message for bad ones. */
function options() {
  const usage = (message) => {
    console.error(`error: ${message}\n\n${HELP}`)
    process.exit(2)
  }
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'test-images': { type: 'string', default: '1000' },
        'warmup-batches': { type: 'string', default: '3' },
        'tfjs-seconds': { type: 'string', default: '60' },
        backends: { type: 'string', default: TFJS_BACKENDS.join(',') },
        timeout: { type: 'string', default: '30' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    usage(error.message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  if (positionals.length > 1) usage(`one images count, not ${positionals.join(' ')}`)
  const whole = (text, name, min, max) => {
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) usage(`${name} must be a whole number from ${min} to ${max}, not ${text}`)
    return Number(text)
  }
  const images = whole(positionals[0] ?? '2048', 'images', 2 * BATCH_SIZE, 60000)
  const warmupBatches = whole(values['warmup-batches'], '--warmup-batches', 1, 1000)
  if (warmupBatches >= Math.ceil(images / BATCH_SIZE)) usage(`--warmup-batches ${warmupBatches} leaves no batch of ${images} images to time`)
  const backends = values.backends.split(',').filter(Boolean)
  const unknown = backends.filter((b) => !TFJS_BACKENDS.includes(b))
  if (unknown.length > 0) usage(`unknown TF.js backend ${unknown.join(', ')} (known: ${TFJS_BACKENDS.join(', ')})`)
  return {
    images,
    testImages: whole(values['test-images'], '--test-images', 1, 10000),
    warmupBatches,
    maxSeconds: whole(values['tfjs-seconds'], '--tfjs-seconds', 0, 24 * 3600),
    backends,
    timeoutMs: whole(values.timeout, '--timeout', 1, 24 * 60) * 60_000,
  }
}

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'dist', 'cli.js')
const run = promisify(execFile)

/** The JSON lines a command prints (the CLI's --json output). */
async function jsonLines(args, env = {}) {
  const { stdout } = await run(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line))
}

/** The CPU's name and whether our AVX-512 kernels can run on it (AVX-512F and VL, as GOOGLENET_NATIVE_CPU=avx512 needs). */
function cpu() {
  const info = readFileSync('/proc/cpuinfo', 'utf8')
  const flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1].trim().split(/\s+/))
  return { name: /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? 'unknown', avx512: flags.has('avx512f') && flags.has('avx512vl') }
}

/**
 * One native epoch at `isa`: the CLI's own run for the epoch time and the
 * accuracy, and, because the CLI prints no per-batch times, a second run
 * through the package's API (the same engine and settings) whose batch
 * events give the steady speed on the engine's clock.
 */
async function native(isa, { images, testImages, warmupBatches }) {
  const env = { GOOGLENET_NATIVE_CPU: isa }
  const args = ['train', '--limit', images, '--test-limit', testImages, '--epochs', 1, '--optimizer', 'adam', '--lr', LR, '--batch-size', BATCH_SIZE, '--json'].map(String)
  const command = `GOOGLENET_NATIVE_CPU=${isa} node dist/cli.js ${args.join(' ')}`
  try {
    const lines = await jsonLines([cli, ...args], env)
    const epoch = lines.find((line) => line.type === 'epoch')
    if (!epoch) throw new Error(`no epoch line in the CLI's output: ${JSON.stringify(lines)}`)
    const api = `
      import { train } from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)}
      const seconds = []
      await train({ limit: ${images}, testLimit: ${testImages}, epochs: 1, optimizer: 'adam', lr: ${LR}, batchSize: ${BATCH_SIZE}, seed: ${SEED}, device: 'cpu',
        onProgress: (e) => { if (e.type === 'batch') seconds[e.batch] = e.imagesSeen / e.imagesPerSec } })
      console.log(JSON.stringify(seconds))`
    const [seconds] = await jsonLines(['--input-type=module', '-e', api], env)
    return {
      engine: 'native',
      backend: isa,
      ok: true,
      command,
      threads: availableParallelism(),
      batches: seconds.length - 1,
      batchesPerEpoch: seconds.length - 1,
      seconds: epoch.seconds,
      imagesPerSec: epoch.trainImagesPerSec,
      steadyImagesPerSec: (images - warmupBatches * BATCH_SIZE) / (seconds.at(-1) - seconds[warmupBatches]),
      meanLoss: epoch.loss,
      testAccuracy: epoch.testAccuracy,
    }
  } catch (error) {
    return { engine: 'native', backend: isa, ok: false, command, stage: 'train', error: (error.stderr || error.message).trim() }
  }
}

/** Starts `serve` on a free port; resolves to its URL and the process. */
async function startServe() {
  const server = spawn(process.execPath, [cli, 'serve', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    server.stdout.on('data', (chunk) => {
      out += chunk
      const found = /http:\/\/\S+\//.exec(out)?.[0]
      if (found) resolve(found)
    })
    server.once('exit', (code) => reject(new Error(`serve exited with ${code} before it listened`)))
  })
  return { url, server }
}

/**
 * In serve's page: one epoch of googlenet with the settings given. The
 * page shows "Epoch 1, batch k of n: …" as each batch's message arrives
 * from the engine worker; the page's time of each is that batch's end,
 * which gives the steady speed. The epoch time is the engine's own.
 */
async function trainInServePage({ images, testImages, batchSize, lr, warmupBatches }) {
  for (const [id, value] of Object.entries({ model: 'googlenet', 'train-count': images, 'test-count': testImages, epochs: 1, 'batch-size': batchSize, optimizer: 'adam', lr })) {
    document.getElementById(id).value = String(value)
  }
  const status = document.getElementById('train-status')
  const ends = new Map()
  let batches = 0
  const ended = new Promise((resolve) => {
    new MutationObserver(() => {
      const line = /^Epoch 1, batch (\d+) of (\d+):/.exec(status.textContent)
      if (line) {
        ends.set(Number(line[1]), performance.now())
        batches = Number(line[2])
      }
      if (['done', 'stopped', 'failed'].includes(status.dataset.state)) resolve(status.dataset.state)
    }).observe(status, { childList: true, characterData: true, subtree: true, attributes: true })
  })
  document.getElementById('train').click()
  const state = await ended
  if (state !== 'done') return { ok: false, stage: 'train', error: `training ended ${state}: ${status.textContent}` }
  if (!ends.has(warmupBatches) || !ends.has(batches)) {
    return { ok: false, stage: 'train', error: `the page showed no "Epoch 1, batch ${warmupBatches} of …" or "… batch ${batches} of …" line (has its status text changed? scripts/bench-tab.mjs reads it)` }
  }
  const epochSeconds = Number(status.dataset.epochSeconds)
  return {
    ok: true,
    threads: Number(/(\d+) threads?/.exec(document.getElementById('engine').textContent)?.[1]),
    batches,
    batchesPerEpoch: batches,
    seconds: epochSeconds,
    imagesPerSec: images / epochSeconds,
    steadyImagesPerSec: (images - warmupBatches * batchSize) / ((ends.get(batches) - ends.get(warmupBatches)) / 1000),
    testAccuracy: Number(status.dataset.accuracy),
  }
}

/**
 * Ours in serve's page (`serve` started for it), or why it did not run. The
 * .wasm files the page fetched say which build of the engine it chose
 * (simd128, or relaxed SIMD where the browser validates it).
 */
async function inServePage(page, settings) {
  let serve
  try {
    serve = await startServe()
  } catch (error) {
    return { ok: false, stage: 'load', error: error.message }
  }
  const { url, server } = serve
  const modules = []
  const onResponse = (response) => {
    if (response.url().startsWith(url) && response.url().endsWith('.wasm')) modules.push(response.url().slice(url.length))
  }
  // A page that fails to start (a missing .wasm, say) never shows its model: stop at its first error, not at the timeout.
  let fail
  const failed = new Promise((_, reject) => (fail = reject))
  const onError = (error) => fail(new Error(`serve's page failed: ${error.message}`))
  page.on('pageerror', onError)
  page.on('response', onResponse)
  let stage = 'load'
  try {
    await page.goto(url, { waitUntil: 'load' })
    await Promise.race([page.waitForFunction('document.body.dataset.model !== undefined', { timeout: 120_000 }), failed])
    stage = 'train'
    return { module: modules.join(', ') || 'unknown', ...(await Promise.race([page.evaluate(trainInServePage, settings), failed])) }
  } catch (error) {
    return { ok: false, module: modules.join(', ') || 'unknown', stage, error: error.message }
  } finally {
    server.kill('SIGINT')
    page.off('response', onResponse)
    page.off('pageerror', onError)
    failed.catch(() => {})
  }
}

/** The browser runs: ours in serve's page, then TF.js on each backend, in one tab navigated from page to page. */
async function inBrowser(settings, chromium, tfjsServer) {
  // Headless Chromium has no GPU here: WebGL runs on SwiftShader, which it
  // only offers to pages when told to. The flag changes nothing for wasm.
  const flags = ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-swiftshader']
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: flags, protocolTimeout: settings.timeoutMs })
  try {
    const page = await browser.newPage()
    page.on('console', (message) => {
      if (page.url().startsWith(tfjsServer.url)) console.error(`  [tab] ${message.text()}`)
    })
    page.on('pageerror', (error) => console.error(`  [tab] page error: ${error.message}`))
    console.error('ours in the tab…')
    const tab = { engine: 'tab', backend: 'ours', ...(await inServePage(page, settings)) }
    const tfjs = []
    for (const backend of settings.backends) {
      console.error(`TF.js ${backend} in the tab…`)
      // A fresh document per backend: no backend's memory or compiled programs carry over to the next.
      await page.goto(`${tfjsServer.url}?backend=${backend}`, { waitUntil: 'load' })
      await page.waitForFunction('typeof globalThis.benchTfjs === "function"', { timeout: 60_000 })
      tfjs.push({ engine: 'tfjs', backend, ...(await page.evaluate((s) => globalThis.benchTfjs(s), { ...settings, backend, seed: SEED })) })
    }
    return { browser: await browser.version(), flags, tab, tfjs }
  } finally {
    await browser.close()
  }
}

const percent = (p) => (typeof p === 'number' && !Number.isNaN(p) ? `${(100 * p).toFixed(1)} %` : '—')
// TF.js trains a few images a second here: a decimal keeps its figures apart.
const rate = (r) => (r < 100 ? r.toFixed(1) : Math.round(r).toLocaleString('en-US'))
const count = (n) => n.toLocaleString('en-US')

/** The readable table of the JSON result. */
function table(result) {
  const { settings, runs, ratios, params } = result
  const label = (r) => (r.engine === 'native' ? `native ${r.backend}` : r.engine === 'tab' ? 'ours in the tab' : `TF.js ${r.backend}`)
  const detail = (r) => [r.module, r.binary, r.renderer].filter(Boolean).join(', ')
  const rows = runs.map((r) =>
    r.ok
      ? [
          label(r),
          String(r.threads ?? ''),
          r.batches === r.batchesPerEpoch ? String(r.batches) : `${r.batches} of ${r.batchesPerEpoch}`,
          r.seconds.toFixed(2),
          rate(r.imagesPerSec),
          rate(r.steadyImagesPerSec),
          percent(r.testAccuracy),
          detail(r),
        ]
      : [label(r), String(r.threads ?? ''), '', '', '', '', '', `FAILED (${r.stage}): ${r.error.split('\n')[0]}${detail(r) ? ` [${detail(r)}]` : ''}`],
  )
  const head = ['run', 'threads', 'batches', 'seconds', 'img/s all', 'img/s steady', 'test acc', '']
  const widths = head.map((_, c) => Math.max(...[head, ...rows].map((row) => row[c].length)))
  const line = (row) => row.map((cell, c) => (c === 0 || c === row.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()
  const ratio = (r) => (r === null ? 'n/a' : `${r.toFixed(2)}×`)
  return [
    `googlenet, one epoch on ${count(settings.images)} MNIST training images (Adam lr ${LR}, batches of ${BATCH_SIZE}), tested on ${count(settings.testImages)}`,
    `img/s all: every batch trained; steady: the first ${settings.warmupBatches} batches left out of every run${settings.maxSeconds > 0 ? `; TF.js stops after ${settings.maxSeconds} s of steady batches (untested then)` : ''}`,
    `${result.machine.cpu}, ${result.machine.cores} cores, load ${result.machine.loadBefore.toFixed(2)} before, ${result.machine.loadAfter.toFixed(2)} after; ${result.browser}`,
    `parameters: ours ${count(params.ours)}, TF.js twin ${params.tfjs === null ? 'n/a' : count(params.tfjs)}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    "native: the CLI's epoch; its steady speed from a second run through the API (the CLI prints no batch times)",
    `steady ratios: tab / native avx2 ${ratio(ratios.tabOverNativeAvx2)}, tab / best TF.js${ratios.bestTfjs ? ` (${ratios.bestTfjs})` : ''} ${ratio(ratios.tabOverBestTfjs)}`,
  ].join('\n')
}

/** Stops with `message` where something the benchmark needs is missing. */
function fail(message) {
  console.error(`error: ${message}`)
  process.exit(1)
}

const settings = { ...options(), batchSize: BATCH_SIZE, lr: LR }
if (!existsSync(cli)) fail(`no ${cli}: run npm run build`)
if (!existsSync(join(root, 'dist-web', 'index.html'))) fail('no dist-web/index.html (the page of serve): run npm run build:wasm, or wait for one that is running')
const chromium = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find((file) => existsSync(file))
if (!chromium) fail("chromium is not on PATH (Debian's chromium package)")
const tfjsServer = await startTfjsServer().catch((error) => fail(error.message))
const machine = { cpu: cpu().name, cores: availableParallelism(), loadBefore: loadavg()[0] }
let runs, browserRuns, summary
try {
  ;[summary] = await jsonLines([cli, 'summary', '--model', 'googlenet', '--json'])
  runs = []
  for (const isa of ['avx2', ...(cpu().avx512 ? ['avx512'] : [])]) {
    console.error(`native ${isa}…`)
    runs.push(await native(isa, settings))
  }
  browserRuns = await inBrowser(settings, chromium, tfjsServer)
} catch (error) {
  fail(error.message)
} finally {
  await tfjsServer.close()
}
runs.push(browserRuns.tab, ...browserRuns.tfjs)
machine.loadAfter = loadavg()[0]

const steady = (r) => (r?.ok ? r.steadyImagesPerSec : null)
const bestTfjs = browserRuns.tfjs.filter((r) => r.ok).sort((a, b) => b.steadyImagesPerSec - a.steadyImagesPerSec)[0]
const tfjsParams = browserRuns.tfjs.find((r) => r.params !== undefined)?.params ?? null
const result = {
  settings: { model: 'googlenet', ...settings, optimizer: 'adam', loss: 'softmax cross-entropy', seed: SEED },
  timing:
    `imagesPerSec: every batch trained, from the start of the first; steadyImagesPerSec: from the end of batch ${settings.warmupBatches} on, for every run alike (TF.js compiles its shaders and kernels in the first batches)` +
    (settings.maxSeconds > 0 ? `; each TF.js run stops after ${settings.maxSeconds} s of steady batches (batches < batchesPerEpoch, testAccuracy null)` : ''),
  machine,
  browser: browserRuns.browser,
  flags: browserRuns.flags,
  params: { ours: summary.params, tfjs: tfjsParams },
  runs,
  ratios: {
    tabOverNativeAvx2: steady(runs[0]) && steady(browserRuns.tab) ? steady(browserRuns.tab) / steady(runs[0]) : null,
    bestTfjs: bestTfjs?.backend ?? null,
    tabOverBestTfjs: bestTfjs && steady(browserRuns.tab) ? steady(browserRuns.tab) / bestTfjs.steadyImagesPerSec : null,
  },
}
console.error(`\n${table(result)}\n`)
if (tfjsParams !== null && tfjsParams !== summary.params) console.error(`warning: the TF.js twin has ${tfjsParams} parameters, ours ${summary.params}: the twin is not the same network`)
console.log(JSON.stringify(result))
