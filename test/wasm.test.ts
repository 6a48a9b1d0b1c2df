/**
 * The WebAssembly build (`npm run build:wasm`), the fallback where no
 * native binary fits: forced with NAPI_RS_FORCE_WASI=error (napi-rs's
 * loader then loads it or fails, never the native addon), the API trains,
 * evaluates, predicts, saves and loads on it, and its results agree with
 * the native build's. CI builds it; a checkout without it skips this suite
 * and says so.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { Model, createModel, loadMnist } from '../dist/index.js'
import { CLI, ROOT, presentOrSkip } from './helpers.js'

const run = promisify(execFile)
const WASM = join(ROOT, 'googlenet-native.wasm32-wasi.wasm')
const built = presentOrSkip(existsSync(WASM), 'test/wasm.test.ts', WASM, 'npm run build:wasm builds it')

/** Runs `script` (an ES module using the package) in a Node process on the WebAssembly build; returns what it printed as JSON. */
async function onWasm(script: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, NAPI_RS_FORCE_WASI: 'error', NODE_NO_WARNINGS: '1' },
    timeout: 300_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
}

describe.skipIf(!built)('the WebAssembly build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-wasm-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is the build that loads under NAPI_RS_FORCE_WASI=error, on every core', async () => {
    const r = await onWasm(`
      import { deviceInfo, benchmark } from './dist/index.js'
      import { availableParallelism } from 'node:os'
      const b = await benchmark({ model: 'lenet5', batches: 2, warmup: 1 })
      console.log(JSON.stringify({ binary: deviceInfo().binary, bench: b.binary, threads: b.threads, cores: availableParallelism() }))
    `)
    expect(r.binary).toBe('wasm')
    expect(r.bench).toBe('wasm')
    expect(r.threads).toBe(r.cores)
  })

  it('is forced by NAPI_RS_FORCE_WASI=1 too, which napi-rs\'s own loader ignores', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--version'], { cwd: ROOT, env: { ...process.env, NAPI_RS_FORCE_WASI: '1' } })
    expect(stdout).toMatch(/\(native build: wasm;/)
  })

  it('trains, evaluates and predicts as the native build does, and their files load in each other', async () => {
    const file = join(dir, 'wasm.safetensors')
    const r = await onWasm(`
      import { createModel, loadMnist } from './dist/index.js'
      const { train, test } = await loadMnist()
      const model = createModel('googlenet', { seed: 3 })
      const history = await model.fit(train.take(2000), { epochs: 1, validation: test.take(500) })
      await model.save(${JSON.stringify(file)})
      const evaluation = await model.evaluate(test.take(500))
      const pixels = new Uint8Array(32 * 784)
      for (let i = 0; i < 32; i++) pixels.set(test.image(i), i * 784)
      const { labels } = await model.predict(pixels)
      console.log(JSON.stringify({ loss: history.epochs[0].loss, accuracy: evaluation.accuracy, total: evaluation.total, labels: [...labels] }))
    `)
    expect(r.total).toBe(500)
    expect(r.accuracy).toBeGreaterThan(0.3)
    // The same run natively: the portable kernels and the native ones sum in other orders, so within float error.
    const { train, test } = await loadMnist()
    const native = createModel('googlenet', { seed: 3 })
    const history = await native.fit(train.take(2000), { epochs: 1, validation: test.take(500) })
    expect(r.loss as number).toBeCloseTo(history.epochs[0].loss, 3)
    const loaded = await Model.load(file)
    expect((await loaded.evaluate(test.take(500))).accuracy).toBeCloseTo(r.accuracy as number, 2)
    const pixels = new Uint8Array(32 * 784)
    for (let i = 0; i < 32; i++) pixels.set(test.image(i), i * 784)
    expect([...(await loaded.predict(pixels)).labels]).toEqual(r.labels)
  })

  it('runs the CLI: train, save, and test the saved file', async () => {
    // No NODE_NO_WARNINGS: the CLI keeps Node's WASI warning (main thread and workers) off stderr itself.
    const env = { ...process.env, NAPI_RS_FORCE_WASI: 'error' }
    const saved = join(dir, 'cli.safetensors')
    const trained = await run(process.execPath, [CLI, 'train', '--limit', '2000', '--test-limit', '200', '--epochs', '1', '--save', saved, '--json'], { env, timeout: 300_000 })
    expect(trained.stderr).toBe('')
    const events = trained.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string })
    expect(events.map((e) => e.type)).toContain('done')
    const tested = await run(process.execPath, [CLI, 'test', '--load', saved, '--test-limit', '200', '--json'], { env, timeout: 300_000 })
    expect(JSON.parse(tested.stdout).total).toBe(200)
    const version = await run(process.execPath, [CLI, '--version'], { env })
    expect(version.stdout).toMatch(/native build: wasm/)
  })
})
