import { beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, type ModelName, createModel, loadMnist, modelNames, summarize } from '../dist/index.js'
import { runCli } from './helpers.js'

/** Per model: its parameter count, as PyTorch counts the same model. */
const PARAMS: Record<ModelName, number> = { googlenet: 97_298, lenet5: 61_706, residual: 41_514 }

describe('the model zoo', () => {
  let train: Dataset
  let test: Dataset
  beforeAll(async () => {
    const mnist = await loadMnist()
    train = mnist.train.take(3000)
    test = mnist.test.take(1000)
  })

  it('lists every model, each with its parameter count', () => {
    expect([...modelNames].sort()).toEqual(Object.keys(PARAMS).sort())
    for (const name of modelNames) {
      expect(createModel(name).paramCount, name).toBe(PARAMS[name])
      expect(summarize(name).params, name).toBe(PARAMS[name])
    }
  })

  it.each(Object.keys(PARAMS) as ModelName[])('%s learns through the API', async (name) => {
    const model = createModel(name, { seed: 1 })
    const history = await model.fit(train, { epochs: 2, validation: test })
    // 3,000 images, two epochs: far from converged (lenet5 is the slowest
    // starter at about 50 %), far above chance (10 %).
    expect(history.testAccuracy, name).toBeGreaterThan(0.35)
  })

  it('trains the model --model names from the CLI', async () => {
    const r = await runCli(['train', '--model', 'lenet5', '--limit', '3000', '--test-limit', '1000', '--epochs', '2', '--json'])
    expect(r.code).toBe(0)
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { type: string; testAccuracy: number }
    expect(done.type).toBe('done')
    expect(done.testAccuracy).toBeGreaterThan(0.35)
    const bad = await runCli(['train', '--model', 'alexnet'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--model.*alexnet.*googlenet, lenet5, residual/)
  })
})
