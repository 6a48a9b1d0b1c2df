/**
 * Checkpoints and resume, through the API and the CLI: a run stopped and
 * resumed ends with the weights of a run that never stopped (CPU), Ctrl-C
 * leaves a checkpoint behind, and bad checkpoints or contradicting
 * settings fail clearly.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dataset, Model, createModel, latestCheckpoint, loadMnist } from '../dist/index.js'
import { STACK_OR_PANIC, lines, runCli } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'googlenet-checkpoint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The same 16 test digits for every comparison of weights. */
const PROBE = new Float32Array(16 * 28 * 28).map((_, i) => ((i * 7919) % 256) / 255)

async function probabilities(model: Model): Promise<Float32Array> {
  return (await model.predict(PROBE)).probabilities
}

describe('resume through the API', () => {
  let train: Dataset
  let test: Dataset
  beforeAll(async () => {
    const mnist = await loadMnist()
    train = mnist.train.take(640)
    test = mnist.test.take(200)
  })

  it('a run resumed from its checkpoint equals one that never stopped', async () => {
    const straight = createModel('googlenet', { seed: 4 })
    await straight.fit(train, { epochs: 2, batchSize: 32, lr: 0.02 })

    const folder = join(dir, 'api')
    const first = createModel('googlenet', { seed: 4 })
    await first.fit(train, { epochs: 1, batchSize: 32, lr: 0.02, checkpointDir: folder, validation: test })
    expect(readdirSync(folder)).toEqual(['checkpoint-e0001.safetensors'])

    const resumed = await Model.loadCheckpoint(folder)
    const checkpoint = resumed.checkpoint
    expect(checkpoint).toMatchObject({ epochsDone: 1, batchesDone: 0, trainSize: 640 })
    expect(checkpoint?.recipe).toEqual({
      epochs: 1,
      batchSize: 32,
      seed: 4,
      optimizer: 'sgd',
      lr: 0.02,
      momentum: 0.5,
      nesterov: false,
      weightDecay: 0,
      schedule: 'constant',
      warmupEpochs: 0,
      labelSmoothing: 0,
      cropPadding: 0,
      flip: false,
      rotation: 0,
    })
    expect(checkpoint?.history).toHaveLength(1)
    expect(checkpoint?.history[0]?.testAccuracy).toBeTypeOf('number')
    expect(resumed.epochsTrained).toBe(1)

    const history = await resumed.fit(train, { resume: true, epochs: 2 })
    expect(history.epochs.map((e) => e.epoch)).toEqual([2])
    expect(resumed.epochsTrained).toBe(2)
    expect(await probabilities(resumed)).toEqual(await probabilities(straight))
  })

  it('an AdamW run with a warm-up and a cosine schedule resumes exactly, its recipe from the checkpoint', async () => {
    const recipe = { optimizer: 'adamw', weightDecay: 0.05, schedule: 'cosine', warmupEpochs: 1, epochs: 2, batchSize: 64 } as const
    const straight = createModel('lenet5', { seed: 2 })
    await straight.fit(train, recipe)
    const folder = join(dir, 'adamw')
    const controller = new AbortController()
    const first = createModel('lenet5', { seed: 2 })
    const stopped = first.fit(train, {
      ...recipe,
      checkpointDir: folder,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && e.epoch === 2 && e.batch === 3) controller.abort()
      },
    })
    await expect(stopped).rejects.toThrow(/abort/i)
    const resumed = await Model.loadCheckpoint(folder)
    expect(resumed.checkpoint?.recipe).toMatchObject({ ...recipe, lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, warmupStartFactor: 1 / 3 })
    expect(resumed.checkpoint?.recipe).not.toHaveProperty('momentum')
    // A cosine schedule ends with the planned epochs: more are refused.
    await expect(resumed.fit(train, { resume: true, epochs: 3 })).rejects.toThrow(/epochs 3 differs from the checkpoint's 2: a cosine schedule/)
    await resumed.fit(train, { resume: true })
    expect(await probabilities(resumed)).toEqual(await probabilities(straight))
  })

  it('refuses a resume that cannot continue the recorded run', async () => {
    const folder = join(dir, 'api-refusals')
    await createModel('lenet5').fit(train, { epochs: 1, batchSize: 64, checkpointDir: folder })
    const model = await Model.loadCheckpoint(latestCheckpoint(folder))
    await expect(model.fit(train, { resume: true, epochs: 3, lr: 0.5 })).rejects.toThrow(/lr 0.5 differs from the checkpoint's 0.01/)
    await expect(model.fit(train, { resume: true })).rejects.toThrow(/finished 1 of 1 epochs/)
    await expect(model.fit(train.take(320), { resume: true, epochs: 2 })).rejects.toThrow(/trained on 640 images, this training set has 320/)
    await expect(createModel('lenet5').fit(train, { resume: true })).rejects.toThrow(/Model.loadCheckpoint/)
    await model.fit(train, { resume: true, epochs: 2 })
    await expect(model.fit(train, { resume: true, epochs: 3 })).rejects.toThrow(/resumed already/)
    // A model file is not a checkpoint, and a damaged checkpoint names itself.
    const modelFile = join(dir, 'model.safetensors')
    await model.save(modelFile)
    await expect(Model.loadCheckpoint(modelFile)).rejects.toThrow(/is a model file, not a training checkpoint/)
    const damaged = join(dir, 'damaged')
    rmSync(damaged, { recursive: true, force: true })
    const bytes = readFileSync(latestCheckpoint(folder))
    const cut = join(folder, 'checkpoint-e0009.safetensors')
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100))
    await expect(Model.loadCheckpoint(folder)).rejects.toThrow(/checkpoint-e0009\.safetensors: not a complete safetensors checkpoint file/)
    // The weights of a checkpoint load as a model.
    expect((await Model.load(join(folder, 'checkpoint-e0001.safetensors'))).epochsTrained).toBe(1)
  })
})

describe('resume through the CLI', () => {
  const data = ['--limit', '1920', '--test-limit', '200', '--epochs', '2']

  it('Ctrl-C leaves a checkpoint, --resume finishes the run, and it equals an uninterrupted one', async () => {
    const folder = join(dir, 'cli')
    let sent = false
    const stopped = await runCli(['train', ...data, '--log-every', '1', '--checkpoint-dir', folder], {
      onStdout: (text, child) => {
        if (!sent && /^\[1, +3\]/m.test(text)) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toMatch(/^stopped at epoch 1, batch \d+; checkpoint written to .*checkpoint-e0000-b\d{5}\.safetensors \(continue with --resume\)$/m)
    expect(stopped.stderr).not.toMatch(STACK_OR_PANIC)

    const resumed = await runCli(['train', '--resume', folder, '--limit', '1920', '--test-limit', '200', '--save', join(dir, 'resumed.safetensors')])
    expect(resumed.stderr).not.toMatch(/error/)
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toMatch(/^resuming .*checkpoint-e0000-b\d{5}\.safetensors after 0 epochs and \d+ batches$/m)
    expect(readdirSync(folder).sort().slice(-2)).toEqual(['checkpoint-e0001.safetensors', 'checkpoint-e0002.safetensors'])

    const straight = await runCli(['train', ...data, '--quiet', '--save', join(dir, 'straight.safetensors')])
    expect(straight.code).toBe(0)
    const [a, b] = await Promise.all([Model.load(join(dir, 'resumed.safetensors')), Model.load(join(dir, 'straight.safetensors'))])
    expect(a.epochsTrained).toBe(2)
    expect(await probabilities(a)).toEqual(await probabilities(b))
  })

  it('refuses flags that contradict the checkpoint, and damaged checkpoints', async () => {
    const folder = join(dir, 'cli')
    const r = await runCli(['train', '--resume', folder, '--limit', '1920', '--lr', '0.3', '--epochs', '3'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toEqual(["error: lr 0.3 differs from the checkpoint's 0.01: a resumed run keeps its recipe"])
    const other = await runCli(['train', '--resume', folder, '--epochs', '3'])
    expect(other.stderr).toMatch(/trained on 1920 images, this training set has 60000/)
    const missing = await runCli(['train', '--resume', join(dir, 'nothing-here')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nothing-here/)
  })
})
