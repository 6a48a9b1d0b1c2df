import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dataset, type ReportInput, type ReportLossWindow, createModel, renderReport, writeReport } from '../dist/index.js'
import { renderFile } from './browsers.js'
import { PIXELS, mnistSample } from './helpers.js'

type Evaluation = ReportInput['evaluation']

const CLASSES = 10
const TRAIN_IMAGES = 3000
const TEST_IMAGES = 1000
const MAX_DIGITS = 60

/** Accuracy, loss, per-class accuracy and confusion matrix from the model's predictions. */
function evaluationOf(labels: Uint8Array, predictions: Uint8Array, probabilities: Float32Array): Evaluation {
  const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0))
  let loss = 0
  labels.forEach((label, i) => {
    confusion[label][predictions[i]]++
    loss -= Math.log(Math.max(probabilities[i * CLASSES + label], 1e-12))
  })
  const perClass = confusion.map((row, label) => {
    const total = row.reduce((a, b) => a + b, 0)
    return { label, name: String(label), correct: row[label], total, accuracy: total === 0 ? 0 : row[label] / total }
  })
  const correct = perClass.reduce((sum, c) => sum + c.correct, 0)
  const classNames = perClass.map((c) => c.name)
  return { accuracy: correct / labels.length, correct, total: labels.length, loss: loss / labels.length, perClass, classNames, confusion, predictions }
}

/** The first `max` misclassified images, with their pixels and the predicted class's probability. */
function misclassifiedOf(
  images: Uint8Array,
  labels: Uint8Array,
  predictions: Uint8Array,
  probabilities: Float32Array,
  max: number,
): ReportInput['misclassified'] {
  const digits: ReportInput['misclassified'] = []
  for (let i = 0; i < labels.length && digits.length < max; i++) {
    if (predictions[i] === labels[i]) continue
    digits.push({
      index: i,
      label: labels[i],
      predicted: predictions[i],
      probability: probabilities[i * CLASSES + predictions[i]],
      pixels: images.slice(i * PIXELS, (i + 1) * PIXELS),
      width: 28,
      height: 28,
    })
  }
  return digits
}

/** Data URIs hold arbitrary base64, which may spell "NaN" by chance: text checks skip them. */
function withoutDataUris(html: string): string {
  return html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:')
}

/** Checks that hold for every report: complete document, no script, nothing external, no broken numbers. */
function expectSelfContained(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
  expect(html.trimEnd().endsWith('</html>')).toBe(true)
  expect(html).not.toMatch(/<script/i)
  expect(html).not.toMatch(/<link|@import|@font-face/i)
  // The only URL is the SVG namespace, which names and fetches nothing.
  expect(new Set(html.match(/https?:\/\/[^"'\s<>]*/g) ?? [])).toEqual(new Set(['http://www.w3.org/2000/svg']))
  expect(html).not.toMatch(/\bsrc="(?!data:image\/png;base64,)/)
  expect(html).not.toMatch(/url\((?!#)/)
  expect(withoutDataUris(html)).not.toMatch(/NaN|Infinity|undefined|\[object /)
}

/** The ids of the page's sections, in order. */
function sectionIds(html: string): string[] {
  return [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1])
}

describe('report of a real training run', () => {
  let input: ReportInput
  let html: string
  let dir: string
  let file: string
  let errors: number

  beforeAll(async () => {
    const train = mnistSample(TRAIN_IMAGES, 'train')
    const test = mnistSample(TEST_IMAGES, 't10k')
    const model = createModel('lenet5', { seed: 0, device: 'cpu' })
    const lossWindows: ReportLossWindow[] = []
    const history = await model.fit(Dataset.fromArrays(train.images, train.labels), {
      epochs: 2,
      logEvery: 10,
      validation: Dataset.fromArrays(test.images, test.labels),
      onProgress: (event) => {
        if (event.type === 'window') lossWindows.push({ epoch: event.epoch, batch: event.batch, batches: event.batches, loss: event.loss })
      },
    })
    const started = performance.now()
    const { labels: predictions, probabilities } = await model.predict(test.images)
    const evaluation = evaluationOf(test.labels, predictions, probabilities)
    errors = evaluation.total - evaluation.correct
    input = {
      title: 'lenet5 on MNIST <&> "report"',
      generatedAt: new Date(),
      config: {
        model: model.name,
        device: model.device,
        epochs: 2,
        'batch size': 64,
        'training images': TRAIN_IMAGES,
        'test images': TEST_IMAGES,
      },
      timings: { total: history.seconds, evaluation: (performance.now() - started) / 1000 },
      lossWindows,
      epochs: history.epochs,
      evaluation,
      misclassified: misclassifiedOf(test.images, test.labels, predictions, probabilities, MAX_DIGITS),
    }
    dir = mkdtempSync(join(tmpdir(), 'googlenet-native-report-'))
    file = join(dir, 'report.html')
    await writeReport(file, input)
    html = readFileSync(file, 'utf8')
  })

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('trained for real: several loss windows, an accuracy per epoch, some mistakes to show', () => {
    expect(input.lossWindows?.length).toBeGreaterThanOrEqual(8)
    expect(input.epochs?.map((e) => e.epoch)).toEqual([1, 2])
    expect(input.evaluation.accuracy).toBeGreaterThan(0.5)
    expect(errors).toBeGreaterThan(0)
  })

  it('writes the rendered page atomically, leaving no temporary file', () => {
    expect(html).toBe(renderReport(input))
    expect(readdirSync(dir)).toEqual(['report.html'])
  })

  it('is one self-contained page with every section', () => {
    expectSelfContained(html)
    expect(sectionIds(html)).toEqual(['run', 'loss', 'accuracy', 'confusion', 'misclassified'])
    expect(html.match(/<svg/g)).toHaveLength(3)
    expect(html).toContain('<meta http-equiv="Content-Security-Policy"')
  })

  it('escapes the title', () => {
    expect(html).toContain('<title>lenet5 on MNIST &lt;&amp;&gt; &quot;report&quot;</title>')
    expect(html).toContain('<h1>lenet5 on MNIST &lt;&amp;&gt; &quot;report&quot;</h1>')
    expect(html).not.toContain('<&>')
  })

  it('shows the headline accuracy, configuration and timings', () => {
    const percent = `${(100 * input.evaluation.accuracy).toFixed(2)} %`
    expect(html).toContain(`<strong>${percent}</strong>`)
    expect(html).toContain('<th scope="row">training images</th><td>3000</td>')
    expect(html).toContain('<th scope="row">model</th><td>lenet5</td>')
    expect(html).toMatch(/<th scope="row">total<\/th><td>\d+\.\d+ s<\/td>/)
  })

  it('labels each epoch\'s accuracy point with its value', () => {
    for (const epoch of input.epochs ?? []) {
      expect(html).toContain(`>${(100 * (epoch.testAccuracy as number)).toFixed(2)}</text>`)
    }
  })

  it('writes every confusion count in its cell; they add up to the test set', () => {
    const counts = [...html.matchAll(/<text class="cell-count"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]))
    expect(counts).toEqual(input.evaluation.confusion.flat())
    expect(counts.reduce((a, b) => a + b, 0)).toBe(TEST_IMAGES)
  })

  it('shows the misclassified digits as PNG images captioned with true and predicted class', () => {
    const shown = Math.min(errors, MAX_DIGITS)
    expect(html.match(/<figure class="digit">/g)).toHaveLength(shown)
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(shown)
    for (const digit of input.misclassified) {
      expect(html).toContain(`<figcaption>true ${digit.label} → predicted ${digit.predicted}<span class="probability">p = `)
    }
    expect(html).toContain(`${shown} of ${errors} misclassified test images`)
  })

  it('renders in headless Chromium: no errors, no requests, three visible charts, a screenshot that is not blank', async () => {
    const page = await renderFile(file)
    expect(page.problems).toEqual([])
    expect(page.title).toBe(input.title)
    expect(page.svgs.length).toBeGreaterThanOrEqual(3)
    for (const [width, height] of page.svgs) {
      expect(width).toBeGreaterThan(300)
      expect(height).toBeGreaterThan(200)
    }
    expect(page.images).toHaveLength(input.misclassified.length)
    expect(page.images.every(([complete, width, height]) => complete && width === 28 && height === 28)).toBe(true)
    expect(page.screenshot.width).toBe(1100)
    expect(page.screenshot.height).toBeGreaterThan(1500)
    expect(page.screenshot.colours).toBeGreaterThan(100)
    expect(page.screenshot.inked).toBeGreaterThan(0.02)
  })
})

describe('report of degenerate runs', () => {
  /** A small, perfectly plausible evaluation: 20 images, 2 mistakes. */
  function evaluation(): Evaluation {
    const labels = Uint8Array.from({ length: 20 }, (_, i) => i % CLASSES)
    const predictions = Uint8Array.from(labels, (label, i) => (i < 2 ? (label + 1) % CLASSES : label))
    const probabilities = new Float32Array(20 * CLASSES).fill(0.1)
    return evaluationOf(labels, predictions, probabilities)
  }

  const epoch = {
    epoch: 1,
    loss: 0.5,
    seconds: 1.5,
    trainImagesPerSec: 2000,
    testAccuracy: 0.9,
    testCorrect: 18,
    testTotal: 20,
    testLoss: 0.4,
    evalSeconds: 0.01,
  }
  const base: ReportInput = { title: 'degenerate', config: { model: 'lenet5' }, evaluation: evaluation(), misclassified: [] }

  it('one epoch with one window: one marked point per chart, no NaN', () => {
    const html = renderReport({ ...base, lossWindows: [{ epoch: 1, batch: 3, batches: 3, loss: 1.2 }], epochs: [epoch] })
    expectSelfContained(html)
    expect(html.match(/<svg/g)).toHaveLength(3)
    expect(html).toContain('>90.00</text>')
    expect(html.match(/<circle/g)).toHaveLength(3) // the window, the test loss, the accuracy
  })

  it('a loss falling more than tenfold gets a log axis, with round ticks', () => {
    const windows = [2.3, 0.4, 0.08].map((loss, i) => ({ epoch: 1, batch: i + 1, batches: 3, loss }))
    const html = renderReport({ ...base, lossWindows: windows })
    expectSelfContained(html)
    expect(html).toContain('cross-entropy loss (log scale)')
    for (const tick of ['0.05', '0.1', '0.2', '0.5', '1', '2', '5']) expect(html).toContain(`>${tick}</text>`)
  })

  it('no loss windows: a note instead of the loss curve', () => {
    const html = renderReport({ ...base, lossWindows: [], epochs: [{ ...epoch, testLoss: undefined }] })
    expectSelfContained(html)
    expect(html).toContain('No running-loss windows were recorded')
    expect(html.match(/<svg/g)).toHaveLength(2)
  })

  it('a diverged run: non-finite losses are left out and counted', () => {
    const windows = [1, 2, 3].map((batch) => ({ epoch: 1, batch, batches: 3, loss: batch === 3 ? Number.NaN : 2 }))
    const diverged = { ...epoch, loss: Number.NaN, testLoss: Number.NaN, testAccuracy: 0.1 }
    const html = renderReport({ ...base, lossWindows: windows, epochs: [diverged] })
    expectSelfContained(html)
    expect(html).toContain('1 window with a non-finite loss left out.')
  })

  it('a test run: no training charts, and a note when there are no mistakes to show', () => {
    const perfect = evaluationOf(Uint8Array.of(1, 2), Uint8Array.of(1, 2), new Float32Array(2 * CLASSES).fill(0.1))
    const html = renderReport({ ...base, evaluation: perfect })
    expectSelfContained(html)
    expect(sectionIds(html)).toEqual(['run', 'confusion', 'misclassified'])
    expect(html).toContain('Every test image was classified correctly.')
    expect(html).toContain('<strong>100.00 %</strong>')
  })

  it('mistakes the caller did not pass are counted, not drawn', () => {
    const html = renderReport(base)
    expect(html).toContain('2 test images misclassified; none were passed to the report.')
  })

  it('escapes configuration keys and values', () => {
    const html = renderReport({ ...base, config: { '<key>': 'a & b', flag: true, size: 60000 } })
    expect(html).toContain('<th scope="row">&lt;key&gt;</th><td>a &amp; b</td>')
    expect(html).toContain('<th scope="row">flag</th><td>yes</td>')
    expect(html).toContain('<th scope="row">size</th><td>60,000</td>')
  })

  it('writes atomically: a refused target (a folder) is left alone with no temporary file, a second write replaces the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-native-report-'))
    try {
      mkdirSync(join(dir, 'taken'))
      await expect(writeReport(join(dir, 'taken'), base)).rejects.toThrow(/taken: is a directory, not a regular file: refusing to replace it$/)
      expect(readdirSync(dir)).toEqual(['taken'])
      await writeReport(join(dir, 'report.html'), base)
      await writeReport(join(dir, 'report.html'), { ...base, title: 'second' })
      expect(readdirSync(dir).sort()).toEqual(['report.html', 'taken'])
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<h1>second</h1>')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
