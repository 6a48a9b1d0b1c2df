import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type ModelDescription,
  type Step,
  type Steps,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  network,
  relu,
  residual,
  sequential,
} from '../dist/index.js'
import { ROOT } from './helpers.js'
import { tutorialNet } from './tutorial-net.js'

const googlenet = () => tutorialNet()

/** The layers the core's zoo writes for googlenet (docs/model-description.md). */
const INCEPTION_BRANCHES = [
  { type: 'conv2d', name: 'branch1x1', outChannels: 16, kernel: 1 },
  [
    { type: 'conv2d', name: 'branch5x5_1', outChannels: 16, kernel: 1 },
    { type: 'conv2d', name: 'branch5x5_2', outChannels: 24, kernel: 5, padding: 2 },
  ],
  [
    { type: 'conv2d', name: 'branch3x3_1', outChannels: 16, kernel: 1 },
    { type: 'conv2d', name: 'branch3x3_2', outChannels: 24, kernel: 3, padding: 1 },
    { type: 'conv2d', name: 'branch3x3_3', outChannels: 24, kernel: 3, padding: 1 },
  ],
  [
    { type: 'avgPool', kernel: 3, stride: 1, padding: 1 },
    { type: 'conv2d', name: 'branch_pool', outChannels: 24, kernel: 1 },
  ],
]
const GOOGLENET_LAYERS = [
  { type: 'conv2d', name: 'conv1', outChannels: 10, kernel: 5 },
  { type: 'maxPool', name: 'pool1', kernel: 2 },
  { type: 'relu' },
  { type: 'concat', name: 'incep1', branches: INCEPTION_BRANCHES },
  { type: 'conv2d', name: 'conv2', outChannels: 20, kernel: 5 },
  { type: 'maxPool', name: 'pool2', kernel: 2 },
  { type: 'relu' },
  { type: 'concat', name: 'incep2', branches: INCEPTION_BRANCHES },
  { type: 'flatten', name: 'flatten' },
  { type: 'linear', name: 'fc', outFeatures: 10 },
]

/** Every name in a step, joined as PyTorch nests module names (the core's rule, restated for the test). */
function fullNames(step: Step, prefix = ''): string[] {
  const within = (name: string | undefined) => (name === undefined ? prefix : `${prefix}${name}.`)
  if (Array.isArray(step)) return (step as readonly Step[]).flatMap((s) => fullNames(s, prefix))
  const s = step as Exclude<Step, readonly Step[]>
  const own = s.name === undefined ? [] : [`${prefix}${s.name}`]
  switch (s.type) {
    case 'sequential':
      return [...own, ...s.steps.flatMap((x) => fullNames(x, within(s.name)))]
    case 'concat':
      return [...own, ...s.branches.flatMap((x) => fullNames(x, within(s.name)))]
    case 'residual':
      return [...own, ...fullNames(s.body, within(s.name)), ...(s.shortcut ? fullNames(s.shortcut, within(s.name)) : [])]
    default:
      return own
  }
}

describe('the model-description builder', () => {
  it('writes the tutorial GoogLeNet exactly as the core zoo does', () => {
    const description = googlenet()
    expect(description).toStrictEqual({
      format: 'googlenet-native/model',
      version: 1,
      name: 'googlenet',
      input: [1, 28, 28],
      layers: GOOGLENET_LAYERS,
    })
    expect(fullNames(description.layers).filter((n) => n.startsWith('incep1.'))).toEqual([
      'incep1.branch1x1',
      'incep1.branch5x5_1',
      'incep1.branch5x5_2',
      'incep1.branch3x3_1',
      'incep1.branch3x3_2',
      'incep1.branch3x3_3',
      'incep1.branch_pool',
    ])
  })

  it('writes each layer with the fields given, type and name first, and no defaults', () => {
    expect(conv2d({ outChannels: 8, kernel: 3 })).toStrictEqual({ type: 'conv2d', outChannels: 8, kernel: 3 })
    expect(conv2d({ padding: 1, stride: 2, kernel: 3, outChannels: 8 })).toStrictEqual({
      type: 'conv2d',
      outChannels: 8,
      kernel: 3,
      stride: 2,
      padding: 1,
    })
    expect(Object.keys(conv2d({ padding: 1, stride: 2, kernel: 3, outChannels: 8 }))).toEqual([
      'type',
      'outChannels',
      'kernel',
      'stride',
      'padding',
    ])
    expect(conv2d({ outChannels: 8, kernel: 3, stride: undefined })).toStrictEqual({ type: 'conv2d', outChannels: 8, kernel: 3 })
    expect(linear({ outFeatures: 10 })).toStrictEqual({ type: 'linear', outFeatures: 10 })
    expect(maxPool({ kernel: 2 })).toStrictEqual({ type: 'maxPool', kernel: 2 })
    expect(maxPool({ kernel: 3, stride: 1 })).toStrictEqual({ type: 'maxPool', kernel: 3, stride: 1 })
    expect(avgPool({ kernel: 3, stride: 1, padding: 1 })).toStrictEqual({ type: 'avgPool', kernel: 3, stride: 1, padding: 1 })
    expect([batchNorm(), relu(), globalAvgPool(), flatten()]).toStrictEqual([
      { type: 'batchNorm' },
      { type: 'relu' },
      { type: 'globalAvgPool' },
      { type: 'flatten' },
    ])
    // Fresh objects each call: naming one copy leaves the others alone.
    expect(relu()).not.toBe(relu())
    expect(Object.keys((network({ fc: linear({ outFeatures: 10 }) }).layers as readonly object[])[0] as object)).toEqual([
      'type',
      'name',
      'outFeatures',
    ])
  })

  it('leaves range rules to the core, and passes unknown fields on for the core to report', () => {
    expect(conv2d({ outChannels: 0, kernel: 0, stride: -1 })).toStrictEqual({ type: 'conv2d', outChannels: 0, kernel: 0, stride: -1 })
    const misspelt = { outChannels: 8, kernal: 3 } as unknown as Parameters<typeof conv2d>[0]
    expect(conv2d(misspelt)).toStrictEqual({ type: 'conv2d', outChannels: 8, kernal: 3 })
    expect(network([relu()], { name: 'not a valid name!', input: [0, 0, 0] })).toMatchObject({ name: 'not a valid name!', input: [0, 0, 0] })
  })

  it('names steps by their keys, in key order, keys with dots included', () => {
    expect(
      sequential({ conv1: conv2d({ outChannels: 4, kernel: 3 }), pool1: maxPool({ kernel: 2 }), 'layer1.0': relu() }),
    ).toStrictEqual([
      { type: 'conv2d', name: 'conv1', outChannels: 4, kernel: 3 },
      { type: 'maxPool', name: 'pool1', kernel: 2 },
      { type: 'relu', name: 'layer1.0' },
    ])
    // A single integer-like key is fine: there is no order to lose.
    expect(sequential([{ '0': batchNorm() }, { '1': relu() }])).toStrictEqual([
      { type: 'batchNorm', name: '0' },
      { type: 'relu', name: '1' },
    ])
  })

  it('makes a named sequential of an array or object of named steps under a key, which adds a level', () => {
    const description = network({
      layer1: {
        conv1: conv2d({ outChannels: 4, kernel: 3, padding: 1 }),
        block: [{ bn: batchNorm() }, relu()],
      },
      head: { flatten: flatten(), fc: linear({ outFeatures: 10 }) },
    })
    expect(description.layers).toStrictEqual([
      {
        type: 'sequential',
        name: 'layer1',
        steps: [
          { type: 'conv2d', name: 'conv1', outChannels: 4, kernel: 3, padding: 1 },
          { type: 'sequential', name: 'block', steps: [{ type: 'batchNorm', name: 'bn' }, { type: 'relu' }] },
        ],
      },
      {
        type: 'sequential',
        name: 'head',
        steps: [
          { type: 'flatten', name: 'flatten' },
          { type: 'linear', name: 'fc', outFeatures: 10 },
        ],
      },
    ])
    expect(fullNames(description.layers)).toEqual([
      'layer1',
      'layer1.conv1',
      'layer1.block',
      'layer1.block.bn',
      'head',
      'head.flatten',
      'head.fc',
    ])
    // One named step under a key is still a sequential: its name is a level.
    expect(network({ stem: { conv: conv2d({ outChannels: 4, kernel: 1 }) } }).layers).toStrictEqual([
      { type: 'sequential', name: 'stem', steps: [{ type: 'conv2d', name: 'conv', outChannels: 4, kernel: 1 }] },
    ])
  })

  it('mixes steps, objects of named steps and nested arrays in one sequence, splicing what adds no level', () => {
    const block = () => [{ conv: conv2d({ outChannels: 4, kernel: 3 }) }, relu()]
    expect(
      sequential([{ a: relu(), b: flatten() }, maxPool({ kernel: 2 }), [relu(), [{ c: globalAvgPool() }]], sequential(block())]),
    ).toStrictEqual([
      { type: 'relu', name: 'a' },
      { type: 'flatten', name: 'b' },
      { type: 'maxPool', kernel: 2 },
      { type: 'relu' },
      { type: 'globalAvgPool', name: 'c' },
      { type: 'conv2d', name: 'conv', outChannels: 4, kernel: 3 },
      { type: 'relu' },
    ])
    expect(sequential(relu())).toStrictEqual([{ type: 'relu' }])
  })

  it('writes the most compact branch: one step as itself, several as an array', () => {
    expect(concat([relu(), { b: relu() }, [relu()], { c: relu(), d: relu() }, [[relu(), relu()]]])).toStrictEqual({
      type: 'concat',
      branches: [
        { type: 'relu' },
        { type: 'relu', name: 'b' },
        { type: 'relu' },
        [
          { type: 'relu', name: 'c' },
          { type: 'relu', name: 'd' },
        ],
        [{ type: 'relu' }, { type: 'relu' }],
      ],
    })
  })

  it('builds a residual unit with and without a shortcut', () => {
    // Annotated: TypeScript widens an array of object literals with different keys to optional fields otherwise.
    const body = (): Steps => [
      { conv1: conv2d({ outChannels: 8, kernel: 3, stride: 2, padding: 1 }), bn1: batchNorm() },
      relu(),
      { conv2: conv2d({ outChannels: 8, kernel: 3, padding: 1 }), bn2: batchNorm() },
    ]
    const bodyJson = [
      { type: 'conv2d', name: 'conv1', outChannels: 8, kernel: 3, stride: 2, padding: 1 },
      { type: 'batchNorm', name: 'bn1' },
      { type: 'relu' },
      { type: 'conv2d', name: 'conv2', outChannels: 8, kernel: 3, padding: 1 },
      { type: 'batchNorm', name: 'bn2' },
    ]
    expect(residual(body())).toStrictEqual({ type: 'residual', body: bodyJson })
    expect(residual(body(), {})).toStrictEqual({ type: 'residual', body: bodyJson })
    expect(residual({ conv: conv2d({ outChannels: 8, kernel: 3, padding: 1 }) })).toStrictEqual({
      type: 'residual',
      body: { type: 'conv2d', name: 'conv', outChannels: 8, kernel: 3, padding: 1 },
    })

    const unit = residual(body(), {
      shortcut: { downsample: [{ '0': conv2d({ outChannels: 8, kernel: 1, stride: 2 }) }, { '1': batchNorm() }] },
    })
    expect(unit).toStrictEqual({
      type: 'residual',
      body: bodyJson,
      shortcut: {
        type: 'sequential',
        name: 'downsample',
        steps: [
          { type: 'conv2d', name: '0', outChannels: 8, kernel: 1, stride: 2 },
          { type: 'batchNorm', name: '1' },
        ],
      },
    })
    const description = network([{ 'layer2.0': unit }, relu(), { pool: globalAvgPool(), fc: linear({ outFeatures: 10 }) }])
    expect(fullNames(description.layers)).toEqual([
      'layer2.0',
      'layer2.0.conv1',
      'layer2.0.bn1',
      'layer2.0.conv2',
      'layer2.0.bn2',
      'layer2.0.downsample',
      'layer2.0.downsample.0',
      'layer2.0.downsample.1',
      'pool',
      'fc',
    ])
  })

  it("network() defaults to the name 'custom' and MNIST's input, and always writes layers as an array", () => {
    const description: ModelDescription = network({ flatten: flatten(), fc: linear({ outFeatures: 10 }) })
    expect(description).toStrictEqual({
      format: 'googlenet-native/model',
      version: 1,
      name: 'custom',
      input: [1, 28, 28],
      layers: [
        { type: 'flatten', name: 'flatten' },
        { type: 'linear', name: 'fc', outFeatures: 10 },
      ],
    })
    expect(network({ fc: linear({ outFeatures: 10 }) }).layers).toStrictEqual([{ type: 'linear', name: 'fc', outFeatures: 10 }])
    const input = [3, 32, 32] as const
    const named = network([flatten(), { fc: linear({ outFeatures: 10 }) }], { name: 'cifar-like', input })
    expect(named).toMatchObject({ name: 'cifar-like', input: [3, 32, 32] })
    expect(named.input).not.toBe(input)
    // Two descriptions share no default input array.
    expect(network(relu()).input).not.toBe(network(relu()).input)
  })

  it('refuses an object with an integer-like key among several, pointing to an array of named steps', () => {
    const refused = () => sequential([relu(), { '0': conv2d({ outChannels: 4, kernel: 1 }), '1': batchNorm() }])
    expect(refused).toThrow(TypeError)
    expect(refused).toThrow(/sequential\[1\]: the key "0" is integer-like.*array of named steps/)
    expect(() => network({ conv: conv2d({ outChannels: 4, kernel: 1 }), '7': relu() })).toThrow(/network: layers: the key "7"/)
    expect(() => concat([{ a: relu(), '10': relu() }, relu()])).toThrow(TypeError)
    // Not integer-like: dots, leading zeros, signs, and numbers past the array-index range keep their order.
    expect(sequential({ 'layer1.0': relu(), 'layer1.1': relu(), '01': relu(), '-1': relu(), '4294967295': relu() })).toHaveLength(5)
  })

  it('refuses to name a step twice, saying which names', () => {
    const named = sequential({ conv1: conv2d({ outChannels: 4, kernel: 1 }) })[0] as Step
    expect(() => network({ conv2: named })).toThrow(TypeError)
    expect(() => network({ conv2: named })).toThrow(
      'network: layers.conv2: this conv2d step is already named "conv1" and cannot also be named "conv2"',
    )
    expect(() => concat([{ b: { type: 'relu', name: 'b' } }, relu()])).toThrow(/concat: branches\[0\]\.b: this relu step is already named "b"/)
  })

  it('refuses with a TypeError what is not a step, an array or an object of named steps', () => {
    const bad: unknown[] = [undefined, null, 3, 'conv2d', relu, new Map(), new Date(), { type: 3 }]
    for (const value of bad) {
      expect(() => network(value as Step), String(value)).toThrow(TypeError)
      expect(() => concat([relu(), value as Step]), String(value)).toThrow(TypeError)
      expect(() => residual(value as Step), String(value)).toThrow(TypeError)
      expect(() => sequential({ key: value as Step }), String(value)).toThrow(TypeError)
    }
    expect(() => network([relu(), relu as unknown as Step])).toThrow(/network: layers\[1\]: .*got a function \(call it: relu\(\), not relu\)/)
    expect(() => sequential({ a: { b: 'x' as unknown as Step } })).toThrow(/sequential\.a\.b: .*got the string "x"/)
    expect(() => concat({ a: relu(), b: relu() } as unknown as Step[])).toThrow(/concat: expected an array of branches/)
    expect(() => conv2d(undefined as unknown as { outChannels: number; kernel: number })).toThrow(/conv2d: expected an options object/)
    expect(() => maxPool(2 as unknown as { kernel: number })).toThrow(TypeError)
    expect(() => network([relu()], 'net' as unknown as { name: string })).toThrow(/network: expected an options object/)
    expect(() => residual(relu(), null as unknown as object)).toThrow(/residual: expected an options object/)
  })

  it('refuses steps that hold themselves with a TypeError naming where, not a stack overflow', () => {
    const loop: Steps[] = [relu()]
    loop.push(loop)
    expect(() => network(loop)).toThrow(new TypeError('network: layers[1]: holds itself (an array or object of steps inside itself): steps must form a tree'))
    const named: Record<string, Steps> = { fc: linear({ outFeatures: 10 }) }
    named.again = [flatten(), named]
    expect(() => network([named])).toThrow(/layers\[0\]\.again\[1\]: holds itself/)
    // The same steps twice, side by side, are no cycle.
    const block = [conv2d({ outChannels: 4, kernel: 3, padding: 1 }), relu()]
    expect(() => concat([block, block])).not.toThrow()
  })

  it('survives a JSON round trip unchanged', () => {
    const description = googlenet()
    const text = JSON.stringify(description)
    expect(JSON.parse(text)).toStrictEqual(description)
    expect(text).toContain('{"type":"conv2d","name":"conv1","outChannels":10,"kernel":5}')
    // A description read from JSON is a step the builder takes as it is.
    const again = network(JSON.parse(JSON.stringify(description.layers)) as Step, { name: 'googlenet' })
    expect(again).toStrictEqual(description)
  })
})

describe('the examples', () => {
  const described = (file: string): ModelDescription =>
    JSON.parse(execFileSync(process.execPath, [join(ROOT, 'examples', file), '--json'], { encoding: 'utf8' })) as ModelDescription

  it('describe the tutorial GoogLeNet, a residual net and an Inception variant with a 7x7 branch', () => {
    expect(described('googlenet.mjs')).toStrictEqual({ ...googlenet(), name: 'my-googlenet' })
    const resnet = described('residual.mjs')
    expect(fullNames(resnet.layers).filter((n) => n.includes('downsample'))).toEqual([
      'layer2.0.downsample',
      'layer2.0.downsample.0',
      'layer2.0.downsample.1',
    ])
    const inception7 = described('inception-7x7.mjs')
    expect(JSON.stringify(inception7.layers)).toContain('{"type":"conv2d","name":"branch7x7_2","outChannels":24,"kernel":7,"padding":3}')
    expect(fullNames(inception7.layers)).toContain('incep2.branch7x7_2')
  })
})

/** Compile-time checks: `tsc --noEmit` fails if any of these lines stops being an error. Never called. */
export function typeChecks(): void {
  // @ts-expect-error kernel is required
  conv2d({ outChannels: 4 })
  // @ts-expect-error a misspelt field
  conv2d({ outChannels: 4, kernal: 3 })
  // @ts-expect-error maxPool needs its kernel
  maxPool()
  // @ts-expect-error a key must hold steps
  network({ conv1: 3 })
  // @ts-expect-error a function is not a step
  network([relu])
  // @ts-expect-error input is [channels, height, width]
  network(relu(), { input: [28, 28] })
  // @ts-expect-error the format's nodes are read-only
  relu().name = 'x'
  const steps: Steps = [{ a: relu() }, relu(), [{ b: relu() }, [relu()]], { c: { d: relu(), e: [relu()] } }]
  network(steps)
}
