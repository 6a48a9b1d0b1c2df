// The multi-seed comparison report (`compare --seeds N`): page structure,
// escaping, the table, the test error curves with their bands, and how the
// page renders in headless Chromium. Made-up but realistic data: 5 models ×
// 10 epochs × 5 seeds, test errors between 0.5 and 3 %.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CompareReportInput, renderCompareReport, writeCompareReport } from '../src/report/compare-report.js'
import { type ChartSeries, lineChart } from '../src/report/line-chart.js'
import { renderFile } from './browsers.js'

const EPOCHS = 10
const SEEDS = 5
const HOSTILE = 'resnet-<script>alert(1)</script>'
const MODELS: readonly { name: string; final: number; spread: number }[] = [
  { name: 'googlenet', final: 0.0052, spread: 0.0004 },
  { name: 'lenet5', final: 0.0089, spread: 0.0007 },
  { name: 'residual', final: 0.0061, spread: 0.0005 },
  { name: 'resnet-original', final: 0.0058, spread: 0.0006 },
  { name: HOSTILE, final: 0.0071, spread: 0.0009 },
]

/** Mean test error falling from about 3 % after epoch 1 to `final` after the last, ± a spread that shrinks with it. */
function curves(): CompareReportInput['curves'] {
  return MODELS.map((m) => ({
    model: m.name,
    points: Array.from({ length: EPOCHS }, (_, i) => {
      const mean = m.final + (0.03 - m.final) * Math.exp(-i / 2)
      const sd = m.spread * (1 + 2 * Math.exp(-i / 2))
      return { epoch: i + 1, mean, low: mean - sd, high: mean + sd }
    }),
  }))
}

function input(): CompareReportInput {
  return {
    title: `5 models × ${SEEDS} seeds on MNIST <&> "compare"`,
    generatedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    subtitle: '25 of 25 runs',
    config: { epochs: EPOCHS, 'batch size': 64, lr: 0.01, 'training images': 60000, augment: false, threads: 16 },
    table: {
      header: ['model', 'params', 'test error (mean ± sd)', '95 % CI', 'Δ vs best', 'p (Welch)', 'notes'],
      rows: MODELS.map((m, i) => [
        m.name,
        (61_706 * (i + 1)).toLocaleString('en-US'),
        `${(100 * m.final).toFixed(2)} % ± ${(100 * m.spread).toFixed(2)}`,
        `[${(100 * (m.final - m.spread)).toFixed(2)} %, ${(100 * (m.final + m.spread)).toFixed(2)} %]`,
        i === 0 ? '–' : `+${(100 * (m.final - MODELS[0].final)).toFixed(2)} pp`,
        i === 0 ? '–' : i === 1 ? '< 0.001 *' : '0.21',
        i === 1 ? 'baseline <b>' : '',
      ]),
    },
    notes: [
      'Intervals are 95 % t-intervals over 5 seeds.',
      'p: Welch’s t-test against the best model; * marks p < 0.05 after Holm’s correction & <i>no</i> HTML.',
    ],
    curves: curves(),
    band: `mean ± 1 sd over ${SEEDS} seeds`,
    machines: ['AMD EPYC 9654 (avx512), 16 threads: 15 runs', 'Intel Xeon 8480+ (avx512), 16 threads: 10 runs'],
  }
}

/** Checks that hold for every page: complete document, no script, nothing external, no broken numbers. */
function expectSelfContained(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
  expect(html.trimEnd().endsWith('</html>')).toBe(true)
  expect(html).not.toMatch(/<script/i)
  expect(html).not.toMatch(/<link|@import|@font-face|\bsrc=|url\(/i)
  // The only URL is the SVG namespace (where there is a chart), which names and fetches nothing.
  for (const url of html.match(/https?:\/\/[^"'\s<>]*/g) ?? []) expect(url).toBe('http://www.w3.org/2000/svg')
  expect(html).not.toMatch(/NaN|Infinity|undefined|\[object /)
  expect(html).toContain(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
  )
}

/** The page's `<svg>` elements. */
function svgsOf(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? []
}

describe('comparison report', () => {
  const page = renderCompareReport(input())

  it('is one self-contained page with its three sections', () => {
    expectSelfContained(page)
    expect([...page.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1])).toEqual(['runs', 'comparison', 'curves'])
    expect(svgsOf(page)).toHaveLength(1)
  })

  it('escapes the title, and shows the subtitle and when it was generated', () => {
    const escaped = '5 models × 5 seeds on MNIST &lt;&amp;&gt; &quot;compare&quot;'
    expect(page).toContain(`<title>${escaped}</title>`)
    expect(page).toContain(`<h1>${escaped}</h1>`)
    expect(page).toContain('<p class="headline">25 of 25 runs</p>')
    expect(page).toContain('<p class="generated">generated 2025-01-02 03:04:05 UTC</p>')
    expect(renderCompareReport({ ...input(), generatedAt: undefined })).not.toContain('<p class="generated">')
  })

  it('escapes a model name everywhere it appears: table, legend, chart', () => {
    const name = 'resnet-&lt;script&gt;alert(1)&lt;/script&gt;'
    expect(page).toContain(`<th scope="row">${name}</th>`)
    expect(page).toMatch(new RegExp(`<text [^>]*>${name.replace(/[()]/g, '\\$&')}</text>`))
    expect(page).not.toContain('<script>')
    expect(page).toContain('baseline &lt;b&gt;')
  })

  it('lists the shared settings and the machines', () => {
    expect(page).toContain('<caption>Configuration</caption>')
    expect(page).toContain('<th scope="row">batch size</th><td>64</td>')
    expect(page).toContain('<th scope="row">training images</th><td>60,000</td>')
    expect(page).toContain('<th scope="row">augment</th><td>no</td>')
    expect(page).toContain('<caption>Machines</caption>')
    expect(page).toContain('<tr><td>AMD EPYC 9654 (avx512), 16 threads: 15 runs</td></tr>')
    expect(page).toContain('<tr><td>Intel Xeon 8480+ (avx512), 16 threads: 10 runs</td></tr>')
    const one = renderCompareReport({ ...input(), machines: ['one machine'] })
    expect(one).toContain('<caption>Machine</caption>')
    expect(renderCompareReport({ ...input(), machines: [] })).not.toContain('<caption>Machine')
  })

  it('writes the table: a header row, model names as row headers, numeric columns right-aligned', () => {
    const table = page.match(/<table class="comparison">[\s\S]*?<\/table>/)?.[0] ?? ''
    expect(table.match(/<tr>/g)).toHaveLength(1 + MODELS.length)
    expect(table).toContain(
      '<thead><tr><th scope="col">model</th><th scope="col" class="number">params</th>' +
        '<th scope="col" class="number">test error (mean ± sd)</th><th scope="col" class="number">95 % CI</th>' +
        '<th scope="col" class="number">Δ vs best</th><th scope="col" class="number">p (Welch)</th>' +
        '<th scope="col">notes</th></tr></thead>',
    )
    expect(table).toContain(
      '<tr><th scope="row">googlenet</th><td class="number">61,706</td><td class="number">0.52 % ± 0.04</td>' +
        '<td class="number">[0.48 %, 0.56 %]</td><td class="number">–</td><td class="number">–</td><td></td></tr>',
    )
    expect(table).toContain('<td class="number">&lt; 0.001 *</td>')
    expect(table).toContain('<td>baseline &lt;b&gt;</td>')
  })

  it('puts the notes under the table as paragraphs, escaped', () => {
    expect(page).toContain(
      '</table></div><div class="table-notes"><p>Intervals are 95 % t-intervals over 5 seeds.</p>' +
        '<p>p: Welch’s t-test against the best model; * marks p &lt; 0.05 after Holm’s correction &amp; &lt;i&gt;no&lt;/i&gt; HTML.</p></div>',
    )
    expect(renderCompareReport({ ...input(), notes: [] })).not.toContain('<div class="table-notes">')
  })

  it('refuses a row whose length is not the header\'s', () => {
    const bad = { ...input(), table: { header: ['model', 'error'], rows: [['a', '1 %'], ['b']] } }
    expect(() => renderCompareReport(bad)).toThrow('comparison table row 2 has 1 cells, its header 2')
  })

  it('draws one line, ten markers and one band per model, every band under every line, and says what the band is', () => {
    const chart = svgsOf(page)[0]
    const bands = chart.match(/<polygon [^>]*>/g) ?? []
    expect(bands).toHaveLength(MODELS.length)
    for (const band of bands) {
      expect(band).toMatch(/fill="#[0-9a-f]{6}" fill-opacity="0.18"\/>$/)
      expect(band).not.toContain('stroke')
      // Ten points along the high edge, ten back along the low edge.
      expect(band.match(/points="([^"]+)"/)?.[1].split(' ')).toHaveLength(2 * EPOCHS)
    }
    expect(new Set(bands.map((b) => b.match(/fill="([^"]+)"/)?.[1])).size).toBe(MODELS.length)
    const lines = chart.match(/<path [^>]*stroke-width="2"[^>]*>/g) ?? []
    expect(lines).toHaveLength(MODELS.length)
    expect(chart.match(/<circle/g)).toHaveLength(MODELS.length * EPOCHS)
    expect(chart.lastIndexOf('<polygon')).toBeLessThan(chart.indexOf('<path'))
    expect(page).toContain('<figcaption>Lines: mean test error after each epoch; shaded bands: mean ± 1 sd over 5 seeds.</figcaption>')
  })

  it('errors within a factor of 10 get a linear axis from 0 in percent, with an integer epoch axis', () => {
    const chart = svgsOf(page)[0]
    expect(chart).toContain('>test error (%)</text>')
    expect(chart).not.toContain('log scale')
    const yTicks = [...chart.matchAll(/<text x="56" [^>]*>([^<]+)<\/text>/g)].map((m) => m[1])
    expect(yTicks).toEqual(['0', '1', '2', '3', '4'])
    for (let epoch = 1; epoch <= EPOCHS; epoch++) expect(chart).toContain(`>${epoch}</text>`)
  })

  it('errors spanning more than a factor of 10 get a log axis with round ticks', () => {
    const falling = [{ model: 'net', points: [0.2, 0.05, 0.01, 0.002].map((e, i) => ({ epoch: i + 1, mean: e, low: e * 0.8, high: e * 1.2 })) }]
    const html = renderCompareReport({ ...input(), curves: falling })
    expectSelfContained(html)
    const chart = svgsOf(html)[0]
    expect(chart).toContain('>test error (%, log scale)</text>')
    for (const tick of ['0.1', '0.2', '0.5', '1', '2', '5', '10', '20', '50']) expect(chart).toContain(`>${tick}</text>`)
  })

  it('a band reaching below 0 (mean − sd) is clamped there, keeping a linear axis', () => {
    const wide = [{ model: 'net', points: [1, 2, 3].map((epoch) => ({ epoch, mean: 0.002, low: -0.001, high: 0.005 })) }]
    const chart = svgsOf(renderCompareReport({ ...input(), curves: wide }))[0]
    expect(chart).toContain('>test error (%)</text>')
    expect(chart.match(/<polygon/g)).toHaveLength(1)
  })

  it('no curves, or none with a finite point: a note instead of the chart', () => {
    for (const curves of [[], [{ model: 'net', points: [] }], [{ model: 'net', points: [{ epoch: 1, mean: Number.NaN, low: 0, high: 0 }] }]]) {
      const html = renderCompareReport({ ...input(), curves })
      expectSelfContained(html)
      expect(svgsOf(html)).toHaveLength(0)
      expect(html).toContain('<p class="note">No test error was recorded after any epoch.</p>')
    }
  })

  it('a model without a finite point is named in a note; non-finite band edges are left out of the band', () => {
    const [first, second] = curves()
    const holey = { ...second, points: second.points.map((p, i) => (i === 3 ? { ...p, low: Number.NaN } : p)) }
    const html = renderCompareReport({ ...input(), curves: [first, holey, { model: 'diverged <x>', points: [] }] })
    expectSelfContained(html)
    expect(html).toContain('<p class="note">No test error was recorded for diverged &lt;x&gt;.</p>')
    const bands = [...html.matchAll(/<polygon points="([^"]+)"/g)].map((m) => m[1].split(' ').length)
    expect(bands).toEqual([2 * EPOCHS, 2 * (EPOCHS - 1)])
  })
})

describe('line chart bands', () => {
  const axis = (max: number) => ({ label: 'v', domain: [0, max] as const, ticks: [0, max], format: String })
  const points = [1, 2, 3].map((x) => ({ x, y: x }))
  const spec = (series: ChartSeries[]) => lineChart({ title: 'chart', x: axis(4), y: axis(5), series })

  it('without a band a series draws as before: no polygon, the same markup as with no band given', () => {
    const plain = spec([{ name: 'a', color: '#123456', points, markers: true }])
    expect(plain).not.toMatch(/<polygon|fill-opacity/)
    expect(spec([{ name: 'a', color: '#123456', points, markers: true, band: undefined }])).toBe(plain)
    expect(plain).toContain('<path d="M')
  })

  it('a band is a filled polygon in the series colour, high edge forward and low edge back, before the lines', () => {
    const chart = spec([
      { name: 'a', color: '#123456', points, band: points.map((p) => ({ x: p.x, low: p.y - 0.5, high: p.y + 0.5 })) },
      { name: 'b', color: '#abcdef', points: points.map((p) => ({ ...p, y: p.y + 1 })) },
    ])
    const polygons = chart.match(/<polygon [^>]*\/>/g) ?? []
    expect(polygons).toHaveLength(1)
    // x: 0..4 onto 64..940; y: 0..5 onto 252..30.
    expect(polygons[0]).toBe(
      '<polygon points="283,185.4 502,141 721,96.6 721,141 502,185.4 283,229.8" fill="#123456" fill-opacity="0.18"/>',
    )
    expect(chart.indexOf('<polygon')).toBeLessThan(chart.indexOf('<path'))
  })

  it('a band of one point is a narrow bar; an empty band draws nothing', () => {
    const one = spec([{ name: 'a', color: '#123456', points: [{ x: 2, y: 2 }], band: [{ x: 2, low: 1, high: 3 }] }])
    expect(one).toContain('<rect x="496" y="118.8" width="12" height="88.8" fill="#123456" fill-opacity="0.18"/>')
    const none = spec([{ name: 'a', color: '#123456', points, band: [] }])
    expect(none).toBe(spec([{ name: 'a', color: '#123456', points }]))
  })
})

describe('comparison report file', () => {
  let dir: string
  let file: string
  let html: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'googlenet-native-compare-report-'))
    file = join(dir, 'compare.html')
    await writeCompareReport(file, input())
    html = readFileSync(file, 'utf8')
  })

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('writes the rendered page atomically, leaving no temporary file', () => {
    expect(html).toBe(renderCompareReport(input()))
    expect(readdirSync(dir)).toEqual(['compare.html'])
  })

  it('refuses a folder as its target, naming it', async () => {
    mkdirSync(join(dir, 'taken'))
    try {
      await expect(writeCompareReport(join(dir, 'taken'), input())).rejects.toThrow(/taken: is a directory, not a regular file/)
    } finally {
      rmSync(join(dir, 'taken'), { recursive: true })
    }
  })

  it('renders in headless Chromium: no errors, no requests, a visible chart, a screenshot that is not blank', async () => {
    const rendering = await renderFile(file)
    expect(rendering.problems).toEqual([])
    expect(rendering.title).toBe(input().title)
    expect(rendering.svgs).toHaveLength(1)
    const [[width, height]] = rendering.svgs
    expect(width).toBeGreaterThan(300)
    expect(height).toBeGreaterThan(200)
    expect(rendering.images).toEqual([])
    expect(rendering.screenshot.width).toBe(1100)
    expect(rendering.screenshot.height).toBeGreaterThan(800)
    expect(rendering.screenshot.colours).toBeGreaterThan(100)
    expect(rendering.screenshot.inked).toBeGreaterThan(0.01)
  })
})
