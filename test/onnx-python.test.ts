/**
 * Exported ONNX files through the ONNX project's own tools, in Python:
 * onnx.checker.check_model(full_check=True) and onnxruntime, for every zoo
 * model and a model of one's own (scripts/onnx-check-prepare.mjs, then
 * scripts/check-onnx.py). CI installs them into .venv-onnx (.ci/run);
 * ONNX_PYTHON names another interpreter that has onnx, onnxruntime and
 * numpy. A checkout without either skips this suite and says so.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { modelCatalog } from '../dist/index.js'
import { ROOT, presentOrSkip } from './helpers.js'

const PYTHON = process.env.ONNX_PYTHON ?? join(ROOT, '.venv-onnx', 'bin', 'python')
const available = presentOrSkip(
  existsSync(PYTHON),
  'test/onnx-python.test.ts',
  PYTHON,
  '.ci/run installs onnx and onnxruntime there; ONNX_PYTHON names another Python that has them and numpy',
)

describe.skipIf(!available)("exported files in Python's onnx and onnxruntime", () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-onnx-python-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('every zoo model and one of our own pass onnx.checker (full check) and give our logits within 1e-4, the same argmax on all', () => {
    const prepare = spawnSync(process.execPath, [join(ROOT, 'scripts', 'onnx-check-prepare.mjs'), dir], { cwd: ROOT, encoding: 'utf8' })
    expect(prepare.stderr).toBe('')
    expect(prepare.status).toBe(0)
    const check = spawnSync(PYTHON, [join(ROOT, 'scripts', 'check-onnx.py'), dir], { cwd: ROOT, encoding: 'utf8' })
    expect(check.stderr).toBe('')
    const models = modelCatalog().length + 1
    expect(check.stdout.trim().split('\n').at(-1)).toBe(`${models} passed, 0 failed`)
    expect(check.stdout.match(/^ok {3}\S+: checker ok, opset 17, IR 8; max \|diff\| \S+, argmax agrees 256\/256, labels 0\.\.9$/gm)).toHaveLength(models)
    expect(check.status).toBe(0)
  })
})
