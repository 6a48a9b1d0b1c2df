import { beforeAll, describe, expect, it } from 'vitest'
import { Dataset, Model, type MnistData, type ModelName, createModel, deviceInfo, loadMnist, modelNames, train, version } from '../dist/index.js'
import { PIXELS, mnistSample } from './helpers.js'

/** One Inception-A module's parameters, on `c` input channels. */
function inception(m: string, c: number): [string, number[]][] {
  return [
    [`${m}.branch1x1.weight`, [16, c, 1, 1]],
    [`${m}.branch1x1.bias`, [16]],
    [`${m}.branch5x5_1.weight`, [16, c, 1, 1]],
    [`${m}.branch5x5_1.bias`, [16]],
    [`${m}.branch5x5_2.weight`, [24, 16, 5, 5]],
    [`${m}.branch5x5_2.bias`, [24]],
    [`${m}.branch3x3_1.weight`, [16, c, 1, 1]],
    [`${m}.branch3x3_1.bias`, [16]],
    [`${m}.branch3x3_2.weight`, [24, 16, 3, 3]],
    [`${m}.branch3x3_2.bias`, [24]],
    [`${m}.branch3x3_3.weight`, [24, 24, 3, 3]],
    [`${m}.branch3x3_3.bias`, [24]],
    [`${m}.branch_pool.weight`, [24, c, 1, 1]],
    [`${m}.branch_pool.bias`, [24]],
  ]
}

/** googlenet's parameters: PyTorch's names and shapes, in the order its layers appear in its description. */
const PYTORCH_PARAMETERS: [string, number[]][] = [
  ['conv1.weight', [10, 1, 5, 5]],
  ['conv1.bias', [10]],
  ...inception('incep1', 10),
  ['conv2.weight', [20, 88, 5, 5]],
  ['conv2.bias', [20]],
  ...inception('incep2', 20),
  ['fc.weight', [10, 1408]],
  ['fc.bias', [10]],
]

describe('loadMnist', () => {
  let data: MnistData
  beforeAll(async () => {
    data = await loadMnist()
  })

  it('loads the bundled MNIST: 60000 training and 10000 test images of 28x28', () => {
    expect(data.train.length).toBe(60000)
    expect(data.test.length).toBe(10000)
    for (const split of [data.train, data.test]) {
      expect(split.height).toBe(28)
      expect(split.width).toBe(28)
    }
  })

  it('takes the first n images, clamped to the length', () => {
    expect(data.test.take(100).length).toBe(100)
    expect(data.test.take(0).length).toBe(0)
    expect(data.test.take(1e6).length).toBe(10000)
    expect(() => data.test.take(-1)).toThrow(RangeError)
    expect(() => data.test.take(1.5)).toThrow('count must be an integer in [0, 4294967295] (got 1.5)')
  })

  it('rejects a dir that is not a string', async () => {
    await expect(loadMnist({ dir: 42 as unknown as string })).rejects.toThrow(TypeError)
  })
})

describe('Dataset.fromArrays', () => {
  const { images, labels } = mnistSample(5)

  it('copies images and labels', () => {
    const d = Dataset.fromArrays(images, labels)
    expect([d.length, d.height, d.width]).toEqual([5, 28, 28])
    expect(d.take(2).length).toBe(2)
    const small = Dataset.fromArrays(new Uint8Array(3 * 4 * 2), new Uint8Array([0, 1, 9]), { height: 4, width: 2 })
    expect([small.length, small.height, small.width]).toEqual([3, 4, 2])
  })

  it('rejects mismatched sizes', () => {
    expect(() => Dataset.fromArrays(images.subarray(1), labels)).toThrow(RangeError)
    expect(() => Dataset.fromArrays(images, labels.subarray(1))).toThrow(/labels of 28x28 grey images need/)
  })

  it('numbers the classes up to the largest label, or takes their names', () => {
    const more = new Uint8Array(labels)
    more[3] = 46
    expect(Dataset.fromArrays(images, more).classNames).toHaveLength(47)
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
    const named = Dataset.fromArrays({ images, labels, classNames: names })
    expect(named.classNames).toEqual(names)
    expect(named.classCounts().reduce((a, b) => a + b)).toBe(labels.length)
    expect(() => Dataset.fromArrays({ images, labels: more, classNames: names })).toThrow('labels[3] is 46; with 10 classes labels must be 0..9')
    expect(() => Dataset.fromArrays({ images, labels, classNames: [...names.slice(1), 'one'] })).toThrow('the class name "one" appears twice')
  })

  it('takes colour images as planes', () => {
    const colour = Dataset.fromArrays({ images: new Uint8Array(2 * 3 * 4 * 5).map((_, i) => i), labels: new Uint8Array([0, 1]), shape: [3, 4, 5] })
    expect([colour.channels, colour.height, colour.width]).toEqual([3, 4, 5])
    expect(colour.image(1)[0]).toBe(60)
    expect(() => Dataset.fromArrays({ images: new Uint8Array(2 * 2 * 4 * 5), labels: new Uint8Array(2), shape: [2, 4, 5] })).toThrow(
      'images have 1 channel (grey) or 3 (colour), not 2',
    )
  })

  it('rejects arguments of the wrong type or size', () => {
    expect(() => Dataset.fromArrays([1, 2] as unknown as Uint8Array, labels)).toThrow(TypeError)
    expect(() => Dataset.fromArrays(images, Array.from(labels) as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => Dataset.fromArrays(images, labels, { height: 0 })).toThrow('height must be an integer in [1, 4294967295] (got 0)')
  })

  it('cannot be constructed directly', () => {
    expect(() => new (Dataset as unknown as new () => Dataset)()).toThrow(/no public constructor/)
  })
})

describe('createModel', () => {
  it('builds googlenet with 97,298 parameters in 34 PyTorch-named tensors', () => {
    const model = createModel('googlenet', { seed: 1 })
    expect(model.name).toBe('googlenet')
    expect(model.device).toBe('cpu')
    expect(model.seed).toBe(1)
    expect(model.inputSize).toEqual({ height: 28, width: 28 })
    expect(model.paramCount).toBe(97298)
    const params = model.parameters()
    expect(params).toHaveLength(34)
    expect(params.map((p) => [p.name, p.shape])).toEqual(PYTORCH_PARAMETERS)
    expect(params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(97298)
  })

  it('defaults to googlenet with seed 0 on the CPU', () => {
    const model = createModel()
    expect([model.name, model.seed, model.device]).toEqual(['googlenet', 0, 'cpu'])
    expect(modelNames).toContain('googlenet')
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('rejects unknown models, bad seeds and unavailable devices', () => {
    expect(() => createModel('alexnet' as ModelName)).toThrow(RangeError)
    expect(() => createModel('alexnet' as ModelName)).toThrow(/^unknown model 'alexnet' \(known: googlenet, lenet5, /)
    expect(() => createModel('googlenet', { seed: -1 })).toThrow('seed must be an integer in [0, 4294967295] (got -1)')
    expect(() => createModel('googlenet', { seed: 2 ** 32 })).toThrow(RangeError)
    expect(() => createModel('googlenet', { device: 'cuda' })).toThrow(/^CUDA is not available: \S/)
    expect(() => createModel('googlenet', { device: 'tpu' as 'cpu' })).toThrow(/device must be one of auto, cpu, cuda/)
  })

  it('reports the loaded build and why there is no GPU', () => {
    const info = deviceInfo()
    // The vitest project "wasm" runs this file on the WebAssembly build.
    if (process.env.NAPI_RS_FORCE_WASI) expect(info.binary).toBe('wasm')
    else expect(['cpu', 'cuda']).toContain(info.binary)
    expect(info).toMatchObject({ auto: 'cpu', cuda: false })
    expect(info.cudaUnavailable).toMatch(/\S/)
  })
})

describe('predict and evaluate', () => {
  const model = createModel('googlenet', { seed: 3 })
  const { images } = mnistSample(3, 't10k')

  it('returns one label and ten probabilities summing to 1 per image', async () => {
    const { labels, probabilities } = await model.predict(images)
    expect(labels).toBeInstanceOf(Uint8Array)
    expect(probabilities).toBeInstanceOf(Float32Array)
    expect(labels).toHaveLength(3)
    expect(probabilities).toHaveLength(30)
    for (let i = 0; i < 3; i++) {
      const row = Array.from(probabilities.subarray(i * 10, i * 10 + 10))
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
      for (const p of row) expect(p).toBeGreaterThanOrEqual(0)
      expect(labels[i]).toBe(row.indexOf(Math.max(...row)))
    }
  })

  it('reads a Float32Array as pixels already scaled to [0, 1]', async () => {
    const bytes = await model.predict(images)
    const floats = await model.predict(Float32Array.from(images, (x) => x / 255))
    expect(Array.from(floats.labels)).toEqual(Array.from(bytes.labels))
    for (let i = 0; i < 30; i++) expect(floats.probabilities[i]).toBeCloseTo(bytes.probabilities[i] as number, 5)
  })

  it('handles no images and rejects partial ones or the wrong size', async () => {
    expect((await model.predict(new Uint8Array(0))).labels).toHaveLength(0)
    await expect(model.predict(images.subarray(1))).rejects.toThrow(/not a multiple of 28x28 = 784/)
    await expect(model.predict(new Uint8Array(32 * 32), { height: 32, width: 32 })).rejects.toThrow(
      'model "googlenet" takes 28x28 images (got 32x32)',
    )
    await expect(model.predict([1, 2] as unknown as Uint8Array)).rejects.toThrow(TypeError)
    await expect(model.predict(new Float32Array(PIXELS).fill(Number.NaN))).rejects.toThrow(/must be finite/)
  })

  it('evaluates accuracy, counts and loss', async () => {
    const { test } = await loadMnist()
    const r = await model.evaluate(test.take(500), { batchSize: 128 })
    expect(Object.keys(r).sort()).toEqual(['accuracy', 'correct', 'loss', 'total'])
    expect(r.total).toBe(500)
    expect(Number.isInteger(r.correct)).toBe(true)
    expect(r.correct).toBeGreaterThanOrEqual(0)
    expect(r.correct).toBeLessThanOrEqual(500)
    expect(r.accuracy).toBeCloseTo(r.correct / r.total, 12)
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true)
    await expect(model.evaluate(test.take(10), { batchSize: 0 })).rejects.toThrow('batchSize must be an integer in [1, 1024] (got 0)')
    await expect(model.evaluate(test.take(0))).rejects.toThrow(/must not be empty/)
    await expect(model.evaluate({} as unknown as typeof test)).rejects.toThrow('dataset must be a Dataset')
  })
})

describe('predictions call after call', () => {
  // predict keeps the engine it made for the model; anything else done to
  // the model (fit here) drops it, so predictions follow the weights.
  it('give what a fresh copy of the model gives, before and after training', async () => {
    const model = createModel('resnet-original', { seed: 4 })
    const { images } = mnistSample(5, 't10k')
    const copy = async (): Promise<Float32Array> => (await Model.fromBytes(await model.toBytes())).logits(images)
    const before = await model.logits(images)
    expect(await copy()).toEqual(before)
    // Kept from here to fit.
    expect(await model.logits(images)).toEqual(before)
    const train = Dataset.fromArrays(mnistSample(128).images, mnistSample(128).labels)
    await model.fit(train, { epochs: 1, batchSize: 32, lr: 0.05 })
    const after = await model.logits(images)
    expect(after).toEqual(await copy())
    expect(after).not.toEqual(before)
  })
})

describe('option validation', () => {
  const model = createModel()
  const data = Dataset.fromArrays(mnistSample(4).images, mnistSample(4).labels)

  it.each([
    [{ epochs: 0 }, RangeError, 'epochs must be an integer in [1, 4294967295] (got 0)'],
    [{ epochs: 1.5 }, RangeError, 'epochs must be an integer in [1, 4294967295] (got 1.5)'],
    [{ epochs: '10' }, TypeError, 'epochs must be an integer in [1, 4294967295] (got "10")'],
    [{ batchSize: 0 }, RangeError, 'batchSize must be an integer in [1, 1024] (got 0)'],
    [{ lr: -1 }, RangeError, 'lr must be a finite number > 0 (got -1)'],
    [{ lr: Number.NaN }, RangeError, 'lr must be a finite number > 0 (got NaN)'],
    [{ lr: Number.POSITIVE_INFINITY }, RangeError, 'lr must be a finite number > 0 (got Infinity)'],
    [{ momentum: 1 }, RangeError, 'momentum must be a finite number in [0, 1) (got 1)'],
    [{ momentum: -0.1 }, RangeError, 'momentum must be a finite number in [0, 1) (got -0.1)'],
    [{ lr: '0.1' }, TypeError, 'lr must be a finite number > 0 (got "0.1")'],
    [{ momentum: true }, TypeError, 'momentum must be a finite number in [0, 1) (got true)'],
    [{ seed: 2 ** 32 }, RangeError, 'seed must be an integer in [0, 4294967295] (got 4294967296)'],
    [{ logEvery: 0 }, RangeError, 'logEvery must be an integer in [1, 4294967295] (got 0)'],
    [{ onProgress: 'x' }, TypeError, 'onProgress must be a function (got "x")'],
    [{ signal: {} }, TypeError, 'signal must be an AbortSignal (got object)'],
    [{ optimizer: 'lamb' }, RangeError, 'optimizer must be one of sgd, adam, adamw (got "lamb")'],
    [{ optimizer: 1 }, TypeError, 'optimizer must be one of sgd, adam, adamw (got 1)'],
    [{ schedule: 'exp' }, RangeError, 'schedule must be one of constant, step, cosine (got "exp")'],
    [{ nesterov: 'yes' }, TypeError, 'nesterov must be a boolean (got "yes")'],
    [{ weightDecay: -0.1 }, RangeError, 'weightDecay must be a finite number >= 0 (got -0.1)'],
    [{ weightDecay: '0.1' }, TypeError, 'weightDecay must be a finite number >= 0 (got "0.1")'],
    [{ optimizer: 'adam', beta2: 1 }, RangeError, 'beta2 must be a finite number in [0, 1) (got 1)'],
    [{ optimizer: 'adamw', eps: 0 }, RangeError, 'eps must be a finite number > 0 (got 0)'],
    [{ schedule: 'step', stepEpochs: 0.5 }, RangeError, 'stepEpochs must be an integer in [1, 4294967295] (got 0.5)'],
    [{ schedule: 'step', stepGamma: 0 }, RangeError, 'stepGamma must be a finite number in (0, 1] (got 0)'],
    [{ warmupEpochs: -1 }, RangeError, 'warmupEpochs must be an integer in [0, 4294967295] (got -1)'],
    [{ warmupEpochs: 1, warmupStartFactor: 2 }, RangeError, 'warmupStartFactor must be a finite number in (0, 1] (got 2)'],
    // Settings that do not fit together, refused by the core.
    [{ optimizer: 'adam', momentum: 0.9 }, RangeError, 'momentum does not apply to the adam optimizer (only to sgd)'],
    [{ beta1: 0.8 }, RangeError, 'beta1 does not apply to the sgd optimizer'],
    [{ nesterov: true, momentum: 0 }, RangeError, 'nesterov needs a momentum > 0'],
    [{ schedule: 'cosine', stepGamma: 0.5 }, RangeError, 'stepGamma does not apply to the cosine schedule (only to step)'],
    [{ warmupStartFactor: 0.5 }, RangeError, 'warmupStartFactor does not apply to a run without warm-up (set warmupEpochs)'],
    [{ epochs: 2, warmupEpochs: 2 }, RangeError, 'warmupEpochs must be fewer than the epochs (2): the warm-up ends before the run does (got 2)'],
  ])('fit rejects %o before training', async (options, type, message) => {
    const rejection = model.fit(data, options as never)
    await expect(rejection).rejects.toThrow(type)
    await expect(rejection).rejects.toThrow(message)
  })

  it('fit rejects bad datasets', async () => {
    await expect(model.fit({} as unknown as Dataset)).rejects.toThrow('train must be a Dataset')
    await expect(model.fit(data.take(0))).rejects.toThrow('train must not be empty')
    const tiny = Dataset.fromArrays(new Uint8Array(16), new Uint8Array([1]), { height: 4, width: 4 })
    await expect(model.fit(tiny)).rejects.toThrow('model "googlenet" takes 28x28 images (got 4x4)')
    await expect(model.fit(data, { validation: tiny })).rejects.toThrow(/takes 28x28 images/)
  })

  it('train validates every option before loading data', async () => {
    await expect(train({ limit: 0 })).rejects.toThrow('limit must be an integer in [1, 4294967295] (got 0)')
    await expect(train({ testLimit: 2.5 })).rejects.toThrow('testLimit must be an integer in [1, 4294967295] (got 2.5)')
    await expect(train({ epochs: 0, dir: '/no/such/dir' })).rejects.toThrow('epochs must be an integer in [1, 4294967295] (got 0)')
    await expect(train({ momentum: 2 })).rejects.toThrow(RangeError)
    await expect(train({ device: 'cuda' })).rejects.toThrow(/^CUDA is not available: \S/)
  })
})
