import { beforeAll, describe, expect, it } from 'vitest'
import {
  type BatchProgressEvent,
  type Dataset,
  type EpochProgressEvent,
  type FitOptions,
  type ProgressEvent,
  type TrainResult,
  type WindowProgressEvent,
  createModel,
  loadMnist,
  train,
} from '../dist/index.js'

/** Batch losses of a fit, in order. */
async function batchLosses(data: Dataset, seed: number, options: FitOptions = {}): Promise<number[]> {
  const losses: number[] = []
  const model = createModel('googlenet', { seed })
  await model.fit(data, {
    ...options,
    epochs: 1,
    onProgress: (e) => {
      if (e.type === 'batch') losses.push(e.loss)
    },
  })
  return losses
}

describe('train() on 10,000 images for one epoch (run once, shared by the assertions)', () => {
  const events: { event: ProgressEvent; at: number }[] = []
  let result: TrainResult
  let started = 0
  let finished = 0
  let ticks = 0

  beforeAll(async () => {
    const timer = setInterval(() => {
      ticks += 1
    }, 10)
    started = performance.now()
    try {
      result = await train({
        epochs: 1,
        limit: 10000,
        logEvery: 50,
        onProgress: (event) => events.push({ event, at: performance.now() }),
      })
    } finally {
      finished = performance.now()
      clearInterval(timer)
    }
  })

  // 157 SGD steps of the reference recipe: the PyTorch reference reaches
  // 82-88 % there (seeds 0-2), the issue asks for more than 75 %.
  it('learns: test accuracy above 75 %, loss falling', () => {
    const { history } = result
    expect(history.epochs).toHaveLength(1)
    const [epoch] = history.epochs
    expect(epoch?.testTotal).toBe(10000)
    expect(epoch?.testAccuracy).toBeGreaterThan(0.75)
    const windows = events.map((e) => e.event).filter((e): e is WindowProgressEvent => e.type === 'window')
    expect(windows.at(-1)?.loss).toBeLessThan(0.75 * (windows[0]?.loss ?? 0))
    expect(history.testAccuracy).toBe(epoch?.testAccuracy)
    expect(epoch?.testCorrect).toBe(Math.round((epoch?.testAccuracy ?? 0) * 10000))
    expect(epoch?.loss).toBeGreaterThan(0)
    expect(epoch?.seconds).toBeGreaterThan(0)
    expect(epoch?.trainImagesPerSec).toBeGreaterThan(0)
    expect(epoch?.evalSeconds).toBeGreaterThan(0)
    expect(history.seconds).toBeGreaterThanOrEqual(epoch?.seconds ?? 0)
  })

  it('reports every batch, a window every 50 batches and the epoch', () => {
    const batches = events.map((e) => e.event).filter((e): e is BatchProgressEvent => e.type === 'batch')
    const windows = events.map((e) => e.event).filter((e): e is WindowProgressEvent => e.type === 'window')
    const epochs = events.map((e) => e.event).filter((e): e is EpochProgressEvent => e.type === 'epoch')
    expect(batches.map((b) => b.batch)).toEqual(Array.from({ length: 157 }, (_, i) => i + 1))
    for (const b of batches) {
      expect(b).toMatchObject({ epoch: 1, epochs: 1, batches: 157 })
      expect(b.imagesSeen).toBe(Math.min(10000, b.batch * 64))
      expect(Number.isFinite(b.loss) && b.loss > 0).toBe(true)
      expect(b.imagesPerSec).toBeGreaterThan(0)
    }
    expect(windows.map((w) => w.batch)).toEqual([50, 100, 150])
    for (const w of windows) {
      const own = batches.slice(w.batch - 50, w.batch).map((b) => b.loss)
      expect(w.size).toBe(50)
      expect(w.loss).toBeCloseTo(own.reduce((a, b) => a + b, 0) / 50, 10)
    }
    expect(epochs).toHaveLength(1)
    expect(epochs[0]).toMatchObject({ ...result.history.epochs[0], type: 'epoch', epochs: 1 })
    expect(events.at(-1)?.event.type).toBe('epoch')
  })

  it('delivers progress while training runs, not all at the end', () => {
    const batchTimes = events.filter((e) => e.event.type === 'batch').map((e) => e.at)
    const first = batchTimes[0] ?? finished
    const last = batchTimes.at(-1) ?? finished
    expect(last - first).toBeGreaterThan(0.15 * (finished - started))
  })

  it('never blocks the event loop', () => {
    const expected = (finished - started) / 10
    expect(ticks).toBeGreaterThan(20)
    expect(ticks).toBeGreaterThan(0.2 * expected)
  })
})

describe('Model.fit', () => {
  let small: Dataset
  let medium: Dataset
  beforeAll(async () => {
    const { train: all } = await loadMnist()
    small = all.take(640)
    medium = all.take(3200)
  })

  it('gives identical losses for the same seed, and different ones for another seed', async () => {
    const a = await batchLosses(small, 7)
    const b = await batchLosses(small, 7)
    expect(a).toHaveLength(10)
    expect(b).toEqual(a)
    const c = await batchLosses(small, 8)
    expect(c).not.toEqual(a)
  })

  it('smooths the labels with labelSmoothing (the core checks it against PyTorch): another run, refused out of [0, 1]', async () => {
    const plain = await batchLosses(small, 7)
    const smoothed = await batchLosses(small, 7, { labelSmoothing: 0.1 })
    expect(smoothed).toHaveLength(plain.length)
    expect(smoothed.every(Number.isFinite)).toBe(true)
    expect(smoothed).not.toEqual(plain)
    await expect(createModel('lenet5').fit(small, { labelSmoothing: 1.5 })).rejects.toThrow(
      expect.objectContaining({ option: 'labelSmoothing', rule: 'must be a finite number in [0, 1]', got: '1.5' }),
    )
  })

  it('stops mid-epoch when the signal aborts, with an AbortError', async () => {
    const model = createModel('googlenet', { seed: 2 })
    const controller = new AbortController()
    const seen: number[] = []
    const fit = model.fit(medium, {
      epochs: 2,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type !== 'batch') return
        seen.push(e.batch)
        if (e.batch === 3) controller.abort()
      },
    })
    await expect(fit).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen.length).toBeGreaterThanOrEqual(3)
    expect(Math.max(...seen)).toBeLessThan(50)
    // The model is free again afterwards.
    const r = await model.evaluate(small.take(64))
    expect(r.total).toBe(64)
  })

  it('rejects with the signal reason when it is an AbortError', async () => {
    const model = createModel()
    const controller = new AbortController()
    const reason = new DOMException('stopped by the test', 'AbortError')
    const fit = model.fit(medium, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'batch') controller.abort(reason)
      },
    })
    await expect(fit).rejects.toBe(reason)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const model = createModel()
    const progress: ProgressEvent[] = []
    const t0 = performance.now()
    const fit = model.fit(medium, { signal: AbortSignal.abort('no reason'), onProgress: (e) => progress.push(e) })
    await expect(fit).rejects.toMatchObject({ name: 'AbortError', message: 'This operation was aborted' })
    expect(performance.now() - t0).toBeLessThan(500)
    expect(progress).toHaveLength(0)
    await expect(train({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('stops and rejects with the error an onProgress callback throws', async () => {
    const model = createModel()
    const boom = new Error('callback failed')
    await expect(
      model.fit(medium, {
        onProgress: () => {
          throw boom
        },
      }),
    ).rejects.toBe(boom)
  })

  it('refuses a second call on a busy model, whatever the native scheduling', async () => {
    const model = createModel()
    const controller = new AbortController()
    const first = model.fit(medium, { signal: controller.signal }).then(
      () => 'resolved',
      (error: unknown) => error,
    )
    await expect(model.fit(small)).rejects.toThrow(/busy/)
    await expect(model.evaluate(small)).rejects.toThrow(/busy/)
    await expect(model.predict(new Uint8Array(784))).rejects.toThrow(/busy/)
    expect(model.parameters()).toHaveLength(34)
    controller.abort()
    expect(await first).toMatchObject({ name: 'AbortError' })
    expect((await model.evaluate(small.take(64))).total).toBe(64)
  })
})
