import { describe, expect, it } from 'vitest'
import { TUTORIAL_BOTTLENECK, bottleneckCost, convolutionCost } from '../dist/index.js'
import { lines, runCli } from './helpers.js'

describe('convolution cost', () => {
  it("gives the tutorial's numbers by default (DESIGN.md §1)", () => {
    expect(bottleneckCost()).toEqual({ direct: 120_422_400, reduced: 12_443_648, ratio: 120_422_400 / 12_443_648 })
    expect(convolutionCost(TUTORIAL_BOTTLENECK)).toBe(5 * 5 * 28 * 28 * 192 * 32)
  })

  it('counts kernel² × in × out multiplies per output pixel', () => {
    const shape = { inChannels: 3, outChannels: 4, kernel: 3, height: 5, width: 7 }
    expect(convolutionCost(shape)).toBe(9 * 3 * 4 * 35)
    const c = bottleneckCost({ ...shape, reduceTo: 2 })
    expect(c.reduced).toBe(3 * 2 * 35 + 9 * 2 * 4 * 35)
    expect(c.ratio).toBeCloseTo(c.direct / c.reduced, 12)
  })

  it('refuses sizes that are not whole numbers >= 1', () => {
    expect(() => convolutionCost({ inChannels: 0, outChannels: 1, kernel: 1, height: 1, width: 1 })).toThrow(
      'inChannels must be an integer in [1, 4294967295] (got 0)',
    )
    expect(() => bottleneckCost({ reduceTo: 1.5 })).toThrow(RangeError)
    expect(() => bottleneckCost(null as unknown as undefined)).toThrow(TypeError)
  })
})

describe('cost command', () => {
  it("prints the tutorial's example side by side", async () => {
    const r = await runCli(['cost'])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[0]).toBe('5×5 convolution from 192 to 32 channels on 28×28 (stride 1, same padding):')
    expect(out[1]).toMatch(/^ {2}direct +120,422,400 multiplies$/)
    expect(out[2]).toMatch(/^ {2}1×1 to 16 channels, then 5×5 +12,443,648 multiplies \(2,408,448 \+ 10,035,200\)$/)
    expect(out[3]).toBe('the 1×1 reduction needs 9.68× fewer multiplies')
  })

  it('takes the shape from flags and prints JSON', async () => {
    const r = await runCli(['cost', '--kernel', '3', '--in-channels', '3', '--out-channels', '4', '--size', '5', '--reduce-to', '2', '--json'])
    expect(r.code).toBe(0)
    const c = JSON.parse(r.stdout) as { direct: number; reduced: number; ratio: number }
    expect(c).toEqual({ direct: 9 * 3 * 4 * 25, reduced: 3 * 2 * 25 + 9 * 2 * 4 * 25, ratio: c.direct / c.reduced })
  })

  it('refuses a bad size with exit status 2', async () => {
    const r = await runCli(['cost', '--kernel', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('error: --kernel must be an integer in [1, 4294967295] (got 0)\n')
  })
})
