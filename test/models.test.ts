import { beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, type ModelName, createModel, loadMnist, modelNames, summarize } from '../dist/index.js'
import { runCli } from './helpers.js'

/** ResNets at depth 1: (a)–(c) share a layout; (d) has no stem BN; (e) moves BNs and adds a final one. */
const RESNET = 77_898
const RESNET_RELU_ONLY = 77_866
const RESNET_FULL = 77_898

/** Per model: its parameter count (as PyTorch counts the same model: BatchNorm's γ and β, not its running statistics). */
const PARAMS: Record<ModelName, number> = {
  googlenet: 97_298,
  lenet5: 61_706,
  residual: 41_514,
  resnet: RESNET,
  'resnet-original': RESNET,
  'resnet-bn-after-add': RESNET,
  'resnet-relu-before-add': RESNET,
  'resnet-relu-only-preact': RESNET_RELU_ONLY,
  'resnet-full-preact': RESNET_FULL,
}

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

  // The five ResNet designs share their code but for the unit's step order
  // (tested in Rust); two of them, one post- and one pre-activation, train here.
  it.each(['googlenet', 'lenet5', 'residual', 'resnet-original', 'resnet-full-preact'] as ModelName[])('%s learns through the API', async (name) => {
    const model = createModel(name, { seed: 1 })
    const history = await model.fit(train, { epochs: 2, validation: test })
    // 3,000 images, two epochs (94 steps at lr 0.01): far from converged,
    // well above chance (10 %). The ResNets start slowest, near 35 %.
    expect(history.testAccuracy, name).toBeGreaterThan(0.25)
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

describe('compare', () => {
  it('trains each model with the same budget and prints one table', async () => {
    const r = await runCli(['compare', '--models', 'lenet5,googlenet', '--epochs', '2', '--limit', '640', '--test-limit', '200', '--workers', '1'])
    expect(r.code).toBe(0)
    const rows = r.stdout.trim().split('\n')
    expect(rows[0]).toMatch(/^model +params +runs +test error % +95 % interval +best epoch +s\/epoch$/)
    expect(rows[1]).toMatch(/^lenet5 +61,706 +1 +\d+\.\d\d +— +[12]: \d+\.\d\d +\d+\.\d$/)
    expect(rows[2]).toMatch(/^googlenet +97,298 +1 /)
    expect(r.stderr).toMatch(/^lenet5: epoch 1 of 2, test \d+\.\d\d % \(\d+\.\d s\)\nlenet5: epoch 2 of 2, .*\nlenet5: \d+\.\d\d % after 2 epochs\ngooglenet: /)
  })

  it('prints one JSON object per run, then the comparison, and refuses unknown models', async () => {
    const r = await runCli(['compare', '--models', 'lenet5', '--epochs', '1', '--limit', '640', '--test-limit', '200', '--json'])
    const [run, comparison] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(run).toMatchObject({ type: 'run', model: 'lenet5', seed: 0, params: 61_706, macs: 416_520 })
    expect(run?.history).toHaveLength(1)
    expect(comparison).toMatchObject({ type: 'comparison', runs: 1, expected: 1, models: [{ model: 'lenet5', seeds: [0] }] })
    const bad = await runCli(['compare', '--models', 'lenet5,vgg'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^error: --models: unknown model 'vgg' \(known: googlenet, /)
  })
})
