import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FilePrediction, type Model, createModel, loadMnist, readDigitImage } from '../dist/index.js'
import { encodeGrayPng } from '../src/png.js'
import { PIXELS, STACK_OR_PANIC, lines, mnistSample, runCli } from './helpers.js'

const COUNT = 20
const dir = mkdtempSync(join(tmpdir(), 'googlenet-predict-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Real MNIST test digits as PNG files: as in MNIST (light on dark) and inverted (dark on light, like ink on paper). */
const sample = mnistSample(COUNT, 't10k')
const digits = Array.from({ length: COUNT }, (_, i) => sample.images.subarray(i * PIXELS, (i + 1) * PIXELS))
const lightOnDark = digits.map((pixels, i) => {
  const file = join(dir, `digit-${i}.png`)
  writeFileSync(file, encodeGrayPng(pixels, 28, 28))
  return file
})
const darkOnLight = digits.map((pixels, i) => {
  const file = join(dir, `paper-${i}.png`)
  writeFileSync(file, encodeGrayPng(pixels.map((v) => 255 - v), 28, 28))
  return file
})
const notAnImage = join(dir, 'notes.png')
writeFileSync(notAnImage, 'not an image at all')
const modelFile = join(dir, 'lenet5.safetensors')

const correct = (predictions: readonly { label: number }[]): number => predictions.filter((p, i) => p.label === sample.labels[i]).length

describe('predict on image files', () => {
  let model: Model
  let light: FilePrediction[]
  beforeAll(async () => {
    // LeNet-5 trains on all of MNIST in seconds, and recognizes about 95 % of the test set after one epoch.
    const { train } = await loadMnist()
    model = createModel('lenet5', { seed: 1 })
    await model.fit(train, { epochs: 1 })
    await model.save(modelFile)
    light = []
    for (const file of lightOnDark) light.push(await model.predictFile(file))
  })

  it('reads a PNG into a 28×28 MNIST-style digit', async () => {
    const d = await readDigitImage(lightOnDark[0] as string)
    expect([d.pixels.length, d.width, d.height, d.inverted]).toEqual([PIXELS, 28, 28, false])
    expect(Math.max(...d.pixels)).toBeLessThanOrEqual(1)
    expect(Math.min(...d.pixels)).toBe(0)
  })

  it('recognizes real MNIST digits written as PNG files', async () => {
    expect(correct(light)).toBeGreaterThanOrEqual(17)
    // The fit leaves an MNIST digit (nearly) as it was: the same labels as the raw pixels.
    const direct = await model.predict(sample.images)
    expect(light.filter((p, i) => p.label === direct.labels[i]).length).toBeGreaterThanOrEqual(19)
    expect(light.map((p) => p.file)).toEqual(lightOnDark)
  })

  it('inverts dark-on-light images and gives them the same labels', async () => {
    for (const [i, file] of darkOnLight.entries()) {
      const p = await model.predictFile(file)
      expect(p.inverted).toBe(true)
      expect(p.label).toBe(light[i]?.label)
    }
    expect(light.every((p) => !p.inverted)).toBe(true)
  })

  it('returns the 3 most probable labels in descending order', () => {
    for (const p of light) {
      expect(p.top).toHaveLength(3)
      expect(p.top[0]?.label).toBe(p.label)
      const probabilities = p.top.map((t) => t.probability)
      expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities)
      expect(probabilities.reduce((a, b) => a + b)).toBeLessThanOrEqual(1 + 1e-6)
      for (const t of p.top) expect(t.probability).toBe(p.probabilities[t.label])
      expect(p.probabilities).toHaveLength(10)
    }
  })

  it('rejects a file that is missing or not an image, naming it', async () => {
    await expect(model.predictFile(notAnImage)).rejects.toThrow(`${notAnImage}: not a PNG or JPEG image`)
    const missing = join(dir, 'missing.png')
    await expect(model.predictFile(missing)).rejects.toThrow(`${missing}: `)
  })

  it('CLI predict --json prints one line per file with the same labels', async () => {
    const r = await runCli(['predict', '--load', modelFile, '--json', ...lightOnDark, ...darkOnLight])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { file: string; label: number; top: unknown[]; inverted: boolean })
    expect(out.map((o) => o.file)).toEqual([...lightOnDark, ...darkOnLight])
    expect(Object.keys(out[0] ?? {})).toEqual(['file', 'label', 'top', 'inverted'])
    expect(out.map((o) => o.label)).toEqual([...light, ...light].map((p) => p.label))
    expect(correct(out.slice(COUNT))).toBeGreaterThanOrEqual(17)
    expect(out.map((o) => o.inverted)).toEqual([...Array(COUNT).fill(false), ...Array(COUNT).fill(true)])
  })

  it('CLI predict prints the label and the top 3, and notes an inversion', async () => {
    const r = await runCli(['predict', '--load', modelFile, lightOnDark[0] as string, darkOnLight[0] as string])
    expect(r.code).toBe(0)
    const [first, second] = lines(r.stdout)
    const label = light[0]?.label
    expect(first).toMatch(new RegExp(`^${lightOnDark[0]}: ${label}  \\(${label} \\d+\\.\\d%, \\d \\d+\\.\\d%, \\d \\d+\\.\\d%\\)$`))
    expect(second).toMatch(new RegExp(`^${darkOnLight[0]}: ${label}  \\(.*\\)  \\[inverted: dark digit on light background\\]$`))
  })

  it('CLI reports a bad file as "error: <file>: <reason>", still classifies the others, and exits 1', async () => {
    const missing = join(dir, 'missing.png')
    const r = await runCli(['predict', '--load', modelFile, '--json', notAnImage, lightOnDark[0] as string, missing])
    expect(r.code).toBe(1)
    expect(lines(r.stdout)).toHaveLength(1)
    const errors = lines(r.stderr)
    expect(errors[0]).toBe(`error: ${notAnImage}: not a PNG or JPEG image`)
    expect(errors[1]).toMatch(new RegExp(`^error: ${missing}: No such file or directory`))
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
  })

  it('CLI needs --load and an image (usage errors exit 2); a bad model file exits 1', async () => {
    expect((await runCli(['predict', lightOnDark[0] as string])).code).toBe(2)
    expect((await runCli(['predict', '--load', modelFile])).code).toBe(2)
    const badModel = await runCli(['predict', '--load', notAnImage, lightOnDark[0] as string])
    expect(badModel.code).toBe(1)
    expect(badModel.stderr).toMatch(new RegExp(`^error: ${notAnImage}: `))
  })
})
