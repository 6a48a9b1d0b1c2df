// Training speed in a browser tab: starts `serve`, opens its page in
// Debian's Chromium (headless, puppeteer-core), trains one epoch there and
// prints one JSON line with the page's own epoch time. Not a test (the
// machine's load decides the figure); compare it with the same run under
// Node, as docs/browser.md does:
//
//   npm run build && npm run build:wasm      # the addon, dist/, the WebAssembly build and the page
//   node scripts/bench-tab.mjs [images=10000] [epochs=1]
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer from 'puppeteer-core'

const root = fileURLToPath(new URL('..', import.meta.url))
const [images = 10000, epochs = 1] = process.argv.slice(2).map(Number)
const chromium = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find((file) => existsSync(file))
if (!chromium) {
  console.error("chromium is not on PATH (Debian's chromium package)")
  process.exit(2)
}

const server = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
const url = await new Promise((resolve, reject) => {
  let out = ''
  server.stdout.on('data', (chunk) => {
    out += chunk
    const found = /http:\/\/\S+\//.exec(out)?.[0]
    if (found) resolve(found)
  })
  server.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
})
const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
try {
  const page = await browser.newPage()
  await page.goto(url, { waitUntil: 'load' })
  await page.waitForFunction('document.body.dataset.model !== undefined', { timeout: 120_000 })
  await page.evaluate(`(() => {
    for (const [id, value] of [['train-count', ${images}], ['test-count', 1000], ['epochs', ${epochs}]]) document.getElementById(id).value = String(value)
  })()`)
  await page.click('#train')
  await page.waitForFunction(`['done', 'stopped', 'failed'].includes(document.getElementById('train-status').dataset.state)`, { timeout: 0 })
  const result = await page.evaluate(`(() => {
    const status = document.getElementById('train-status')
    return { state: status.dataset.state, epochSeconds: Number(status.dataset.epochSeconds), testAccuracy: Number(status.dataset.accuracy), engine: document.getElementById('engine').textContent }
  })()`)
  if (result.state !== 'done') throw new Error(`training in the tab ended ${result.state}: ${await page.$eval('#train-status', (e) => e.textContent)}`)
  const threads = Number(/(\d+) threads?/.exec(result.engine)?.[1])
  console.log(
    JSON.stringify({
      browser: await browser.version(),
      threads,
      images,
      epochs,
      lastEpochSeconds: result.epochSeconds,
      trainImagesPerSec: images / result.epochSeconds,
      testAccuracy: result.testAccuracy,
    }),
  )
} finally {
  await browser.close()
  server.kill('SIGINT')
}
