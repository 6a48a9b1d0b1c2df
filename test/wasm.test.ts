/**
 * The WebAssembly build (`npm run build:wasm`), the fallback where no
 * native binary fits: forced with NAPI_RS_FORCE_WASI=error (napi-rs's
 * loader then loads it or fails, never the native addon), the API trains,
 * evaluates, predicts, saves and loads on it, and its results agree with
 * the native build's. CI builds it; a checkout without it skips this suite
 * and says so. It is built twice (scripts/build-wasm.sh): with simd128,
 * and with relaxed SIMD too, which the loader takes where V8 runs it; the
 * API tests run on each module this Node can run (the relaxed one on Node
 * 20 with V8's --experimental-wasm-relaxed-simd), each forced by
 * GOOGLENET_NATIVE_WASM, and name it.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { Model, createModel, loadMnist } from '../dist/index.js'
import { RELAXED_SIMD_PROBE, RELAXED_SIMD_WASM, SIMD128_WASM } from '../src/web/wasm-files.js'
import { CLI, ROOT, presentOrSkip } from './helpers.js'

const run = promisify(execFile)
const WASM = join(ROOT, SIMD128_WASM)
const RELAXED = join(ROOT, RELAXED_SIMD_WASM)
const built = presentOrSkip(existsSync(WASM) && existsSync(RELAXED), 'test/wasm.test.ts', `${WASM} and ${RELAXED}`, 'npm run build:wasm builds both')

/** The Node flags under which this Node validates relaxed SIMD (none from Node 22), or undefined where none do. */
function relaxedSimdFlags(): string[] | undefined {
  const probe = `process.stdout.write(String(WebAssembly.validate(new Uint8Array(${JSON.stringify([...RELAXED_SIMD_PROBE])}))))`
  return [[], ['--experimental-wasm-relaxed-simd']].find((flags) => spawnSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' }).stdout === 'true')
}
const relaxedFlags = relaxedSimdFlags()
if (built && relaxedFlags === undefined) console.warn('test/wasm.test.ts: this Node runs no relaxed SIMD, so only the simd128 module is tested')

/** A module and how to make Node load it. */
interface WasmModule {
  name: 'simd128' | 'relaxed-simd'
  file: string
  flags: string[]
}
const MODULES: WasmModule[] = [
  { name: 'simd128', file: SIMD128_WASM, flags: [] },
  ...(relaxedFlags === undefined ? [] : [{ name: 'relaxed-simd' as const, file: RELAXED_SIMD_WASM, flags: relaxedFlags }]),
]

/**
 * Runs `script` (an ES module using the package) in a Node process on the
 * WebAssembly build, with Node's `flags` and `env` added; returns what it
 * printed last as JSON, with `module`: the .wasm the loader read.
 */
async function onWasm(script: string, flags: string[] = [], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const watch = `
    import fs from 'node:fs'
    const read = fs.readFileSync
    globalThis.wasmRead = []
    fs.readFileSync = (file, ...rest) => {
      // A checkout's build has a twin with names for profilers beside each module, which the loader prefers.
      if (String(file).endsWith('.wasm')) globalThis.wasmRead.push(String(file).split('/').at(-1).replace('.debug.wasm', '.wasm'))
      return read(file, ...rest)
    }
  `
  const { stdout } = await run(process.execPath, [...flags, '--input-type=module', '-e', watch + script], {
    cwd: ROOT,
    env: { ...process.env, NAPI_RS_FORCE_WASI: 'error', NODE_NO_WARNINGS: '1', ...env },
    timeout: 300_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
}

/** Prints the .wasm files the loader read, as JSON. */
const PRINT_MODULE = `console.log(JSON.stringify({ read: globalThis.wasmRead }))`

describe.skipIf(!built)('the WebAssembly build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-wasm-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loads the relaxed-SIMD module where V8 runs relaxed SIMD, else the simd128 one', async () => {
    // The package loads the addon on first use.
    const loads = `const { deviceInfo } = await import('./dist/index.js'); deviceInfo(); ${PRINT_MODULE}`
    const plain = await onWasm(loads, [], { GOOGLENET_NATIVE_WASM: '' })
    expect(plain.read).toEqual([relaxedFlags?.length === 0 ? RELAXED_SIMD_WASM : SIMD128_WASM])
    if (relaxedFlags !== undefined) expect((await onWasm(loads, relaxedFlags, { GOOGLENET_NATIVE_WASM: '' })).read).toEqual([RELAXED_SIMD_WASM])
    if (relaxedFlags?.length !== 0) {
      // Asked for where V8 has none: an error that says how, not the simd128 module in its place.
      const refused = run(process.execPath, ['--input-type=module', '-e', loads], {
        cwd: ROOT,
        env: { ...process.env, NAPI_RS_FORCE_WASI: 'error', GOOGLENET_NATIVE_WASM: 'relaxed-simd' },
      })
      await expect(refused).rejects.toThrow(/GOOGLENET_NATIVE_WASM=relaxed-simd, but this engine has no relaxed SIMD/)
    }
    const wrong = run(process.execPath, ['--input-type=module', '-e', loads], {
      cwd: ROOT,
      env: { ...process.env, NAPI_RS_FORCE_WASI: 'error', GOOGLENET_NATIVE_WASM: 'sse2' },
    })
    await expect(wrong).rejects.toThrow(/GOOGLENET_NATIVE_WASM must be simd128 or relaxed-simd, not "sse2"/)
  })

  // The native run both modules are compared with, made once.
  let nativeLoss: Promise<number> | undefined

  it('is forced by NAPI_RS_FORCE_WASI=1 too, which napi-rs\'s own loader ignores', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--version'], { cwd: ROOT, env: { ...process.env, NAPI_RS_FORCE_WASI: '1' } })
    expect(stdout).toMatch(/\(native build: wasm;/)
  })

  describe.each(MODULES)('its $name module', ({ name, file: wasmFile, flags }) => {
    const env = { GOOGLENET_NATIVE_WASM: name }

    it('is the build that loads under NAPI_RS_FORCE_WASI=error, on every core', async () => {
      const r = await onWasm(
        `
        import { deviceInfo, benchmark } from './dist/index.js'
        import { availableParallelism } from 'node:os'
        const b = await benchmark({ model: 'lenet5', batches: 2, warmup: 1 })
        console.log(JSON.stringify({ binary: deviceInfo().binary, bench: b.binary, threads: b.threads, cores: availableParallelism(), read: globalThis.wasmRead }))
      `,
        flags,
        env,
      )
      expect(r.read).toEqual([wasmFile])
      expect(r.binary).toBe('wasm')
      expect(r.bench).toBe('wasm')
      expect(r.threads).toBe(r.cores)
    })

    it('trains, evaluates and predicts as the native build does, and their files load in each other', async () => {
      const file = join(dir, `${name}.safetensors`)
      const r = await onWasm(
        `
        import { createModel, loadMnist } from './dist/index.js'
        const { train, test } = await loadMnist()
        const model = createModel('googlenet', { seed: 3 })
        const history = await model.fit(train.take(2000), { epochs: 1, validation: test.take(500) })
        await model.save(${JSON.stringify(file)})
        const evaluation = await model.evaluate(test.take(500))
        const pixels = new Uint8Array(32 * 784)
        for (let i = 0; i < 32; i++) pixels.set(test.image(i), i * 784)
        const { labels } = await model.predict(pixels)
        console.log(JSON.stringify({ loss: history.epochs[0].loss, accuracy: evaluation.accuracy, total: evaluation.total, labels: [...labels], read: globalThis.wasmRead }))
      `,
        flags,
        env,
      )
      expect(r.read).toEqual([wasmFile])
      expect(r.total).toBe(500)
      expect(r.accuracy).toBeGreaterThan(0.3)
      // The same run natively: the WebAssembly kernels and the native ones sum in other orders (and relaxed
      // SIMD's multiply-add may or may not round once), so within float error.
      const { train, test } = await loadMnist()
      nativeLoss ??= createModel('googlenet', { seed: 3 })
        .fit(train.take(2000), { epochs: 1, validation: test.take(500) })
        .then((history) => history.epochs[0]!.loss)
      expect(r.loss as number).toBeCloseTo(await nativeLoss, 3)
      const loaded = await Model.load(file)
      expect((await loaded.evaluate(test.take(500))).accuracy).toBeCloseTo(r.accuracy as number, 2)
      const pixels = new Uint8Array(32 * 784)
      for (let i = 0; i < 32; i++) pixels.set(test.image(i), i * 784)
      expect([...(await loaded.predict(pixels)).labels]).toEqual(r.labels)
    })
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
