/**
 * The page of `googlenet-native serve` in real browsers (Debian's Chromium
 * and Firefox ESR, headless, driven by puppeteer-core), each in turn: a
 * real MNIST "7" drawn
 * stroke by stroke with the mouse is classified as 7 while it is drawn; a
 * googlenet trained in the tab for one epoch on 2,000 images passes 0.6 on
 * 1,000 test images, and the file it downloads is one `test --load` reads;
 * a run can be stopped; nothing is requested from anywhere but the local
 * server, and nothing is logged as an error. SERVE_SCREENSHOT=file.png keeps
 * Chromium's screenshot (docs/browser.md's).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Model, modelCatalog } from '../dist/index.js'
import { BROWSERS, type BrowserName, browserTitle, launchBrowser } from './browsers.js'
import { MNIST_DIR, runCli } from './helpers.js'
import { type Served, pageBuiltOrSkip, serve } from './serve-process.js'

/** The pad is 280 pixels square: 10 per MNIST pixel. */
const SCALE = 10

/** Draws `pixels` (28×28) on the pad: each run of ink along a row is one mouse stroke. */
async function drawDigit(page: Page, pixels: Uint8Array): Promise<number> {
  const pad = await page.$('#pad')
  const box = await pad?.boundingBox()
  if (!box) throw new Error('no drawing pad on the page')
  const at = (x: number, y: number): [number, number] => [box.x + x * SCALE + SCALE / 2, box.y + y * SCALE + SCALE / 2]
  let strokes = 0
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (pixels[y * 28 + x]! < 128) continue
      const start = x
      while (x + 1 < 28 && pixels[y * 28 + x + 1]! >= 128) x++
      await page.mouse.move(...at(start, y))
      await page.mouse.down()
      await page.mouse.move(...at(x, y), { steps: 4 })
      await page.mouse.up()
      strokes++
    }
  }
  return strokes
}

/** Sets the training form's fields. */
async function fillForm(page: Page, fields: Record<string, number>): Promise<void> {
  for (const [id, value] of Object.entries(fields)) {
    await page.$eval(`#${id}`, (input, v) => ((input as unknown as { value: string }).value = v), String(value))
  }
}

const text = (page: Page, selector: string): Promise<string> => page.$eval(selector, (e) => (e as unknown as { textContent: string }).textContent)
const data = (page: Page, selector: string, key: string): Promise<string | undefined> =>
  page.$eval(selector, (e, k) => (e as unknown as { dataset: Record<string, string> }).dataset[k], key)

/** The bytes behind the page's download link (a blob: URL). */
async function download(page: Page): Promise<Uint8Array> {
  const href = await page.$eval('#download', (a) => (a as unknown as { href: string }).href)
  expect(href).toMatch(/^blob:/)
  const base64 = (await page.evaluate(
    `fetch(${JSON.stringify(href)}).then((r) => r.arrayBuffer()).then((b) => { let s = ''; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); return btoa(s) })`,
  )) as string
  return Buffer.from(base64, 'base64')
}

/** Waits until training ends and returns its state (done, stopped or failed). */
async function trainingEnd(page: Page): Promise<string> {
  await page.waitForFunction(`['done', 'stopped', 'failed'].includes(document.getElementById('train-status').dataset.state)`, { timeout: 240_000 })
  return (await data(page, '#train-status', 'state')) ?? ''
}

/** Each browser the page is tested in: its name in the suite's title, and its name for launchBrowser. */
const IN_BROWSERS = BROWSERS.map((name) => [browserTitle(name), name] as const)

describe.skipIf(!pageBuiltOrSkip('test/serve-page.test.ts')).each(IN_BROWSERS)('the page of serve, in %s', (_title: string, name: BrowserName) => {
  let served: Served
  let browser: Browser
  let page: Page
  const problems: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-page-'))

  beforeAll(async () => {
    served = await serve()
    browser = await launchBrowser(name)
    page = await browser.newPage()
    await page.setViewport({ width: 1200, height: 820 })
    const origin = new URL(served.url).origin
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`))
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(`console ${message.type()}: ${message.text()}`)
    })
    page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()}`))
    page.on('request', (request) => {
      const url = request.url()
      if (new URL(url).origin !== origin && !url.startsWith('blob:') && !url.startsWith('data:')) problems.push(`request outside the server: ${url}`)
    })
    await page.goto(served.url, { waitUntil: 'load' })
    await page.waitForFunction(`document.body.dataset.model !== undefined`, { timeout: 60_000 })
  })
  afterAll(async () => {
    await browser?.close()
    await served?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('loads the engine and the bundled model', async () => {
    expect(await text(page, '#engine')).toMatch(/^Engine ready: the WebAssembly build of the Rust core, \d+ threads?\.$/)
    expect(await text(page, '#model-name')).toMatch(/^googlenet \(97,298 parameters, 98\.8 % on the MNIST test set after 10 epochs\), from googlenet-mnist\.safetensors$/)
    // The training panel offers the zoo's models that take MNIST's images, googlenet first chosen.
    const choices = await page.$$eval('#model option', (options) => options.map((o) => (o as unknown as { value: string }).value))
    expect(choices).toEqual(modelCatalog().filter((m) => m.height === 28 && m.width === 28 && m.channels === 1).map((m) => m.name))
    expect(await page.$eval('#model', (s) => (s as unknown as { value: string }).value)).toBe('googlenet')
    expect(await text(page, '#model-about')).not.toBe('')
  })

  it('classifies a real MNIST 7, drawn stroke by stroke with the mouse, as 7, updating as it is drawn', async () => {
    const images = readFileSync(join(MNIST_DIR, 't10k-images-idx3-ubyte'))
    const labels = readFileSync(join(MNIST_DIR, 't10k-labels-idx1-ubyte'))
    expect(labels[8]).toBe(7) // the first test digit
    const strokes = await drawDigit(page, new Uint8Array(images.subarray(16, 16 + 784)))
    await page.waitForFunction(`document.getElementById('top').dataset.current === 'true'`, { timeout: 60_000 })
    expect(await data(page, '#top', 'prediction')).toBe('7')
    const top = await page.$$eval('#top li', (items) => items.map((li) => (li as unknown as { dataset: { label: string } }).dataset.label))
    expect(top).toHaveLength(3)
    expect(top[0]).toBe('7')
    // Classified while it was drawn, not once at the end.
    expect(Number(await data(page, '#top', 'shown'))).toBeGreaterThan(1)
    expect(strokes).toBeGreaterThan(10)
  })

  it('trains one epoch on 2,000 images in the tab past 0.6 on 1,000 test images; the download is a model test --load reads', async () => {
    await fillForm(page, { 'train-count': 2000, 'test-count': 1000, epochs: 1 })
    await page.click('#train')
    expect(await trainingEnd(page)).toBe('done')
    const accuracy = Number(await data(page, '#train-status', 'accuracy'))
    expect(accuracy).toBeGreaterThan(0.6)
    expect(await text(page, '#train-status')).toBe(`Done after 1 epoch: test accuracy ${(100 * accuracy).toFixed(1)} %.`)
    if (process.env.SERVE_SCREENSHOT && name === 'chromium') writeFileSync(process.env.SERVE_SCREENSHOT, await page.screenshot({ type: 'png' }))

    const file = join(dir, 'tab.safetensors')
    writeFileSync(file, await download(page))
    const r = await runCli(['test', '--load', file, '--test-limit', '1000', '--json'])
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as { accuracy: number; total: number }
    expect(result.total).toBe(1000)
    // The native build evaluates what the WebAssembly build trained.
    expect(Math.abs(result.accuracy - accuracy)).toBeLessThanOrEqual(0.01)

    await page.click('#use-trained')
    await page.waitForFunction(`document.getElementById('model-name').textContent.includes('trained in this tab')`)
  })

  it('stops a run of another zoo model at the stop button, keeping the model as it stands', async () => {
    await page.select('#model', 'lenet5')
    await fillForm(page, { 'train-count': 60000, 'test-count': 1000, epochs: 3 })
    await page.click('#train')
    await page.waitForFunction(`document.getElementById('train-status').textContent.startsWith('Epoch 1, batch')`, { timeout: 120_000 })
    await page.click('#stop')
    expect(await trainingEnd(page)).toBe('stopped')
    expect(await text(page, '#train-status')).toBe('Stopped after 0 epochs: no epoch finished.')
    expect(await page.$eval('#download', (a) => (a as unknown as { hidden: boolean }).hidden)).toBe(false)
    const stopped = await Model.fromBytes(await download(page))
    expect([stopped.name, stopped.epochsTrained]).toEqual(['lenet5', 0])
  })

  it('asked nothing of anyone but the local server, and logged no error', () => {
    expect(problems).toEqual([])
  })
})
