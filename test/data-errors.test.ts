import { afterAll, describe, expect, it } from 'vitest'
import { createModel, loadMnist } from '../dist/index.js'
import { Fixtures } from './helpers.js'

const fixtures = new Fixtures()
const dirs = fixtures.standard()
afterAll(() => fixtures.cleanup())

describe('loadMnist on MNIST-format folders', () => {
  it('loads a small folder, raw or with a gzipped file', async () => {
    for (const dir of [dirs.valid, dirs.gzipped]) {
      const { train, test } = await loadMnist({ dir })
      expect([train.length, test.length, train.height, train.width]).toEqual([64, 32, 28, 28])
    }
  })

  it('trains and evaluates on such a folder', async () => {
    const { train, test } = await loadMnist({ dir: dirs.gzipped })
    const history = await createModel().fit(train, { epochs: 1, batchSize: 16, validation: test })
    expect(history.epochs[0]?.testTotal).toBe(32)
  })

  it.each([
    ['a missing folder', 'notThere', /no-such-folder/, /not found/],
    ['a missing file', 'missingFile', /t10k-labels-idx1-ubyte/, /not found/],
    ['a truncated file', 'truncated', /train-images-idx3-ubyte/, /truncated/],
    ['a wrong magic number', 'wrongMagic', /train-images-idx3-ubyte/, /magic/],
    ['mismatched image and label counts', 'countMismatch', /train-labels-idx1-ubyte/, /63/],
  ] as const)('rejects %s with a message naming it', async (_what, key, names, says) => {
    const error: unknown = await loadMnist({ dir: dirs[key] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toMatch(names)
    expect(message).toMatch(says)
    expect(message).not.toMatch(/panicked/)
  })
})
