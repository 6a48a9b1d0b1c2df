/**
 * The catalog and the defaults come from the addon (the Rust core's one
 * list of models, `FitConfig::default()`, `BenchConfig::default()`): what
 * the API and the CLI show is what they accept, and the core's refusals
 * reach JavaScript as RangeErrors with the core's own messages.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  BENCH_DEFAULTS,
  FIT_DEFAULTS,
  OPTION_SCHEMA,
  fitDefaultsFor,
  createModel,
  defaultModel,
  modelCatalog,
  modelNames,
  models,
  summarize,
  traceShapes,
  type ModelName,
  type OptimizerName,
} from '../dist/index.js'
import * as binding from '../index.js'
import { ROOT, runCli } from './helpers.js'

/** The message the core gives for a depth out of `rule`'s range. */
const depthMessage = (rule: { min: number; max: number }, got: number): string =>
  `ResNet depth must be ${rule.min} to ${rule.max} units per stage (got ${got})`

describe('the catalog', () => {
  it('is the addon\'s, one entry per model, with every name createModel accepts', () => {
    const catalog = modelCatalog()
    expect(catalog.map((m) => m.name)).toEqual(binding.modelCatalog().map((m) => m.name))
    expect([...modelNames]).toEqual(catalog.flatMap((m) => [m.name, ...m.aliases]))
    expect(Object.keys(models)).toEqual([...modelNames])
    expect(new Set(modelNames).size).toBe(modelNames.length)
    for (const entry of catalog) {
      expect(entry.about, entry.name).toMatch(/\S/)
      expect(entry.channels * entry.height * entry.width, entry.name).toBeGreaterThan(0)
      for (const alias of entry.aliases) expect(models[alias], alias).toBe(entry)
    }
    expect(models.resnet?.name).toBe('resnet-original')
  })

  it('is frozen, and writes to it are refused', () => {
    expect(Object.isFrozen(models)).toBe(true)
    expect(Object.isFrozen(modelNames)).toBe(true)
    expect(Object.isFrozen(FIT_DEFAULTS)).toBe(true)
    expect(() => (modelNames as string[]).push('alexnet')).toThrow(TypeError)
    expect(() => Object.assign(FIT_DEFAULTS, { epochs: 1 })).toThrow(TypeError)
    expect(modelNames).not.toContain('alexnet')
    expect(FIT_DEFAULTS.epochs).toBe(fitDefaultsFor('sgd').epochs)
  })

  it.each([...modelNames])('creates, summarizes and traces %s at the input size it lists', (name) => {
    const entry = models[name]
    if (entry === undefined) throw new Error(`no entry for ${name}`)
    const model = createModel(name)
    expect(model.inputSize).toEqual({ height: entry.height, width: entry.width })
    expect(model.depth).toBe(entry.depth?.default)
    expect(summarize(name).params).toBe(model.paramCount)
    expect(traceShapes(name).at(-1)?.outputShape).toEqual([10])
  })

  it("names the default model, the core's, used wherever none is given", () => {
    expect(defaultModel()).toBe(binding.DEFAULT_MODEL)
    expect(defaultModel()).toBe(modelCatalog()[0]!.name)
    expect(createModel().name).toBe(defaultModel())
    expect(summarize().model).toBe(defaultModel())
    expect(traceShapes()).toEqual(traceShapes(defaultModel()))
  })

  it('refuses names outside it, with the core\'s message listing it', () => {
    const known = `(known: ${modelNames.join(', ')})`
    for (const name of ['alexnet', 'GoogLeNet', 'googlenet ', '']) {
      const message = `unknown model '${name}' ${known}`
      for (const call of [() => createModel(name as ModelName), () => summarize(name as ModelName), () => traceShapes(name as ModelName)]) {
        expect(call).toThrow(RangeError)
        expect(call).toThrow(message)
      }
    }
    expect(() => createModel(7 as unknown as ModelName)).toThrow(TypeError)
  })

  it('gives each model the depths its rule allows, and refuses the others with the core\'s message', () => {
    for (const entry of modelCatalog()) {
      const rule = entry.depth
      if (rule === null) {
        const message = `model '${entry.name}' has a fixed depth; only the resnet models take one`
        expect(createModel(entry.name).depth).toBeUndefined()
        for (const call of [() => createModel(entry.name, { depth: 1 }), () => summarize(entry.name, { depth: 1 })]) {
          expect(call).toThrow(RangeError)
          expect(call).toThrow(message)
        }
        continue
      }
      expect(createModel(entry.name, { depth: rule.min }).depth).toBe(rule.min)
      expect(summarize(entry.name, { depth: rule.max }).params).toBeGreaterThan(summarize(entry.name).params)
      for (const depth of [rule.min - 1, rule.max + 1]) {
        for (const call of [
          () => createModel(entry.name, { depth }),
          () => summarize(entry.name, { depth }),
          () => traceShapes(entry.name, { depth }),
        ]) {
          expect(call).toThrow(RangeError)
          expect(call).toThrow(depthMessage(rule, depth))
        }
      }
      // Not a whole number the addon takes: refused before it is asked.
      expect(() => createModel(entry.name, { depth: 1.5 })).toThrow('depth must be an integer in [0, 4294967295] (got 1.5)')
      expect(() => createModel(entry.name, { depth: '2' as unknown as number })).toThrow(TypeError)
    }
  })
})

describe('the defaults', () => {
  it("are the core's: the reference recipe and the benchmark's settings", () => {
    // DESIGN.md §1's recipe, as the core resolves it (logEvery, the tutorial's 300, is declared there but not part of a recipe).
    const { logEvery: _, ...recipe } = FIT_DEFAULTS
    expect(recipe).toEqual(fitDefaultsFor('sgd'))
    expect({ ...FIT_DEFAULTS }).toEqual({
      epochs: 10,
      batchSize: 64,
      optimizer: 'sgd',
      lr: 0.01,
      momentum: 0.5,
      nesterov: false,
      weightDecay: 0,
      schedule: 'constant',
      warmupEpochs: 0,
      labelSmoothing: 0,
      cropPadding: 0,
      flip: false,
      rotation: 0,
      seed: 0,
      logEvery: 300,
    })
    // Adam's and AdamW's are PyTorch's.
    expect(fitDefaultsFor('adamw')).toMatchObject({ optimizer: 'adamw', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 })
    expect(fitDefaultsFor('adam')).not.toHaveProperty('momentum')
    expect(() => fitDefaultsFor('lamb' as OptimizerName)).toThrow(RangeError)
    expect(() => fitDefaultsFor('lamb' as OptimizerName)).toThrow('optimizer must be one of sgd, adam, adamw (got "lamb")')
    expect({ ...BENCH_DEFAULTS }).toEqual({ batchSize: 64, batches: 100, warmup: 5, latencyCalls: 500 })
  })

  it("the recipe's rules are the core's, named as the user wrote them", () => {
    const rule = (name: string): string | undefined => binding.optionSchema().find((s) => s.command === 'fit' && s.name === name)?.rule
    expect(rule('lr')).toBe('a finite number > 0')
    expect(rule('momentum')).toBe('a finite number in [0, 1)')
    expect(rule('weightDecay')).toBe('a finite number >= 0')
    expect(rule('warmupStartFactor')).toBe('a finite number in (0, 1]')
    expect(() => binding.checkOptions('fit', { lr: 0.01, momentum: 0 })).not.toThrow()
    expect(() => binding.checkOptions('fit', { lr: 0 })).toThrow('lr must be a finite number > 0 (got 0)')
    expect(() => binding.checkOptions('bench', { lr: 0.1 })).toThrow('lr is not an option of bench')
    const recorded = { ...fitDefaultsFor('sgd') }
    expect(() => binding.checkResumedRecipe({ ...recorded, epochs: 20 }, recorded)).not.toThrow()
    const differs = () => binding.checkResumedRecipe({ ...recorded, batchSize: 32 }, recorded)
    expect(differs).toThrow(RangeError)
    expect(differs).toThrow("batch size 32 differs from the checkpoint's 64: a resumed run keeps its recipe")
    // The model of a resumed run is its checkpoint's, under any of its names.
    expect(() => binding.checkResumedModel('resnet', 2, 'resnet-original', 2)).not.toThrow()
    const other = () => binding.checkResumedModel('lenet5', null, 'googlenet', null)
    expect(other).toThrow(RangeError)
    expect(other).toThrow('model "lenet5" differs from the checkpoint\'s "googlenet"')
    expect(() => binding.checkResumedModel(null, 3, 'resnet-original', 2)).toThrow("depth 3 differs from the checkpoint's 2")
  })

  it('show in the CLI help, with the model names', async () => {
    const train = await runCli(['train', '--help'])
    expect(train.code).toBe(0)
    const help = train.stdout.replace(/\s+/g, ' ')
    for (const name of modelNames) expect(help).toContain(`"${name}"`)
    expect(help).toContain(`passes over the training set (default: ${FIT_DEFAULTS.epochs})`)
    expect(help).toContain(`learning rate (the schedule scales it) (default: ${FIT_DEFAULTS.lr}; ${fitDefaultsFor('adam').lr} with adam and adamw)`)
    expect(help).toContain('--optimizer <name> the optimizer, as torch.optim computes it (choices: "sgd", "adam", "adamw", default: sgd)')
    expect(help).toContain('(choices: "constant", "step", "cosine", default: constant)')
    // Every option the core declares for fit has its flag.
    for (const spec of OPTION_SCHEMA.filter((s) => s.command === 'fit')) expect(help).toContain(`${spec.flag} `)
    expect(help).toContain(`batches per running-loss line ('window' progress event) (default: ${FIT_DEFAULTS.logEvery})`)
    expect(help).toContain(`default: "${defaultModel()}"`)
    const rule = modelCatalog().find((m) => m.depth !== null)?.depth
    expect(help).toContain(`depth: ${rule?.min} to ${rule?.max} (default: ${rule?.default})`)
    const bench = (await runCli(['bench', '--help'])).stdout.replace(/\s+/g, ' ')
    expect(bench).toContain(`images per batch, for training and inference (default: ${BENCH_DEFAULTS.batchSize})`)
    expect(bench).toContain(`untimed batches (and single-image predictions) before each measurement (default: ${BENCH_DEFAULTS.warmup})`)
  })
})

describe('without an addon', () => {
  const env = { ...process.env, GOOGLENET_NATIVE_BINARY: 'gpu' }

  it('the package still imports, and the first use of the catalog says why it cannot load', () => {
    const script = `
      const g = await import('./dist/index.js')
      for (const read of [() => g.modelNames.length, () => g.models.googlenet, () => g.fitDefaultsFor('adam'), () => g.modelCatalog()]) {
        try { read(); console.log('read') } catch (e) { console.log(e.message) }
      }`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual(Array(4).fill('GOOGLENET_NATIVE_BINARY must be cpu or cuda (got "gpu")'))
  })

  it('help still prints, without what only the addon knows', async () => {
    const r = await runCli(['train', '--help'], { env: { GOOGLENET_NATIVE_BINARY: 'gpu' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--model <name>')
    expect(r.stdout).toContain('--epochs <n>')
    expect(r.stdout).not.toContain('"lenet5"')
  })
})

describe('the manual', () => {
  it('lists every model of the catalog in its Models table (docs/models.md)', () => {
    const readme = readFileSync(join(ROOT, 'docs', 'models.md'), 'utf8')
    const section = readme.slice(0, readme.indexOf('\n### Looking inside a model\n'))
    const listed = [...section.matchAll(/^\| `([a-z0-9-]+)`/gm)].map((m) => m[1])
    expect(listed).toEqual(modelCatalog().map((m) => m.name))
  })
})
