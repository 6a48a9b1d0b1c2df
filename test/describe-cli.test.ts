/**
 * Descriptions on the command line: `describe`, `--model-file` on train,
 * summary, trace and bench, a custom model saved and loaded by file alone,
 * and invalid or hostile description files refused with exit status 2 and
 * one line naming what is wrong.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Model, descriptions, loadMnist } from '../dist/index.js'
import { encodeGrayPng } from '../src/png.js'
import { STACK_OR_PANIC, lines, runMain } from './helpers.js'

const HEAD = { format: 'googlenet-native/model', version: 1, name: 'cli-net', input: [1, 28, 28] }

/** A small net of one's own with a 7×7 branch: a concat of two branches, then a classifier. */
const NET = {
  ...HEAD,
  layers: [
    { type: 'conv2d', name: 'stem', outChannels: 8, kernel: 3, padding: 1 },
    { type: 'maxPool', name: 'pool', kernel: 2 },
    { type: 'relu' },
    {
      type: 'concat',
      name: 'mix',
      branches: [
        { type: 'conv2d', name: 'branch1x1', outChannels: 8, kernel: 1 },
        { type: 'conv2d', name: 'branch7x7', outChannels: 8, kernel: 7, padding: 3 },
      ],
    },
    { type: 'relu' },
    { type: 'globalAvgPool', name: 'gap' },
    { type: 'linear', name: 'fc', outFeatures: 10 },
  ],
}

describe('descriptions on the command line', () => {
  let dir: string
  const file = (name: string, content: string): string => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'googlenet-describe-cli-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('describe prints a zoo model as the JSON --model-file reads, and checks a file', async () => {
    const r = await runMain(['describe'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(descriptions.googlenet())
    expect(r.stdout).toContain('    { "type": "conv2d", "name": "conv1", "outChannels": 10, "kernel": 5 },\n')
    const deep = await runMain(['describe', '--model', 'resnet', '--depth', '2'])
    expect(JSON.parse(deep.stdout)).toEqual(descriptions.resnet({ depth: 2 }))
    // A file in any layout comes back canonical: defaults dropped, fields in order.
    const loose = file('loose.json', JSON.stringify({ ...NET, layers: [{ kernel: 3, type: 'conv2d', outChannels: 8, name: 'stem', stride: 1, padding: 1 }, ...NET.layers.slice(1)] }))
    const checked = await runMain(['describe', '--model-file', loose])
    expect(checked.code).toBe(0)
    expect(JSON.parse(checked.stdout)).toEqual(NET)
  })

  it('summary, trace and bench take --model-file', async () => {
    const net = file('net.json', JSON.stringify(NET))
    const summary = await runMain(['summary', '--model-file', net, '--json'])
    expect(summary.code).toBe(0)
    const s = JSON.parse(summary.stdout)
    expect(s.model).toBe('cli-net')
    expect(s.layers.map((l: { name: string }) => l.name)).toEqual(['stem', 'pool', 'mix.branch1x1', 'mix.branch7x7', 'mix', 'gap', 'fc'])
    const trace = await runMain(['trace', '--model-file', net, '--height', '20', '--width', '20'])
    expect(trace.code).toBe(0)
    expect(trace.stdout).toMatch(/^mix\s+16×10×10$/m)
    const bench = await runMain(['bench', '--model-file', net, '--batches', '1', '--warmup', '0', '--batch-size', '8', '--json'])
    expect(bench.code).toBe(0)
    expect(JSON.parse(bench.stdout).model).toBe('cli-net')
  })

  it('trains a model from a file, saves it, and test --load and predict --load rebuild it with no code', async () => {
    const net = file('train.json', JSON.stringify(NET))
    const saved = join(dir, 'cli-net.safetensors')
    const trained = await runMain(['train', '--model-file', net, '--epochs', '1', '--limit', '512', '--test-limit', '200', '--save', saved, '--json'])
    expect(trained.code, trained.stderr).toBe(0)
    const model = await Model.load(saved)
    expect(model.name).toBe('cli-net')
    expect(model.description).toEqual(NET)
    const { test } = await loadMnist()
    const expected = await model.evaluate(test.take(200))
    const tested = await runMain(['test', '--load', saved, '--test-limit', '200', '--json'])
    expect(tested.code).toBe(0)
    expect(JSON.parse(tested.stdout)).toMatchObject({ correct: expected.correct, total: 200, loss: expected.loss })
    const digit = join(dir, 'digit.png')
    writeFileSync(digit, encodeGrayPng(test.image(0), 28, 28))
    const predicted = await runMain(['predict', '--load', saved, '--json', digit])
    expect(predicted.code).toBe(0)
    const p = JSON.parse(predicted.stdout)
    const own = await model.predictFile(digit)
    expect(own.found && [p.label, p.top]).toEqual([own.found && own.label, own.found && own.top])
  })

  it('refuses invalid and hostile description files with exit status 2 and one line', async () => {
    const layers = (l: unknown): string => JSON.stringify({ ...HEAD, layers: l })
    const deep = `{"format":"googlenet-native/model","version":1,"name":"x","input":[1,28,28],"layers":${'['.repeat(5000)}${']'.repeat(5000)}}`
    mkdirSync(join(dir, 'a-folder'))
    const cases: [string, string | null, RegExp][] = [
      ['kernel.json', layers([{ type: 'conv2d', name: 'c', outChannels: 4, kernel: 0 }]), /layers\[0\]\.kernel: must be an integer from 1 to 15 \(got 0\)$/],
      ['type.json', layers([{ type: 'dropout' }]), /layers\[0\]\.type: unknown step type "dropout"/],
      ['typo.json', layers([{ type: 'conv2d', name: 'c', outChannels: 4, kernel: 3, strides: 2 }]), /layers\[0\]\.strides: unknown field/],
      ['shape.json', layers([{ type: 'linear', name: 'fc', outFeatures: 10 }]), /layers\[0\]: layer fc takes N×F features, got \[1, 1, 28, 28\]/],
      ['syntax.json', '{"format": ', /not a JSON model description: EOF while parsing/],
      ['nested.json', deep, /not a JSON model description: recursion limit exceeded|steps nest more than 32 deep/],
      ['params.json', layers([{ type: 'flatten' }, { type: 'linear', name: 'huge', outFeatures: 65536 }]), /layer huge takes the model past 50000000 parameters/],
      ['steps.json', layers(Array.from({ length: 2001 }, () => ({ type: 'relu' }))), /a model holds at most 2000 steps/],
      ['big.json', `${layers([{ type: 'relu' }])}${' '.repeat(1 << 20)}`, /a model description is at most 1048576 bytes of JSON/],
      ['a-folder', null, /is not a regular file/],
      ['missing.json', null, /ENOENT/],
    ]
    for (const [name, content, expected] of cases) {
      const path = content === null ? join(dir, name) : file(name, content)
      for (const command of ['train', 'summary']) {
        const r = await runMain([command, '--model-file', path])
        expect(r.code, `${command} ${name}: ${r.stderr}`).toBe(2)
        expect(lines(r.stderr), name).toHaveLength(1)
        expect(r.stderr, name).toMatch(new RegExp(`^error: --model-file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))
        expect(r.stderr.trim(), name).toMatch(expected)
        expect(r.stderr + r.stdout).not.toMatch(STACK_OR_PANIC)
      }
    }
    const both = await runMain(['train', '--model', 'lenet5', '--model-file', file('ok.json', JSON.stringify(NET))])
    expect([both.code, both.stderr.trim()]).toEqual([2, 'error: --model and --model-file contradict each other: give one'])
    const depth = await runMain(['summary', '--model-file', join(dir, 'ok.json'), '--depth', '2'])
    expect(depth.code).toBe(2)
    expect(readFileSync(join(dir, 'ok.json'), 'utf8')).toBe(JSON.stringify(NET))
  })
})
