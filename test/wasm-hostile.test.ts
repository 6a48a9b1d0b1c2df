/**
 * The WebAssembly build (NAPI_RS_FORCE_WASI=1) where WASI differs from the
 * native build, each case as the native build behaves: named pipes and
 * devices refused at once with the native build's words (a pipe used to
 * block the process for good), SIGINT and SIGTERM ending a run with the
 * native exit statuses, and a model too large for its memory (2 GiB) an
 * error the caller can catch instead of an abort that ends the process.
 * Relative paths are in predict.test.ts, which the vitest project `wasm`
 * runs on this build. CI builds it; a checkout without it skips this suite.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, presentOrSkip, runCli, validFiles } from './helpers.js'

const WASM = join(ROOT, 'googlenet-native.wasm32-wasi.wasm')
const built = presentOrSkip(existsSync(WASM), 'test/wasm-hostile.test.ts', WASM, 'npm run build:wasm builds it')
const ON_WASM = { NAPI_RS_FORCE_WASI: '1' }

describe.skipIf(!built)('the WebAssembly build meets what WASI does differently', () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-wasm-hostile-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const mkfifo = (path: string): string => {
    execFileSync('mkfifo', [path])
    return path
  }

  it('refuses named pipes and devices with the native words, without blocking', async () => {
    const pipe = mkfifo(join(dir, 'pipe.safetensors'))
    // One split's images a pipe, the rest real files: the splits load side by side, so with more pipes which is named first would vary.
    const pipes = join(dir, 'pipes')
    mkdirSync(pipes)
    for (const [name, bytes] of Object.entries(validFiles())) {
      if (name === 'train-images-idx3-ubyte') mkfifo(join(pipes, name))
      else writeFileSync(join(pipes, name), bytes)
    }
    const model = join(dir, 'lenet5.safetensors')
    const trained = await runCli(['train', '--model', 'lenet5', '--limit', '64', '--test-limit', '64', '--epochs', '1', '--save', model, '--quiet'], { env: ON_WASM })
    expect(trained.code).toBe(0)
    const isPipe = (path: string): string => `error: ${path}: is a named pipe, not a regular file\n`
    const cases: [string[], string][] = [
      [['train', '--resume', pipe], isPipe(pipe)],
      [['train', '--data', pipes, '--epochs', '1'], isPipe(join(pipes, 'train-images-idx3-ubyte'))],
      [['serve', '--load', pipe], isPipe(pipe)],
      [['export', '--load', pipe, '--onnx', join(dir, 'out.onnx')], isPipe(pipe)],
      [['test', '--load', pipe], isPipe(pipe)],
      [['predict', '--load', pipe, join(dir, 'digit.png')], isPipe(pipe)],
      [['predict', '--load', model, pipe], isPipe(pipe)],
      [['test', '--load', '/dev/zero'], 'error: /dev/zero: is a character device, not a regular file\n'],
      [['predict', '--load', model, '/dev/urandom'], 'error: /dev/urandom: is a character device, not a regular file\n'],
    ]
    for (const [args, stderr] of cases) {
      // A blocked open would hold the child until this limit.
      const r = await runCli(args, { env: ON_WASM, timeoutMs: 30_000 })
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 1, stderr })
    }
    // An output: refused before any work (a usage error), never replaced.
    const save = await runCli(['train', '--save', pipe], { env: ON_WASM, timeoutMs: 30_000 })
    expect(save).toMatchObject({ code: 2, stderr: `error: --save ${pipe}: is a named pipe, not a regular file: refusing to replace it\n` })
  })

  it('ends a run at SIGTERM (143) and SIGINT (130) within seconds, as the native build does', async () => {
    for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      let sentAt = 0
      const r = await runCli(['train', '--model', 'lenet5', '--limit', '20000', '--epochs', '3', '--log-every', '1'], {
        env: ON_WASM,
        timeoutMs: 120_000,
        onStdout: (text, child) => {
          // Once training runs: its first running-loss line.
          if (sentAt === 0 && /^\[1, +1\]/m.test(text)) {
            sentAt = Date.now()
            child.kill(signal)
          }
        },
      })
      expect(Date.now() - sentAt).toBeLessThan(3000)
      expect({ signal, code: r.code }).toEqual({ signal, code: status })
      expect(r.stderr).toMatch(/^stopped at epoch 1, batch \d+\n$/)
    }
  })

  describe('a model too large for its memory', () => {
    // 4096 channels at 28×28: the engine's buffers take 490 MiB a thread.
    // On two threads it trains (the native build peaks at 1.2 GB); on six
    // they pass the WebAssembly build's 2 GiB.
    const description = {
      format: 'googlenet-native/model',
      version: 1,
      name: 'wide',
      input: [1, 28, 28],
      layers: [
        { type: 'conv2d', name: 'conv1', outChannels: 4096, kernel: 1 },
        { type: 'relu' },
        { type: 'globalAvgPool' },
        { type: 'linear', name: 'fc', outFeatures: 10 },
      ],
    }
    const env = { ...ON_WASM, GOOGLENET_NATIVE_THREADS: '6' }
    const outOfMemory = /^out of memory: the engine's buffers for 6 threads \(8 images each\) take \d+ MiB, more than the WebAssembly build's memory, 2 GiB in all, has left; fewer threads \(GOOGLENET_NATIVE_THREADS\) or a smaller model need less$/

    const file = join(dir, 'wide.json')
    const train = ['train', '--model-file', file, '--batch-size', '32', '--limit', '32', '--test-limit', '32', '--epochs', '1', '--quiet']

    it('trains on two threads: the evaluation between epochs does not hold a second set of buffers beside training\'s', async () => {
      writeFileSync(file, JSON.stringify(description))
      const r = await runCli(train, { env: { ...ON_WASM, GOOGLENET_NATIVE_THREADS: '2' } })
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^done: 1 epoch/)
    })

    it('is an error of the CLI (exit 1), not an abort, where the buffers cannot fit', async () => {
      writeFileSync(file, JSON.stringify(description))
      const r = await runCli(train, { env })
      expect(r.code).toBe(1)
      expect(r.stderr.trim().replace(/^error: /, '')).toMatch(outOfMemory)
    })

    it('is an Error the API caller catches, and the process goes on', async () => {
      const script = `
        import { createModel, loadMnist } from './dist/index.js'
        const { train, test } = await loadMnist()
        let message = 'trained'
        try {
          await createModel(${JSON.stringify(description)}).fit(train.take(32), { epochs: 1, batchSize: 32 })
        } catch (error) {
          message = error.message
        }
        // The process and the addon still work.
        const { total } = await createModel('lenet5').evaluate(test.take(64))
        console.log(JSON.stringify({ message, total }))`
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
        encoding: 'utf8',
        timeout: 120_000,
      })
      const { message, total } = JSON.parse(out.trim().split('\n').at(-1) ?? '') as { message: string; total: number }
      expect(message).toMatch(outOfMemory)
      expect(total).toBe(64)
    })
  })
})
