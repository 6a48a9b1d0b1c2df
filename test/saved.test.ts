import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, Model, createModel, loadMnist } from '../dist/index.js'
import { ROOT, lines, runCli } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'googlenet-saved-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const FIXTURE = join(ROOT, 'crates', 'googlenet-core', 'tests', 'fixtures', 'pytorch_state_dict.safetensors')

describe('save and load', () => {
  let train: Dataset
  let test: Dataset
  beforeAll(async () => {
    const mnist = await loadMnist()
    train = mnist.train.take(640)
    test = mnist.test.take(1000)
  })

  it('round-trips weights, name and training record', async () => {
    const model = createModel('lenet5', { seed: 2 })
    await model.fit(train, { epochs: 1, validation: test })
    const path = join(dir, 'lenet5.safetensors')
    await model.save(path)
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([])
    const loaded = await Model.load(path)
    expect([loaded.name, loaded.epochsTrained]).toEqual(['lenet5', 1])
    const pixels = new Float32Array(8 * 28 * 28).map((_, i) => (i % 29) / 29)
    expect((await loaded.predict(pixels)).probabilities).toEqual((await model.predict(pixels)).probabilities)
  })

  it('toBytes gives the file save writes, and fromBytes reads it back as load does', async () => {
    const model = createModel('resnet-original', { seed: 4, depth: 2 })
    await model.fit(train, { epochs: 1, validation: test })
    const bytes = await model.toBytes()
    const path = join(dir, 'resnet-bytes.safetensors')
    writeFileSync(path, bytes)
    const pixels = new Float32Array(8 * 28 * 28).map((_, i) => (i % 31) / 31)
    const expected = (await model.predict(pixels)).probabilities
    for (const loaded of [await Model.fromBytes(bytes), await Model.load(path)]) {
      expect([loaded.name, loaded.depth, loaded.epochsTrained, loaded.description]).toEqual(['resnet-original', 2, 1, model.description])
      expect((await loaded.predict(pixels)).probabilities).toEqual(expected)
    }
    await expect(Model.fromBytes(bytes.subarray(0, 500), { name: 'upload.safetensors' })).rejects.toThrow(/^upload\.safetensors: /)
    await expect(Model.fromBytes('model.safetensors' as unknown as Uint8Array)).rejects.toThrow(TypeError)
  })

  it('keeps a ResNet depth', async () => {
    const path = join(dir, 'resnet.safetensors')
    await createModel('resnet-full-preact', { depth: 2 }).save(path)
    const loaded = await Model.load(path)
    expect([loaded.name, loaded.depth, loaded.paramCount]).toEqual(['resnet-full-preact', 2, createModel('resnet-full-preact', { depth: 2 }).paramCount])
  })

  it("loads PyTorch's own state_dict and classifies as PyTorch did (849 of the first 1,000 test images)", async () => {
    const model = await Model.load(FIXTURE)
    expect(model.name).toBe('googlenet')
    expect((await model.evaluate(test)).correct).toBe(849)
  })

  it('fails clearly on a damaged file', async () => {
    const path = join(dir, 'damaged.safetensors')
    writeFileSync(path, 'not a model at all')
    await expect(Model.load(path)).rejects.toThrow(/damaged\.safetensors: not a complete safetensors model file/)
    await expect(Model.load(join(dir, 'nowhere.safetensors'))).rejects.toThrow(/nowhere\.safetensors/)
  })

  it('train --save writes a model that loads', async () => {
    const path = join(dir, 'cli.safetensors')
    const r = await runCli(['train', '--model', 'lenet5', '--limit', '640', '--test-limit', '200', '--epochs', '1', '--save', path, '--json'])
    expect(r.code).toBe(0)
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { type: string; path?: string; testAccuracy?: number })
    expect(out.at(-1)).toEqual({ type: 'saved', path })
    const loaded = await Model.load(path)
    expect([loaded.name, loaded.epochsTrained]).toEqual(['lenet5', 1])
  })
})
