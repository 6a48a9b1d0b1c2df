import { describe, expect, it } from 'vitest'
import type { ProgressEvent, TrainResult } from '../src/index.js'
import { fitDefaultsFor, train } from '../src/index.js'
import type { Io } from '../src/cli/io.js'
import { createReporter } from '../src/cli/reporter.js'

/** Streams that record what is written, as a terminal (`tty`) or a pipe. */
function recorder(tty: boolean): Io & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    stdout: { write: (t: string) => out.push(t), isTTY: tty, columns: 100 },
    stderr: { write: (t: string) => err.push(t), isTTY: tty, columns: 100 },
  }
}

describe('the text and terminal reporters', () => {
  it('write the same lines on stdout; the terminal draws its bar on stderr instead of loss lines', async () => {
    const events: ProgressEvent[] = []
    const result: TrainResult = await train({
      model: 'lenet5',
      epochs: 1,
      limit: 256,
      testLimit: 64,
      batchSize: 32,
      logEvery: 2,
      onProgress: (e) => events.push(e),
    })
    const info = {
      model: 'lenet5',
      paramCount: result.model.paramCount,
      device: 'cpu',
      trainSize: 256,
      testSize: 64,
      epochs: 1,
      batchSize: 32,
      seed: 0,
      recipe: { ...fitDefaultsFor('sgd'), epochs: 1, batchSize: 32 },
    }
    const runs = [false, true].map((tty) => {
      const io = recorder(tty)
      const reporter = createReporter({ json: false, quiet: false }, io)
      reporter.start(info)
      for (const e of events) reporter.progress(e)
      reporter.done(result.history)
      reporter.saved('/tmp/m.safetensors')
      reporter.stopped({ epoch: 1, batch: 3 })
      reporter.error('boom')
      return io
    })
    const [text, tty] = runs as [ReturnType<typeof recorder>, ReturnType<typeof recorder>]
    const lossLines = text.out.filter((l) => l.startsWith('['))
    expect(lossLines.length).toBeGreaterThan(0)
    // The terminal shows the loss on its bar, not as lines; every other stdout line is the same.
    expect(tty.out).toEqual(text.out.filter((l) => !l.startsWith('[')))
    expect(tty.err.join('')).toContain('epoch 1/1 ')
    expect(tty.err.join('')).toContain('8/8')
    for (const io of runs) {
      const err = io.err.join('')
      expect(err).toContain('saved the model to /tmp/m.safetensors\n')
      expect(err).toContain('stopped at epoch 1, batch 3')
      expect(err).toContain('error: boom\n')
    }
  })
})
