import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FilePrediction, type Model, createModel, decodeDigitImage, loadMnist, readDigitImage } from '../dist/index.js'
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
/** Writes a `width × height` gray PNG whose pixel (x, y) is `gray(x, y)` (0..255) and returns its path. */
function writePng(name: string, width: number, height: number, gray: (x: number, y: number) => number): string {
  const file = join(dir, name)
  writeFileSync(file, encodeGrayPng(Uint8Array.from({ length: width * height }, (_, i) => gray(i % width, Math.floor(i / width))), width, height))
  return file
}
/** Pixel (x, y) of an MNIST digit; 0 outside it. */
const at = (pixels: Uint8Array, x: number, y: number): number => (x < 28 && y < 28 ? (pixels[y * 28 + x] ?? 0) : 0)
/** The MNIST digits 10 times enlarged, 280×280. */
const enlarged = digits.map((pixels, i) => writePng(`large-${i}.png`, 280, 280, (x, y) => at(pixels, Math.floor(x / 10), Math.floor(y / 10))))
/** The MNIST digits at their own size in the lower right of a 600×400 canvas: 20 pixels tall, 5 % of the width. */
const small = digits.map((pixels, i) => writePng(`small-${i}.png`, 600, 400, (x, y) => (x >= 560 && y >= 360 ? at(pixels, x - 560, y - 360) : 0)))

/** Images without a digit, and the start of the reason each gets. */
const specks = [[3, 17], [88, 5], [41, 62], [70, 90], [12, 77], [95, 40], [55, 8], [27, 45]]
const noDigit: [string, string][] = [
  [writePng('white.png', 40, 30, () => 255), 'the image is blank: nothing stands out from its background'],
  [writePng('black.png', 40, 30, () => 0), 'the image is blank: nothing stands out from its background'],
  [writePng('grey.png', 40, 30, () => 128), 'the image is blank: nothing stands out from its background'],
  [writePng('one-pixel.png', 28, 28, (x, y) => (x === 14 && y === 10 ? 255 : 0)), 'the marks are only 1×1 pixels, too small for a digit'],
  [writePng('specks.png', 100, 100, (x, y) => (specks.some(([sx, sy]) => sx === x && sy === y) ? 0 : 255)), 'only scattered specks: ink worth 8.0 pixels'],
  [writePng('gradient.png', 120, 90, (x) => 100 + Math.round((40 * x) / 119)), 'only faint shading: the marks average'],
]
const blank = noDigit[0]?.[0] as string

const notAnImage = join(dir, 'notes.png')
writeFileSync(notAnImage, 'not an image at all')
const modelFile = join(dir, 'lenet5.safetensors')

const correct = (predictions: readonly { label: number }[]): number => predictions.filter((p, i) => p.label === sample.labels[i]).length

type DigitPrediction = Extract<FilePrediction, { found: true }>
/** `p`, which must have found a digit. */
function found(p: FilePrediction): DigitPrediction {
  if (!p.found) throw new Error(`${p.file}: no digit found: ${p.reason}`)
  return p
}

describe('an image file named by a path relative to the working folder', () => {
  // The WebAssembly build resolved it against WASI's root, not the working folder (vitest's project `wasm` runs this there).
  it('is the file there, for readDigitImage and predictFile', async () => {
    const absolute = lightOnDark[0] as string
    const model = createModel('lenet5', { seed: 1 })
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      expect(await readDigitImage('digit-0.png')).toEqual(await readDigitImage(absolute))
      expect(await model.predictFile('digit-0.png')).toEqual({ ...(await model.predictFile(absolute)), file: 'digit-0.png' })
    } finally {
      process.chdir(cwd)
    }
  })
})

describe('predict on image files', () => {
  let model: Model
  let light: DigitPrediction[]
  beforeAll(async () => {
    // LeNet-5 trains on all of MNIST in seconds, and recognizes about 95 % of the test set after one epoch.
    const { train } = await loadMnist()
    model = createModel('lenet5', { seed: 1 })
    await model.fit(train, { epochs: 1 })
    await model.save(modelFile)
    light = []
    for (const file of lightOnDark) light.push(found(await model.predictFile(file)))
  })

  it('reads a PNG into a 28×28 MNIST-style digit', async () => {
    const d = await readDigitImage(lightOnDark[0] as string)
    expect([d.pixels.length, d.width, d.height, d.inverted]).toEqual([PIXELS, 28, 28, false])
    expect(Math.max(...d.pixels)).toBeLessThanOrEqual(1)
    expect(Math.min(...d.pixels)).toBe(0)
  })

  it('decodeDigitImage reads the bytes of a file as readDigitImage reads the file, with the same refusals', async () => {
    for (const file of [lightOnDark[0], darkOnLight[1], enlarged[2], small[3], noDigit[0]?.[0]] as string[]) {
      expect(await decodeDigitImage(readFileSync(file))).toEqual(await readDigitImage(file))
    }
    await expect(decodeDigitImage(new Uint8Array([1, 2, 3]))).rejects.toThrow('not a PNG or JPEG image')
    await expect(decodeDigitImage('digit.png' as unknown as Uint8Array)).rejects.toThrow(TypeError)
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
      const p = found(await model.predictFile(file))
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

  it('says when an image holds no digit, and why, instead of classifying it', async () => {
    for (const [file, reason] of noDigit) {
      const d = await readDigitImage(file)
      expect([d.found, d.reason?.startsWith(reason)], file).toEqual([false, true])
      expect(d.pixels.every((v) => v === 0)).toBe(true)
      expect(await model.predictFile(file)).toEqual({ file, found: false, reason: d.reason })
    }
    const digit = await readDigitImage(lightOnDark[0] as string)
    expect([digit.found, 'reason' in digit]).toEqual([true, false])
  })

  it('finds and recognizes enlarged digits and small digits on a large canvas', async () => {
    for (const files of [enlarged, small]) {
      const labels: number[] = []
      for (const file of files) labels.push(found(await model.predictFile(file)).label)
      expect(labels.filter((label, i) => label === light[i]?.label).length).toBeGreaterThanOrEqual(19)
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
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { file: string; found: boolean; label: number; top: unknown[]; inverted: boolean })
    expect(out.map((o) => o.file)).toEqual([...lightOnDark, ...darkOnLight])
    expect(Object.keys(out[0] ?? {})).toEqual(['file', 'found', 'label', 'name', 'top', 'inverted', 'fit'])
    expect(out.every((o) => (o as unknown as { fit: string }).fit === 'digit')).toBe(true)
    expect(out.every((o) => o.found)).toBe(true)
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

  it('CLI predict says in one line naming the file that an image holds no digit, still classifies the others, and exits 1', async () => {
    const r = await runCli(['predict', '--load', modelFile, blank, lightOnDark[0] as string])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toEqual([`error: ${blank}: no digit found: the image is blank: nothing stands out from its background`])
    expect(lines(r.stdout)).toEqual([expect.stringMatching(new RegExp(`^${lightOnDark[0]}: ${light[0]?.label}  `))])
    const alone = await runCli(['predict', '--load', modelFile, blank])
    expect([alone.code, alone.stdout, lines(alone.stderr).length]).toEqual([1, '', 1])
  })

  it('CLI predict --json writes {"file","found":false,"reason"} for an image without a digit, and exits 1', async () => {
    const r = await runCli(['predict', '--load', modelFile, '--json', ...noDigit.map(([file]) => file), lightOnDark[0] as string])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { file: string; found: boolean; reason?: string })
    expect(out.map((o) => o.found)).toEqual([...noDigit.map(() => false), true])
    for (const [i, [file, reason]] of noDigit.entries()) {
      expect(Object.keys(out[i] ?? {})).toEqual(['file', 'found', 'reason'])
      expect([out[i]?.file, out[i]?.reason?.startsWith(reason)]).toEqual([file, true])
    }
  })

  it('CLI needs --load and an image (usage errors exit 2); a bad model file exits 1', async () => {
    expect((await runCli(['predict', lightOnDark[0] as string])).code).toBe(2)
    expect((await runCli(['predict', '--load', modelFile])).code).toBe(2)
    const badModel = await runCli(['predict', '--load', notAnImage, lightOnDark[0] as string])
    expect(badModel.code).toBe(1)
    expect(badModel.stderr).toMatch(new RegExp(`^error: ${notAnImage}: `))
  })
})
