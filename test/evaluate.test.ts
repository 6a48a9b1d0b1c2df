/**
 * Evaluation in detail: `evaluate(dataset, { confusion: true })`, the `test`
 * command (text, JSON, report) and `train --report`, whose page is opened
 * in headless Chromium.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DetailedEvaluation, createModel, loadMnist } from '../dist/index.js'
import { renderFile } from './browsers.js'
import { STACK_OR_PANIC, lines, runCli } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'googlenet-evaluate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const MODEL = join(dir, 'model.safetensors')

/** Checks a detailed evaluation against the labels it was made on. */
function expectConsistent(e: Omit<DetailedEvaluation, 'predictions'>, labels: Uint8Array): void {
  expect(e.confusion).toHaveLength(10)
  const counts = new Array<number>(10).fill(0)
  for (const label of labels) counts[label] += 1
  e.confusion.forEach((row, label) => {
    expect(row).toHaveLength(10)
    expect(row.reduce((a, b) => a + b, 0)).toBe(counts[label])
    expect(e.perClass[label]).toEqual({
      label,
      name: String(label),
      correct: row[label],
      total: counts[label],
      accuracy: counts[label] === 0 ? 0 : (row[label] ?? 0) / (counts[label] ?? 1),
    })
  })
  expect(e.confusion.reduce((sum, row, i) => sum + (row[i] ?? 0), 0)).toBe(e.correct)
  expect(e.total).toBe(labels.length)
}

describe('evaluate with confusion', () => {
  beforeAll(async () => {
    const { train, test } = await loadMnist()
    const model = createModel('googlenet', { seed: 1 })
    await model.fit(train.take(6400), { epochs: 1, validation: test.take(500) })
    await model.save(MODEL)
  })

  it('returns per-class accuracy, a confusion matrix and every prediction, consistent with predict()', async () => {
    const { test } = await loadMnist()
    const data = test.take(1000)
    const model = createModel('lenet5', { seed: 3 })
    const { train } = await loadMnist()
    await model.fit(train.take(2000), { epochs: 1 })
    const e = await model.evaluate(data, { confusion: true })
    expectConsistent(e, data.labels())
    expect(e.predictions).toHaveLength(1000)
    const pixels = new Uint8Array(1000 * 784)
    for (let i = 0; i < 1000; i++) pixels.set(data.image(i), i * 784)
    expect([...(await model.predict(pixels)).labels]).toEqual([...e.predictions])
    const plain = await model.evaluate(data)
    expect(plain).toEqual({ accuracy: e.accuracy, correct: e.correct, total: e.total, loss: plain.loss })
    expect(plain).not.toHaveProperty('confusion')
  })

  it('test --json prints one object with accuracy, per-class results and the confusion matrix', async () => {
    const r = await runCli(['test', '--load', MODEL, '--test-limit', '2000', '--json'])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(1)
    const e = JSON.parse(out[0] ?? '') as Omit<DetailedEvaluation, 'predictions'>
    expect(Object.keys(e).sort()).toEqual(['accuracy', 'classNames', 'confusion', 'correct', 'loss', 'perClass', 'total'])
    const { test } = await loadMnist()
    expectConsistent(e, test.take(2000).labels())
    expect(e.accuracy).toBeGreaterThan(0.6)
  })

  it('test prints the accuracy, a per-class table and the matrix, and writes a report', async () => {
    const report = join(dir, 'test.html')
    const r = await runCli(['test', '--load', MODEL, '--test-limit', '500', '--report', report])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^test accuracy \d+\.\d\d % \[\d+\/500\], mean loss \d\.\d{4}$/m)
    expect(r.stdout).toMatch(/^class +correct +total +accuracy$/m)
    expect(r.stdout).toMatch(/^confusion matrix \(rows: true class, columns: predicted, by index\)$/m)
    expect(r.stdout).toMatch(/^true\\pred +0 +1 +2 +3 +4 +5 +6 +7 +8 +9$/m)
    expect(r.stderr).toBe(`wrote the report to ${report}\n`)
    const html = readFileSync(report, 'utf8')
    expect(html).toContain('id="confusion"')
    expect(html).not.toContain('id="loss"')
  })

  it('test refuses a missing --load or a bad model file', async () => {
    const none = await runCli(['test'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/test needs --load <file>/)
    const bad = await runCli(['test', '--load', join(dir, 'missing.safetensors')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/missing\.safetensors/)
    expect(bad.stderr).not.toMatch(STACK_OR_PANIC)
  })
})

describe('train --report', () => {
  it('writes a self-contained page that renders in Chromium with every chart', async () => {
    const report = join(dir, 'train.html')
    const r = await runCli(['train', '--limit', '3200', '--test-limit', '1000', '--epochs', '2', '--quiet', '--report', report])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`wrote the report to ${report}\n`)
    expect(existsSync(report)).toBe(true)
    const html = readFileSync(report, 'utf8')
    for (const id of ['run', 'loss', 'accuracy', 'confusion', 'misclassified']) expect(html).toContain(`id="${id}"`)
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
    const page = await renderFile(report)
    expect(page.problems).toEqual([])
    expect(page.title).toBe('googlenet on MNIST')
    expect(page.svgs.filter(([w, h]) => w > 300 && h > 200).length).toBeGreaterThanOrEqual(3)
    expect(page.images.length).toBeGreaterThan(0)
    expect(page.images.every(([complete, w, h]) => complete && w === 28 && h === 28)).toBe(true)
    expect(page.screenshot.colours).toBeGreaterThan(100)
    expect(page.screenshot.inked).toBeGreaterThan(0.02)
  })
})
