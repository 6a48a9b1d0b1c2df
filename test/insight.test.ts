import { describe, expect, it } from 'vitest'
import { TraceError, createModel, summarize, traceShapes } from '../dist/index.js'
import { lines, runCli } from './helpers.js'

describe('summarize', () => {
  it("totals PyTorch's parameter count and the design's multiply-accumulates", () => {
    const s = summarize('googlenet')
    expect([s.model, s.params, s.macs]).toEqual(['googlenet', 97_298, 6_019_200])
    expect(s.layers.reduce((n, l) => n + l.params, 0)).toBe(s.params)
    expect(s.layers[0]).toEqual({ name: 'conv1', outputShape: [10, 24, 24], params: 260, macs: 144_000 })
    expect(s.layers.find((l) => l.name === 'incep1.branch5x5_2')).toEqual({
      name: 'incep1.branch5x5_2',
      outputShape: [24, 12, 12],
      params: 24 * 16 * 25 + 24,
      macs: 24 * 16 * 25 * 144,
    })
    expect(s.layers.at(-1)).toEqual({ name: 'fc', outputShape: [10], params: 14_090, macs: 14_080 })
    expect(createModel().summary()).toEqual(s)
  })
})

describe('traceShapes', () => {
  it('follows the data at the model input size', () => {
    const steps = traceShapes('googlenet')
    expect(steps.map((s) => s.name).slice(0, 4)).toEqual(['conv1', 'pool1', 'incep1.branch1x1', 'incep1.branch5x5_1'])
    expect(steps.find((s) => s.name === 'incep2')?.outputShape).toEqual([88, 4, 4])
    expect(steps.at(-1)).toEqual({ name: 'fc', outputShape: [10] })
  })

  it('names the layer whose input does not fit, with both shapes, and keeps the steps before it', () => {
    let caught: unknown
    try {
      traceShapes('googlenet', { height: 20, width: 20 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(TraceError)
    const e = caught as TraceError
    expect(e.message).toBe('layer fc takes N×1408 features (out 10), got [1, 352]')
    expect(e.steps.at(-1)).toEqual({ name: 'flatten', outputShape: [352] })
    expect(() => traceShapes('googlenet', { height: 0 })).toThrow(RangeError)
  })
})

describe('summary and trace commands', () => {
  it('prints the layer table with totals, and JSON', async () => {
    const text = await runCli(['summary'])
    expect(text.code).toBe(0)
    const out = lines(text.stdout)
    expect(out[0]).toBe('googlenet: 97,298 parameters, 6,019,200 multiply-accumulates per image (MACs count convolutions and linear layers only)')
    expect(out[2]).toMatch(/^conv1 +10×24×24 +260 +144,000$/)
    expect(out.at(-1)).toMatch(/^total +97,298 +6,019,200$/)
    const json = await runCli(['summary', '--model', 'googlenet', '--json'])
    expect(JSON.parse(json.stdout)).toEqual(summarize('googlenet'))
  })

  it('traces shapes, and fails at the layer that does not fit after showing the ones before', async () => {
    const ok = await runCli(['trace'])
    expect(ok.code).toBe(0)
    expect(lines(ok.stdout)[0]).toMatch(/^input +1×28×28$/)
    expect(lines(ok.stdout).at(-1)).toMatch(/^fc +10$/)
    const bad = await runCli(['trace', '--height', '20', '--width', '20'])
    expect(bad.code).toBe(2)
    expect(lines(bad.stdout).at(-1)).toMatch(/^flatten +352$/)
    expect(bad.stderr).toBe('error: layer fc takes N×1408 features (out 10), got [1, 352]\n')
    const json = await runCli(['trace', '--json'])
    expect(lines(json.stdout).map((l) => JSON.parse(l) as unknown)).toEqual(traceShapes('googlenet'))
  })
})
