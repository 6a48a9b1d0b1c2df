/**
 * A command's inputs and outputs are checked against each other before any
 * work: one file named as an input and an output, or as two outputs, is a
 * usage error (exit 2) and the file is left as it was, however its path is
 * spelt (another spelling, a symbolic link).
 */
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, Fixtures, runMain } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())
const dir = fixtures.folder('files', {})
const model = join(dir, 'm.safetensors')
copyFileSync(join(ROOT, 'models', 'googlenet-mnist.safetensors'), model)
const link = join(dir, 'link.safetensors')
symlinkSync(model, link)
const description = join(dir, 'net.json')
writeFileSync(description, JSON.stringify({ format: 'googlenet-native/model', version: 1, name: 'net', input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'linear', name: 'fc', outFeatures: 10 }] }))
const original = { model: readFileSync(model), description: readFileSync(description) }

describe('one file as an input and an output, or as two outputs, is refused before any work', () => {
  it.each([
    [['export', '--load', model, '--onnx', model], `--onnx ${model} is the same file as --load ${model}: writing it would destroy that input`],
    [['export', '--load', model, '--onnx', join(dir, '..', 'files', 'm.safetensors')], 'is the same file as --load'],
    [['export', '--load', link, '--onnx', model], 'is the same file as --load'],
    [['test', '--load', model, '--report', link], `--report ${link} is the same file as --load ${model}`],
    [['train', '--model-file', description, '--save', description, '--epochs', '1'], `--save ${description} is the same file as --model-file ${description}`],
    [['train', '--resume', model, '--report', model], `--report ${model} is the same file as --resume ${model}`],
    [['train', '--save', join(dir, 'x'), '--report', join(dir, 'x'), '--epochs', '1'], `--report ${join(dir, 'x')} is the same file as --save ${join(dir, 'x')}: one would replace the other`],
  ])('%j', async (args, message) => {
    const r = await runMain(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stdout).toBe('')
    expect(readFileSync(model)).toEqual(original.model)
    expect(readFileSync(description)).toEqual(original.description)
  })

  it('still writes where the files differ', async () => {
    const r = await runMain(['export', '--load', link, '--onnx', join(dir, 'm.onnx')])
    expect(r.code).toBe(0)
  })
})
