/**
 * The runnable scripts in examples/ (docs/models.md, models of one's own),
 * each trained for one epoch on a small slice as a user would run them.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers.js'

const run = promisify(execFile)

describe('examples/', () => {
  for (const [script, name] of [
    ['googlenet.mjs', 'my-googlenet'],
    ['residual.mjs', 'small-resnet'],
    ['inception-7x7.mjs', 'inception-7x7'],
  ] as const) {
    it(`${script} trains, summarizes and saves its model`, async () => {
      const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'examples', script)], {
        cwd: ROOT,
        env: { ...process.env, EXAMPLE_LIMIT: '256' },
        timeout: 120_000,
      })
      expect(stdout, stderr).toMatch(/test accuracy after 1 epoch: \d+\.\d\d %/)
      expect(stdout).toMatch(/│ 'fc' +│ '10' +│/)
      expect(stdout).toContain(`${name}.safetensors`)
    })
  }
})
