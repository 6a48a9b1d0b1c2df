/**
 * ONNX export, checked by a real runtime: ONNX Runtime's WebAssembly build
 * (onnxruntime-web, which runs under Node with nothing downloaded) runs
 * every zoo model and a model of one's own, briefly trained, on 256 MNIST
 * test images, and its logits must equal ours within 1e-4 with the same
 * argmax on every image. Also the manual's browser example (docs/onnx.md), run as
 * written, and the `export` command.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import * as ort from 'onnxruntime-web'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, type ModelDescription, type ModelSource, Model, createModel, loadMnist, modelCatalog, onnxFormat } from '../dist/index.js'
import { launchBrowser } from './browsers.js'
import { ROOT, STACK_OR_PANIC, lines, runCli } from './helpers.js'

/** The bar: logits within this of ours, on this many test images. */
const TOLERANCE = 1e-4
const TEST_IMAGES = 256
/** Training images for the brief fit: a few SGD steps, so batch norm's running statistics move. */
const TRAIN_IMAGES = 512
/** Training images for the manual's example's model. */
const APP_TRAIN_IMAGES = 4096

/** A model of one's own: a residual block with batch norm and a projection shortcut, a concat with a padded average pool. */
const CUSTOM = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'onnx-custom-net.json'), 'utf8')) as ModelDescription

const dir = mkdtempSync(join(tmpdir(), 'googlenet-onnx-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let train: Dataset
/** The first TEST_IMAGES test images, one after another, as bytes. */
let images: Uint8Array
let height: number
let width: number

beforeAll(async () => {
  const mnist = await loadMnist()
  train = mnist.train.take(TRAIN_IMAGES)
  const test = mnist.test.take(TEST_IMAGES)
  ;({ height, width } = test)
  images = new Uint8Array(TEST_IMAGES * height * width)
  for (let i = 0; i < TEST_IMAGES; i++) images.set(test.image(i), i * height * width)
})


/** MNIST's pixel statistics, which every model made without data normalizes with. */
const [MNIST_MEAN, MNIST_STD] = [0.1307, 0.3081]
/** ONNX Runtime's logits for `count` grey images of `pixels`, fed as the file's contract says (MNIST's statistics, as the models here have). */
async function runtimeLogits(file: string, pixels: Uint8Array, count: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const [mean, std] = [MNIST_MEAN, MNIST_STD]
  const session = await ort.InferenceSession.create(file)
  try {
    expect([session.inputNames, session.outputNames]).toEqual([[onnxFormat.input], [onnxFormat.output]])
    const input = Float32Array.from(pixels, (p) => (p / 255 - mean) / std)
    const outputs = await session.run({ [onnxFormat.input]: new ort.Tensor('float32', input, [count, 1, height, width]) })
    const logits = outputs[onnxFormat.output] as ort.Tensor
    return { data: logits.data as Float32Array, dims: logits.dims }
  } finally {
    await session.release()
  }
}

/** The index of each row's largest score (the first, on ties). */
function argmax(scores: Float32Array, classes: number): number[] {
  return Array.from({ length: scores.length / classes }, (_, i) => {
    const row = scores.subarray(i * classes, (i + 1) * classes)
    return row.indexOf(Math.max(...row))
  })
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - (b[i] ?? Number.NaN))), 0)
}

/** The largest difference per model, printed once at the end. */
const diffs: Record<string, number> = {}
afterAll(() => {
  const table = Object.entries(diffs).map(([model, diff]) => `  ${model}: ${diff.toExponential(2)}`)
  if (table.length > 0) console.info(`ONNX Runtime's logits against ours, max |difference| on ${TEST_IMAGES} images:\n${table.join('\n')}`)
})

describe('ONNX Runtime runs the exported file with our logits', () => {
  const sources: Array<[string, string | ModelDescription]> = [
    ...modelCatalog().map((m): [string, string] => [m.name, m.name]),
    [`${CUSTOM.name} (a model of one's own)`, CUSTOM],
  ]

  it.each(sources)('%s', async (_, source) => {
    const model = createModel(source as ModelSource, { seed: 1 })
    await model.fit(train, { epochs: 1, batchSize: 64 })
    const file = join(dir, `${model.name}.onnx`)
    await model.exportOnnx(file)

    const ours = await model.logits(images)
    const classes = ours.length / TEST_IMAGES
    expect(model.normalization).toEqual({ mean: [MNIST_MEAN], std: [MNIST_STD] })
    const theirs = await runtimeLogits(file, images, TEST_IMAGES)
    expect(theirs.dims).toEqual([TEST_IMAGES, classes])
    const diff = maxAbsDiff(theirs.data, ours)
    diffs[model.name] = diff
    expect(diff).toBeLessThanOrEqual(TOLERANCE)
    expect(argmax(theirs.data, classes)).toEqual(argmax(ours, classes))

    // The batch is dynamic: one image alone gives its row of the batch's.
    const one = await runtimeLogits(file, images.subarray(0, height * width), 1)
    expect(one.dims).toEqual([1, classes])
    expect(maxAbsDiff(one.data, ours.subarray(0, classes))).toBeLessThanOrEqual(TOLERANCE)

    // Our logits are predict's scores before softmax.
    const { probabilities } = await model.predict(images)
    const softmax = ours.map((v, i) => {
      const row = ours.subarray(i - (i % classes), i - (i % classes) + classes)
      const max = Math.max(...row)
      return Math.exp(v - max) / row.reduce((sum, x) => sum + Math.exp(x - max), 0)
    })
    expect(maxAbsDiff(softmax, probabilities)).toBeLessThan(1e-6)
  })
})

describe("the manual's ONNX example", () => {
  /** An app folder as a user's: the manual's block as `classify.mjs`, beside the model and the digits to classify. */
  let app: string
  const count = 32
  let expected: number[]

  beforeAll(async () => {
    // Trained long enough to tell digits apart, so that agreeing with predict means something.
    const model = createModel('googlenet', { seed: 2 })
    await model.fit((await loadMnist()).train.take(APP_TRAIN_IMAGES), { epochs: 1, batchSize: 64 })
    app = mkdtempSync(join(dir, 'app-'))
    await model.exportOnnx(join(app, 'model.onnx'))
    writeFileSync(join(app, 'classify.mjs'), readmeExample())
    writeFileSync(join(app, 'digits.bin'), images.subarray(0, count * height * width))
    expected = [...(await model.predict(images.subarray(0, count * height * width))).labels]
    expect(new Set(expected).size).toBeGreaterThan(count / 8)
  })

  /** The JavaScript block that follows the marker comment of the manual's ONNX page (docs/onnx.md). */
  function readmeExample(): string {
    const readme = readFileSync(join(ROOT, 'docs', 'onnx.md'), 'utf8')
    const marker = readme.indexOf('<!-- onnx-example:')
    expect(marker).toBeGreaterThan(-1)
    const block = /```js\n([\s\S]*?)```/.exec(readme.slice(marker))
    if (!block?.[1]) throw new Error('no ```js block after the onnx-example marker')
    return block[1]
  }

  /** Classifies every digit of digits.bin with the example, one call each: the script both runs. */
  const driver = (size: number): string =>
    [
      "import { classify } from './classify.mjs'",
      `const size = ${size}`,
      'export async function classifyAll(pixels) {',
      '  const digits = []',
      '  for (let i = 0; i < pixels.length / size; i++) digits.push(await classify(pixels.subarray(i * size, (i + 1) * size)))',
      '  return digits',
      '}',
    ].join('\n')

  it('runs as written under Node and names the digits predict names', async () => {
    // onnxruntime-web installed in the app, as `npm install onnxruntime-web` would.
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir')
    writeFileSync(join(app, 'all.mjs'), driver(height * width))
    const main = "import { readFileSync } from 'node:fs'\nimport { classifyAll } from './all.mjs'\nconsole.log(JSON.stringify(await classifyAll(readFileSync('digits.bin'))))\n"
    writeFileSync(join(app, 'main.mjs'), main)
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['main.mjs'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
    expect(out.stderr).toBe('')
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual(expected)
  })

  it('runs as written in a web page (headless Chromium) and names the digits predict names', async () => {
    writeFileSync(join(app, 'all.mjs'), driver(height * width))
    // No bundler: an import map resolves 'onnxruntime-web' to the build a bundler picks for browsers.
    const page = [
      '<!doctype html><link rel="icon" href="data:,">',
      '<script type="importmap">{"imports":{"onnxruntime-web":"/onnxruntime-web/ort.bundle.min.mjs"}}</script>',
      '<script type="module">',
      "import { classifyAll } from './all.mjs'",
      'try {',
      "  window.digits = await classifyAll(new Uint8Array(await (await fetch('digits.bin')).arrayBuffer()))",
      '} catch (error) {',
      '  window.failure = String(error)',
      '}',
      '</script>',
    ].join('\n')
    const ortDist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist')
    const types: Record<string, string> = { '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' }
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname
      const file = path === '/' ? undefined : path.startsWith('/onnxruntime-web/') ? join(ortDist, basename(path)) : join(app, basename(path))
      if (file !== undefined && !existsSync(file)) {
        response.writeHead(404).end()
        return
      }
      response.writeHead(200, { 'content-type': types[file === undefined ? '.html' : extname(file)] ?? 'application/octet-stream' })
      response.end(file === undefined ? page : readFileSync(file))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const browser = await launchBrowser('chromium')
    try {
      const tab = await browser.newPage()
      const problems: string[] = []
      tab.on('pageerror', (error) => problems.push(`page error: ${String(error)}`))
      tab.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
      })
      tab.on('requestfailed', (request) => problems.push(`failed request: ${request.url()}`))
      const { port } = server.address() as AddressInfo
      await tab.goto(`http://127.0.0.1:${port}/`)
      // No time limit of its own: the page sets one of the two, and the test's timeout covers a hang.
      await tab.waitForFunction("'digits' in window || 'failure' in window", { timeout: 0 })
      expect(await tab.evaluate('window.failure')).toBeUndefined()
      expect(problems).toEqual([])
      expect(await tab.evaluate('window.digits')).toEqual(expected)
    } finally {
      await browser.close()
      server.close()
    }
  })
})

describe('export command', () => {
  let saved: string
  beforeAll(async () => {
    const model = createModel('lenet5', { seed: 3 })
    await model.fit(train, { epochs: 1, batchSize: 64 })
    saved = join(dir, 'lenet5.safetensors')
    await model.save(saved)
  })

  it('writes an ONNX file of a saved model that ONNX Runtime runs with its logits', async () => {
    const file = join(dir, 'cli.onnx')
    const r = await runCli(['export', '--load', saved, '--onnx', file])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const f = onnxFormat
    expect(lines(r.stdout)).toEqual([
      `wrote ${file}: lenet5 as ONNX (opset ${f.opset}), input ${f.input} [${f.batchDim}, 1, ${height}, ${width}] float32 as (p / 255 - ${MNIST_MEAN}) / ${MNIST_STD}, output ${f.output} [${f.batchDim}, 10]`,
    ])
    const ours = await (await Model.load(saved)).logits(images)
    const theirs = await runtimeLogits(file, images, TEST_IMAGES)
    expect(maxAbsDiff(theirs.data, ours)).toBeLessThanOrEqual(TOLERANCE)
  })

  it('refuses missing flags and an output it cannot write with status 2, a bad model file with 1, in one line each', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['export', '--onnx', join(dir, 'x.onnx')], 2, /^error: export needs --load <file>/],
      [['export', '--load', saved], 2, /^error: export needs --onnx <file>/],
      [['export', '--load', saved, '--onnx', join(dir, 'no-folder', 'x.onnx')], 2, /^error: --onnx .*no-folder.* does not exist/],
      [['export', '--load', saved, '--onnx', dir], 2, /^error: --onnx .*directory/],
      [['export', '--load', join(dir, 'missing.safetensors'), '--onnx', join(dir, 'y.onnx')], 1, /^error: .*missing\.safetensors/],
      [['export', '--load', join(ROOT, 'package.json'), '--onnx', join(dir, 'y.onnx')], 1, /^error: .*package\.json: /],
    ]
    for (const [args, code, message] of cases) {
      const r = await runCli(args)
      expect([r.code, r.stdout], args.join(' ')).toEqual([code, ''])
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    }
    // Nothing was written where the export failed.
    expect(() => readFileSync(join(dir, 'y.onnx'))).toThrow()
  })

  it('has --help, and the program lists it', async () => {
    const help = await runCli(['export', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: googlenet-native export \[options\]/)
    expect(help.stdout).toContain('--load <file>')
    expect(help.stdout).toContain('--onnx <file>')
    expect(help.stdout).toContain(`(opset ${onnxFormat.opset})`)
    expect(help.stdout).toContain('(p / 255 - mean[c]) / std[c]')
    const program = await runCli(['--help'])
    expect(program.stdout).toMatch(/^\s+export \[options\]\s+write a saved model as an ONNX file/m)
  })
})
