/**
 * The page of `googlenet-native serve` in real browsers (Debian's Chromium
 * and Firefox ESR, headless, driven by puppeteer-core), each in turn: a
 * real MNIST "7" drawn
 * stroke by stroke with the mouse is classified as 7 while it is drawn; a
 * googlenet trained in the tab for one epoch on 2,000 images passes 0.6 on
 * 1,000 test images, and the file it downloads is one `test --load` reads;
 * a run can be stopped; a ResNet trains at a depth other than its default
 * and a description of one's own (a JSON file) trains, downloads and draws,
 * while a depth or a description the CLI refuses is refused with the CLI's
 * message; nothing is requested from anywhere but the local
 * server, and nothing is logged as an error. SERVE_SCREENSHOT=file.png keeps
 * Chromium's screenshot (docs/browser.md's).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Model, type ModelDescription, createModel, modelCatalog } from '../dist/index.js'
import { BROWSERS, type BrowserName, browserTitle, launchBrowser } from './browsers.js'
import { MNIST_DIR, runCli, runMain } from './helpers.js'
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
async function fillForm(page: Page, fields: Record<string, number | string>): Promise<void> {
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

/** The smallest run: 2 batches of 32, tested on 32 images. */
const TINY_RUN = { 'train-count': 64, 'test-count': 32, epochs: 1, 'batch-size': 32 }

/** A small model of one's own, as a description file holds it: MNIST's (1×28×28 in, 10 class scores) unless told. */
function ownNet(name: string, { classes = 10, channels = 1 } = {}): ModelDescription {
  return {
    format: 'googlenet-native/model',
    version: 1,
    name,
    input: [channels, 28, 28],
    layers: [
      { type: 'conv2d', name: 'conv1', outChannels: 4, kernel: 5 },
      { type: 'relu' },
      { type: 'maxPool', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', name: 'fc', outFeatures: classes },
    ],
  }
}
const OWN_NET = ownNet('tab-net')

/** The line the CLI prints (`error: --depth: …`) for `args`, exit status 2. */
async function cliRefusal(args: string[]): Promise<string> {
  const r = await runMain(args)
  expect(r.code).toBe(2)
  return r.stderr.trim()
}

/** Drops a file holding `content` on the training panel, as a file dragged from the desktop is. */
async function dropFile(page: Page, name: string, content: string): Promise<void> {
  await page.evaluate(`(() => {
    const transfer = new DataTransfer()
    transfer.items.add(new File([${JSON.stringify(content)}], ${JSON.stringify(name)}, { type: 'application/json' }))
    document.getElementById('train-panel').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  })()`)
}

/** Chooses file `path` with the description's file field. */
async function chooseFile(page: Page, path: string): Promise<void> {
  const input = await page.$('#description-file')
  if (!input) throw new Error('no description file field on the page')
  await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(path)
}

/** Waits until the engine has checked description file `fileName` and returns the panel's state: ready or refused. */
async function described(page: Page, fileName: string): Promise<string> {
  const about = `document.getElementById('model-about')`
  await page.waitForFunction(`['ready', 'refused'].includes(${about}.dataset.state) && ${about}.textContent.includes(${JSON.stringify(fileName)})`, {
    timeout: 60_000,
  })
  return (await data(page, '#model-about', 'state')) ?? ''
}

const hidden = (page: Page, selector: string): Promise<boolean> => page.$eval(selector, (e) => (e as unknown as { hidden: boolean }).hidden)

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
    // The training panel offers the zoo's models that take MNIST's images, googlenet first chosen, then a description of one's own (value '').
    const choices = await page.$$eval('#model option', (options) => options.map((o) => (o as unknown as { value: string }).value))
    expect(choices).toEqual([...modelCatalog().filter((m) => m.height === 28 && m.width === 28 && m.channels === 1).map((m) => m.name), ''])
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

  it('trains a ResNet at a depth other than its default, and refuses a depth the CLI refuses with its message', async () => {
    const resnet = modelCatalog().find((m) => m.depth !== null && m.height === 28 && m.width === 28 && m.channels === 1)
    if (!resnet?.depth) throw new Error('the catalog has no ResNet for MNIST')
    // The field is there for the models that take a depth only.
    expect(await hidden(page, '#depth-field')).toBe(true)
    await page.select('#model', resnet.name)
    expect(await hidden(page, '#depth-field')).toBe(false)
    expect(await page.$eval('#depth', (i) => (i as unknown as { value: string }).value)).toBe(String(resnet.depth.default))
    expect(await text(page, '#model-about')).toContain(`${resnet.depth.min} to ${resnet.depth.max} (default ${resnet.depth.default})`)

    await fillForm(page, TINY_RUN)
    for (const depth of [String(resnet.depth.max + 1), '0', 'two', '']) {
      await fillForm(page, { depth })
      await page.click('#train')
      expect(await trainingEnd(page)).toBe('failed')
      // The CLI's line, the field's name for the flag's: "--depth: ResNet depth must be …" is "depth: ResNet depth must be …".
      const cli = await cliRefusal(['train', '--model', resnet.name, '--depth', depth])
      expect(`error: --${(await text(page, '#train-status')).replace(/^Training refused: /, '')}`).toBe(cli)
      expect(await page.$eval('#depth', (i) => i.getAttribute('aria-invalid'))).toBe('true')
    }

    const depth = resnet.depth.default + 1
    await fillForm(page, { depth })
    await page.click('#train')
    expect(await trainingEnd(page)).toBe('done')
    const trained = await Model.fromBytes(await download(page))
    expect([trained.name, trained.depth, trained.epochsTrained]).toEqual([resnet.name, depth, 1])
    expect(trained.paramCount).toBe(createModel(resnet.name, { depth }).paramCount)
  })

  it("trains a description of one's own, chosen with the file field; test --load reads its download, and it draws", async () => {
    await page.select('#model', '')
    expect([await hidden(page, '#depth-field'), await hidden(page, '#description-field')]).toEqual([true, false])
    const file = join(dir, 'tab-net.json')
    writeFileSync(file, JSON.stringify(OWN_NET))
    await chooseFile(page, file)
    expect(await described(page, 'tab-net.json')).toBe('ready')
    const params = createModel(OWN_NET).paramCount
    expect(await text(page, '#model-about')).toMatch(new RegExp(`^tab-net, from tab-net\\.json: ${params.toLocaleString('en-US')} parameters, 10 class scores\\.`))

    await fillForm(page, TINY_RUN)
    await page.click('#train')
    expect(await trainingEnd(page)).toBe('done')
    expect(await page.$eval('#download', (a) => (a as unknown as { download: string }).download)).toBe('tab-net-tab.safetensors')
    const saved = join(dir, 'tab-net.safetensors')
    writeFileSync(saved, await download(page))
    // The file carries the description: the CLI needs nothing else to load it.
    const r = await runCli(['test', '--load', saved, '--test-limit', '32', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { total: number }).total).toBe(32)
    expect((await Model.load(saved)).description).toEqual(OWN_NET)

    await page.click('#use-trained')
    await page.waitForFunction(`document.getElementById('model-name').textContent.startsWith('tab-net (${params.toLocaleString('en-US')} parameters')`)
  })

  it("refuses a description the CLI refuses, dropped on the panel or chosen, with the engine's message, and trains nothing", async () => {
    // Bad JSON, dropped while a zoo model is chosen: the panel turns to it, and refuses it with the CLI's message for the file.
    await page.select('#model', 'googlenet')
    const badJson = '{"format": "googlenet-native/model", '
    await dropFile(page, 'bad.json', badJson)
    expect(await page.$eval('#model', (s) => (s as unknown as { value: string }).value)).toBe('')
    expect(await described(page, 'bad.json')).toBe('refused')
    writeFileSync(join(dir, 'bad.json'), badJson)
    const cli = await cliRefusal(['train', '--model-file', join(dir, 'bad.json')])
    expect(`error: --model-file ${join(dir, 'bad.json')}: ${(await text(page, '#model-about')).replace(/^bad\.json: /, '')}`).toBe(cli)
    expect(await page.$eval('#description-file', (i) => i.getAttribute('aria-invalid'))).toBe('true')
    await page.click('#train')
    expect(await trainingEnd(page)).toBe('failed')
    expect(await text(page, '#train-status')).toBe(`Training refused: ${await text(page, '#model-about')}`)

    // Three class scores: a description the core takes, which MNIST's ten labels do not fit, refused at Train.
    const three = join(dir, 'three.json')
    writeFileSync(three, JSON.stringify(ownNet('three', { classes: 3 })))
    await chooseFile(page, three)
    expect(await described(page, 'three.json')).toBe('ready')
    await page.click('#train')
    expect(await trainingEnd(page)).toBe('failed')
    expect(await text(page, '#train-status')).toMatch(/^Training refused: three\.json: model "three" gives 3 class scores \(labels 0\.\.2\), but the training set .*has label 9: its last layer needs at least 10 outputs$/)
    expect(await data(page, '#model-about', 'state')).toBe('refused')

    // Colour images: refused when chosen, as the tab's digits are grey 28×28.
    const colour = join(dir, 'colour.json')
    writeFileSync(colour, JSON.stringify(ownNet('colour', { channels: 3 })))
    await chooseFile(page, colour)
    expect(await described(page, 'colour.json')).toBe('refused')
    expect(await text(page, '#model-about')).toBe('colour.json: model "colour" takes colour (3 channels) images; the images are greyscale (1 channel)')
  })

  it('asked nothing of anyone but the local server, and logged no error', () => {
    expect(problems).toEqual([])
  })
})
