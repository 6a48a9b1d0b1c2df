// Pure formatting and flag parsing of the CLI (no addon needed).
import { describe, expect, it } from 'vitest'
import { formatAccuracy, formatCount, formatDone, formatStopped, formatWindow } from '../src/cli/format.js'
import { formatEta, renderBar } from '../src/cli/progress-bar.js'
import { parseTrainFlags } from '../src/cli/train-flags.js'
import { UsageError } from '../src/cli/usage-error.js'

describe('CLI formats', () => {
  it("writes the running loss like Python's '[%d, %5d] loss: %.3f'", () => {
    expect(formatWindow(1, 300, 0.41234)).toBe('[1,   300] loss: 0.412')
    expect(formatWindow(10, 900, 0.0425)).toBe('[10,   900] loss: 0.043')
    expect(formatWindow(2, 123456, 1)).toBe('[2, 123456] loss: 1.000')
  })

  it("writes the tutorial's accuracy line, percent rounded down", () => {
    expect(formatAccuracy(9881, 10000)).toBe('Accuracy on test set: 98 % [9881/10000]')
    expect(formatAccuracy(9999, 10000)).toBe('Accuracy on test set: 99 % [9999/10000]')
    expect(formatAccuracy(29, 100)).toBe('Accuracy on test set: 29 % [29/100]')
    expect(formatAccuracy(32, 32)).toBe('Accuracy on test set: 100 % [32/32]')
  })

  it('writes counts, stop positions and the final line', () => {
    expect(formatCount(97298)).toBe('97,298')
    expect(formatCount(1234567.4)).toBe('1,234,567')
    expect(formatStopped({ epoch: 2, batch: 17 })).toBe('stopped at epoch 2, batch 17')
    expect(formatStopped(undefined)).toBe('stopped before training started')
    const record = { epoch: 1, loss: 0.3, seconds: 10, trainImagesPerSec: 6000, testAccuracy: 0.9881, testCorrect: 9881, testTotal: 10000 }
    expect(formatDone({ epochs: [record], seconds: 12.34, warnings: [] })).toBe('done: 1 epoch in 12.3 s, test accuracy 98.81 % [9881/10000]')
  })

  it('draws bars and times', () => {
    expect(renderBar(0.5, 10)).toBe('█████░░░░░')
    expect(renderBar(2, 4)).toBe('████')
    expect(renderBar(Number.NaN, 3)).toBe('░░░')
    expect(formatEta(75)).toBe('1:15')
    expect(formatEta(Number.NaN)).toBe('--:--')
  })
})

describe('train flags', () => {
  it('applies the reference defaults', () => {
    expect(parseTrainFlags({})).toEqual({
      model: 'googlenet',
      epochs: 10,
      batchSize: 64,
      recipe: {},
      seed: 0,
      logEvery: 300,
      device: 'auto',
      json: false,
      quiet: false,
      startOver: false,
      folder: {},
      given: new Set(),
    })
  })

  it('parses given values', () => {
    const flags = parseTrainFlags({ epochs: '3', batchSize: '32', lr: '1e-3', momentum: '0', seed: '0', limit: '640', data: 'd', json: true })
    expect(flags).toMatchObject({ epochs: 3, batchSize: 32, recipe: { lr: 0.001, momentum: 0 }, seed: 0, limit: 640, data: 'd', json: true })
    const adamw = parseTrainFlags({ optimizer: 'adamw', weightDecay: '0.05', beta2: '0.99', schedule: 'cosine', warmupEpochs: '1', warmupStartFactor: '0.1' })
    expect(adamw.recipe).toEqual({ optimizer: 'adamw', weightDecay: 0.05, beta2: 0.99, schedule: 'cosine', warmupEpochs: 1, warmupStartFactor: 0.1 })
    const sgd = parseTrainFlags({ nesterov: true, momentum: '0.9', schedule: 'step', stepEpochs: '3', stepGamma: '0.5' })
    expect(sgd.recipe).toEqual({ nesterov: true, momentum: 0.9, schedule: 'step', stepEpochs: 3, stepGamma: 0.5 })
  })

  it.each([
    [{ epochs: '' }, '--epochs must be an integer in [1, 4294967295] (got "")'],
    [{ batchSize: '2.5' }, '--batch-size must be an integer in [1, 1024] (got 2.5)'],
    [{ lr: 'Infinity' }, '--lr must be a finite number > 0 (got Infinity)'],
    [{ testLimit: '0' }, '--test-limit must be an integer in [1, 4294967295] (got 0)'],
    [{ logEvery: 'x' }, '--log-every must be an integer in [1, 4294967295] (got x)'],
    [{ optimizer: 'lamb' }, '--optimizer must be one of sgd, adam, adamw (got "lamb")'],
    [{ schedule: 'linear' }, '--schedule must be one of constant, step, cosine (got "linear")'],
    [{ weightDecay: '-1' }, '--weight-decay must be a finite number >= 0 (got -1)'],
    [{ optimizer: 'adam', beta1: '1' }, '--beta1 must be a finite number in [0, 1) (got 1)'],
    [{ optimizer: 'adam', eps: '0' }, '--eps must be a finite number > 0 (got 0)'],
    [{ schedule: 'step', stepEpochs: '0' }, '--step-epochs must be an integer in [1, 4294967295] (got 0)'],
    [{ schedule: 'step', stepGamma: '1.5' }, '--step-gamma must be a finite number in (0, 1] (got 1.5)'],
    [{ warmupEpochs: '-1' }, '--warmup-epochs must be an integer in [0, 4294967295] (got -1)'],
    [{ warmupEpochs: '1', warmupStartFactor: '0' }, '--warmup-start-factor must be a finite number in (0, 1] (got 0)'],
    // Settings that do not fit together: the core's rules, under the flags' names.
    [{ optimizer: 'adam', momentum: '0.9' }, '--momentum does not apply to the adam optimizer (only to sgd)'],
    [{ beta1: '0.8' }, '--beta1 does not apply to the sgd optimizer'],
    [{ nesterov: true, momentum: '0' }, '--nesterov needs a momentum > 0'],
    [{ stepGamma: '0.5' }, '--step-gamma does not apply to the constant schedule (only to step)'],
    [{ warmupStartFactor: '0.5' }, '--warmup-start-factor does not apply to a run without warm-up (set warmupEpochs)'],
    [{ epochs: '2', warmupEpochs: '2' }, '--warmup-epochs must be fewer than the epochs (2): the warm-up ends before the run does (got 2)'],
  ])('rejects %o', (raw, message) => {
    expect(() => parseTrainFlags(raw)).toThrow(UsageError)
    expect(() => parseTrainFlags(raw)).toThrow(message)
  })
})
