/**
 * Models of one's own: a description built in TypeScript trains through the
 * same engine as the zoo (the tutorial's Net bit for bit as the zoo's
 * googlenet), fails at construction where it does not fit, and travels in
 * its saved file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Dataset,
  type ModelDescription,
  Model,
  batchNorm,
  checkDescription,
  conv2d,
  createModel,
  describeModel,
  descriptions,
  flatten,
  globalAvgPool,
  linear,
  loadMnist,
  maxPool,
  network,
  relu,
  residual,
  summarize,
  traceShapes,
} from '../dist/index.js'
import { tutorialNet } from './tutorial-net.js'

/** The first `count` images of `data`, one after another. */
function firstImages(data: Dataset, count: number): Uint8Array {
  const images = Array.from({ length: count }, (_, i) => data.image(i))
  const out = new Uint8Array(images.reduce((n, image) => n + image.length, 0))
  images.forEach((image, i) => out.set(image, i * image.length))
  return out
}

const Net = tutorialNet()

/** A small ResNet-style net with a 1×1 projection shortcut. */
const smallResNet = network(
  [
    { stem: conv2d({ outChannels: 8, kernel: 3, padding: 1 }), bn: batchNorm() },
    relu(),
    {
      unit: residual(
        { conv1: conv2d({ outChannels: 16, kernel: 3, stride: 2, padding: 1 }), bn1: batchNorm(), relu: relu(), conv2: conv2d({ outChannels: 16, kernel: 3, padding: 1 }) },
        { shortcut: { down: conv2d({ outChannels: 16, kernel: 1, stride: 2 }) } },
      ),
    },
    relu(),
    { pool: globalAvgPool(), fc: linear({ outFeatures: 10 }) },
  ],
  { name: 'small-resnet' },
)

describe('models of your own', () => {
  let train: Dataset
  let test: Dataset
  let dir: string
  beforeAll(async () => {
    const mnist = await loadMnist()
    train = mnist.train.take(512)
    test = mnist.test.take(256)
    dir = mkdtempSync(join(tmpdir(), 'googlenet-custom-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("writes the tutorial's Net exactly as the zoo's googlenet", () => {
    expect(checkDescription(Net)).toEqual(descriptions.googlenet())
    expect(describeModel('googlenet')).toEqual(descriptions.googlenet())
    expect(createModel(Net).description).toEqual(createModel('googlenet').description)
    expect(Object.isFrozen(descriptions.googlenet().layers)).toBe(true)
  })

  it('trains bit for bit as createModel("googlenet") with the same seed', async () => {
    const mine = createModel(Net, { seed: 5, device: 'cpu' })
    const zoo = createModel('googlenet', { seed: 5, device: 'cpu' })
    expect(mine.parameters()).toEqual(zoo.parameters())
    expect(mine.parameters().map((p) => p.name)).toContain('incep1.branch5x5_2.weight')
    const options = { epochs: 1, batchSize: 64, validation: test }
    const [a, b] = [await mine.fit(train, options), await zoo.fit(train, options)]
    expect(a.epochs.map((e) => [e.loss, e.testLoss, e.testCorrect])).toEqual(b.epochs.map((e) => [e.loss, e.testLoss, e.testCorrect]))
    const pixels = firstImages(test, 8)
    expect((await mine.predict(pixels)).probabilities).toEqual((await zoo.predict(pixels)).probabilities)
  })

  it('starts from a zoo description, changed: a 7×7 branch in each Inception module', async () => {
    const changed = structuredClone(descriptions.googlenet()) as unknown as { name: string; layers: unknown[] }
    changed.name = 'googlenet-7x7'
    for (const step of changed.layers as { type: string; branches?: unknown[] }[]) {
      if (step.type === 'concat') step.branches?.push({ type: 'conv2d', name: 'branch7x7', outChannels: 8, kernel: 7, padding: 3 })
    }
    // conv2 and fc take their inputs from the shapes: 96 channels, then 96·4·4 features.
    const model = createModel(changed as unknown as ModelDescription, { seed: 1 })
    const params = new Map(model.parameters().map((p) => [p.name, p.shape]))
    expect(params.get('incep1.branch7x7.weight')).toEqual([8, 10, 7, 7])
    expect(params.get('conv2.weight')).toEqual([20, 96, 5, 5])
    expect(params.get('fc.weight')).toEqual([10, 96 * 4 * 4])
    expect(model.summary().model).toBe('googlenet-7x7')
    const before = await model.evaluate(test)
    const history = await model.fit(train, { epochs: 1, lr: 0.05 })
    expect(Number.isFinite(history.epochs[0].loss)).toBe(true)
    expect((await model.evaluate(test)).loss).toBeLessThan(before.loss)
  })

  it('trains a residual net, saves it and loads it back with no code', async () => {
    const model = createModel(smallResNet, { seed: 2 })
    expect(model.name).toBe('small-resnet')
    expect(model.depth).toBeUndefined()
    expect(model.parameters().map((p) => p.name)).toEqual([
      'stem.weight', 'stem.bias', 'bn.weight', 'bn.bias',
      'unit.conv1.weight', 'unit.conv1.bias', 'unit.bn1.weight', 'unit.bn1.bias', 'unit.conv2.weight', 'unit.conv2.bias',
      'unit.down.weight', 'unit.down.bias', 'fc.weight', 'fc.bias',
    ])
    await model.fit(train, { epochs: 1, batchSize: 32 })
    const file = join(dir, 'small-resnet.safetensors')
    await model.save(file)
    const loaded = await Model.load(file)
    expect(loaded.name).toBe('small-resnet')
    expect(loaded.description).toEqual(model.description)
    expect(loaded.epochsTrained).toBe(1)
    const pixels = firstImages(test, 16)
    expect((await loaded.predict(pixels)).probabilities).toEqual((await model.predict(pixels)).probabilities)
    expect(await loaded.evaluate(test)).toEqual(await model.evaluate(test))
  })

  it('summarizes and traces a description like a zoo model', () => {
    const s = summarize(smallResNet)
    expect(s.model).toBe('small-resnet')
    expect(s.params).toBe(createModel(smallResNet).paramCount)
    expect(s.layers.map((l) => l.name)).toContain('unit')
    const steps = traceShapes(smallResNet, { height: 32, width: 32 })
    expect(steps.find((l) => l.name === 'unit')?.outputShape).toEqual([16, 16, 16])
    expect(createModel(network([{ c: conv2d({ outChannels: 4, kernel: 3 }) }, flatten(), { fc: linear({ outFeatures: 10 }) }]), { input: [1, 20, 20] }).inputSize).toEqual({ height: 20, width: 20 })
  })

  it('reads a model of 12 class scores 12 at a time: predict, logits, evaluate and its confusion matrix', async () => {
    const twelve = network([{ c1: conv2d({ outChannels: 8, kernel: 5 }) }, maxPool({ kernel: 2 }), relu(), flatten(), { fc: linear({ outFeatures: 12 }) }])
    const model = createModel(twelve, { seed: 3 })
    expect(model.classes).toBe(12)
    await model.fit(train, { epochs: 1, batchSize: 32, optimizer: 'adam' })
    const pixels = firstImages(test, 16)
    const logits = await model.logits(pixels)
    const { labels, probabilities } = await model.predict(pixels)
    expect(logits).toHaveLength(16 * 12)
    expect(probabilities).toHaveLength(16 * 12)
    for (let i = 0; i < 16; i++) {
      const row = Array.from(logits.subarray(i * 12, (i + 1) * 12))
      expect(labels[i]).toBe(row.indexOf(Math.max(...row)))
      expect(probabilities.subarray(i * 12, (i + 1) * 12).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    }
    const evaluation = await model.evaluate(test, { confusion: true })
    expect(evaluation.accuracy).toBeGreaterThan(0.5)
    expect(evaluation.confusion).toHaveLength(12)
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(test.length)
  })

  it('refuses data with labels beyond the model\'s class scores, and predicts with the scores it has', async () => {
    const three = network([flatten(), { fc: linear({ outFeatures: 3 }) }])
    const model = createModel(three, { seed: 1 })
    await expect(model.fit(train, { epochs: 1 })).rejects.toThrow(/gives 3 class scores \(labels 0\.\.2\), but train \(.*\) has label 9: its last layer needs at least 10 outputs/)
    await expect(model.evaluate(test)).rejects.toThrow(RangeError)
    const { labels, probabilities } = await model.predict(firstImages(test, 2))
    expect(probabilities).toHaveLength(6)
    expect([...labels].every((label) => label < 3)).toBe(true)
  })

  it('computes flatten after flatten, and a batch as its images one at a time (globalAvgPool, flatten, linear)', async () => {
    const pytorchHabit = network([{ c1: conv2d({ outChannels: 8, kernel: 5 }) }, relu(), globalAvgPool(), flatten(), flatten(), { fc: linear({ outFeatures: 10 }) }])
    const model = createModel(pytorchHabit, { seed: 4 })
    await model.fit(train, { epochs: 1, batchSize: 32, optimizer: 'adam' })
    const pixels = firstImages(test, 4)
    const batch = await model.logits(pixels)
    const size = 28 * 28
    for (let i = 0; i < 4; i++) {
      const alone = await model.logits(pixels.subarray(i * size, (i + 1) * size))
      alone.forEach((v, k) => expect(Math.abs(v - batch[i * 10 + k])).toBeLessThan(1e-5))
    }
  })

  it('fails at construction where a layer does not fit, naming it and both shapes', () => {
    const tooSmall = network([{ conv: conv2d({ outChannels: 4, kernel: 5 }) }, { pool: maxPool({ kernel: 8 }) }, { big: conv2d({ outChannels: 4, kernel: 5 }) }, flatten(), { fc: linear({ outFeatures: 10 }) }])
    expect(() => createModel(tooSmall)).toThrow(RangeError)
    expect(() => createModel(tooSmall)).toThrow('layers[2]: layer big (5×5 conv, 4→4 channels, padding 0) takes N×4×H×W with H, W ≥ 5, got [1, 4, 3, 3]')
    expect(() => createModel(network([{ fc: linear({ outFeatures: 10 }) }]))).toThrow(/layer fc takes N×F features, got \[1, 1, 28, 28\]: flatten or globalAvgPool first/)
    expect(() => createModel(network([{ conv: conv2d({ outChannels: 4, kernel: 0 }) }]))).toThrow('layers[0].kernel: must be an integer from 1 to 15 (got 0)')
    expect(() => createModel([relu()] as unknown as ModelDescription)).toThrow(TypeError)
    expect(() => createModel('googlenet', { input: [1, 32, 32] })).toThrow(RangeError)
    expect(() => createModel(Net, { depth: 2 })).toThrow(/depth applies to the zoo's ResNets/)
  })
})
