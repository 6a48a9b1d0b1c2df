/**
 * Headless browsers for tests that check how a page renders or behaves:
 * Debian's `chromium` (over the DevTools protocol) and `firefox-esr` (over
 * WebDriver BiDi), both driven by puppeteer-core, which downloads no
 * browser of its own.
 */
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import puppeteer, { type Browser } from 'puppeteer-core'

/** The browsers the tests drive. */
export type BrowserName = 'chromium' | 'firefox'

/** Every browser the tests drive: the page of `serve` is tested in each. */
export const BROWSERS: readonly BrowserName[] = ['chromium', 'firefox']

/** What each is called on PATH, its name in test titles, and its Debian package. */
const KNOWN: Record<BrowserName, { executable: string; title: string; debian: string }> = {
  chromium: { executable: 'chromium', title: 'Chromium', debian: 'chromium' },
  firefox: { executable: 'firefox-esr', title: 'Firefox', debian: 'firefox-esr' },
}

/** The name of `name` in a test's title: "Chromium", "Firefox". */
export function browserTitle(name: BrowserName): string {
  return KNOWN[name].title
}

/**
 * The executable of `name` on PATH (`chromium`, `firefox-esr`). Missing is
 * an error, not a skip: CI installs both (.ci/run), so a test that quietly
 * did nothing would hide a broken setup.
 */
export function findBrowser(name: BrowserName): string {
  const { executable, debian } = KNOWN[name]
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, executable)
    if (dir !== '' && existsSync(candidate)) return candidate
  }
  throw new Error(
    `${executable} is not on PATH: install Debian's ${debian} package (apt-get install --no-install-recommends ${debian}), as .ci/run does`,
  )
}

/**
 * `name`, headless: Chromium with `--no-sandbox` (the tests run as root);
 * Firefox over WebDriver BiDi, the protocol puppeteer speaks to it.
 */
export function launchBrowser(name: BrowserName = 'chromium'): Promise<Browser> {
  const executablePath = findBrowser(name)
  if (name === 'firefox') return puppeteer.launch({ browser: 'firefox', protocol: 'webDriverBiDi', executablePath, headless: true })
  return puppeteer.launch({ browser: 'chrome', executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

/** What a screenshot holds, measured by decoding it on a canvas. */
export interface PixelStats {
  width: number
  height: number
  /** Distinct RGB colours. */
  colours: number
  /** Share of pixels clearly darker than the page background (text, lines, cells, digits). */
  inked: number
}

/**
 * Decodes a PNG in a blank page of `browser` and counts its colours and
 * dark pixels: a blank or single-colour screenshot has one or two colours
 * and no ink.
 */
export async function pixelStats(browser: Browser, png: Uint8Array): Promise<PixelStats> {
  const page = await browser.newPage()
  try {
    const base64 = Buffer.from(png).toString('base64')
    // A string, not a function: the test code is not compiled with the DOM's types.
    return (await page.evaluate(`(async () => {
      const image = new Image()
      image.src = 'data:image/png;base64,${base64}'
      await image.decode()
      const canvas = document.createElement('canvas')
      canvas.width = image.naturalWidth
      canvas.height = image.naturalHeight
      const context = canvas.getContext('2d')
      context.drawImage(image, 0, 0)
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data
      const colours = new Set()
      let inked = 0
      for (let i = 0; i < data.length; i += 4) {
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2])
        if (data[i] + data[i + 1] + data[i + 2] < 600) inked++
      }
      return { width: canvas.width, height: canvas.height, colours: colours.size, inked: inked / (data.length / 4) }
    })()`)) as PixelStats
  } finally {
    await page.close()
  }
}

/** How a page rendered: what went wrong, its title, its SVGs' and images' sizes, and its screenshot's pixels. */
export interface Rendering {
  /** Page errors, console errors, failed requests and any request besides the file and data URIs. */
  problems: string[]
  title: string
  /** [width, height] of every `<svg>`. */
  svgs: [number, number][]
  /** [loaded, naturalWidth, naturalHeight] of every `<img>`. */
  images: [boolean, number, number][]
  /** The full-page screenshot, 1100 pixels wide. */
  screenshot: PixelStats
}

/** Opens the HTML file `file` in headless Chromium and reports how it rendered. */
export async function renderFile(file: string): Promise<Rendering> {
  const browser = await launchBrowser('chromium')
  try {
    const page = await browser.newPage()
    const url = pathToFileURL(file).href
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
    })
    page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()}`))
    page.on('request', (request) => {
      if (request.url() !== url && !request.url().startsWith('data:')) problems.push(`request: ${request.url()}`)
    })
    await page.setViewport({ width: 1100, height: 900 })
    const response = await page.goto(url, { waitUntil: 'load' })
    if (!response?.ok()) problems.push(`loading ${url} failed`)
    // A string, not a function: the test code is not compiled with the DOM's types.
    const layout = (await page.evaluate(`({
      title: document.title,
      svgs: [...document.querySelectorAll('svg')].map((svg) => {
        const box = svg.getBoundingClientRect()
        return [box.width, box.height]
      }),
      images: [...document.images].map((image) => [image.complete, image.naturalWidth, image.naturalHeight]),
    })`)) as Omit<Rendering, 'problems' | 'screenshot'>
    const screenshot = await pixelStats(browser, await page.screenshot({ fullPage: true, type: 'png' }))
    return { problems, ...layout, screenshot }
  } finally {
    await browser.close()
  }
}
