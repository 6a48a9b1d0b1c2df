/** Headless Chromium for tests that check how a page renders: Debian's `chromium`, driven by puppeteer-core. */
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'

/**
 * The `chromium` executable on PATH. Missing is an error, not a skip: CI
 * installs it (.ci/run), so a rendering test that quietly did nothing
 * would hide a broken setup.
 */
export function findChromium(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'chromium')
    if (dir !== '' && existsSync(candidate)) return candidate
  }
  throw new Error(
    "chromium is not on PATH: install Debian's chromium package (apt-get install --no-install-recommends chromium), as .ci/run does",
  )
}

/** A headless Chromium; `--no-sandbox` because the tests run as root. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
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
