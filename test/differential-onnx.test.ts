/**
 * The ONNX leg of the differential test (crates/googlenet-core/tests/suite/differential.rs):
 * every random description that test generated was exported to ONNX with
 * its input batch and candle's logits for it (which the engine's match);
 * ONNX Runtime (onnxruntime-web, under Node) must compute the same logits
 * from the file. `npm run test:rust` writes the cases to
 * target/differential-onnx; `npm run differential` runs a longer sweep of
 * both legs (its folder in DIFFERENTIAL_ONNX_DIR).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-web'
import { describe, expect, it } from 'vitest'
import { onnxFormat } from '../dist/index.js'
import { ROOT, presentOrSkip } from './helpers.js'

/** |runtime − ours| ≤ TOLERANCE · max(1, |ours|), as the Rust leg compares the engine with candle. */
const TOLERANCE = 1e-4

const dir = process.env.DIFFERENTIAL_ONNX_DIR ?? join(ROOT, 'target', 'differential-onnx')
const cases = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []
const present = presentOrSkip(cases.length > 0, 'differential-onnx', `cases in ${dir}`, 'npm run test:rust writes them')

interface CaseInfo {
  n: number
  input: [number, number, number]
  classes: number
  description: unknown
}

function floats(file: string): Float32Array {
  const bytes = readFileSync(file)
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
}

describe.runIf(present)('ONNX Runtime computes what the engine and candle compute, on random descriptions', () => {
  it(`${cases.length} exported descriptions`, async () => {
    const failures: string[] = []
    let worst = 0
    for (const json of cases) {
      const stem = join(dir, json.replace(/\.json$/, ''))
      const info = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as CaseInfo
      const ours = floats(`${stem}.logits.bin`)
      const session = await ort.InferenceSession.create(`${stem}.onnx`)
      try {
        const input = new ort.Tensor('float32', floats(`${stem}.input.bin`), [info.n, ...info.input])
        const output = (await session.run({ [onnxFormat.input]: input }))[onnxFormat.output] as ort.Tensor
        expect(output.dims).toEqual([info.n, info.classes])
        const theirs = output.data as Float32Array
        const bad = ours.findIndex((v, i) => !(Math.abs(theirs[i] - v) <= TOLERANCE * Math.max(1, Math.abs(v))))
        ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(theirs[i] - v) / Math.max(1, Math.abs(v)))))
        if (bad !== -1) {
          failures.push(`${json}: logit ${bad} is ${theirs[bad]} in ONNX Runtime, ${ours[bad]} ours\n  ${JSON.stringify(info.description)}`)
        }
      } finally {
        await session.release()
      }
    }
    console.info(`differential-onnx: ${cases.length} cases, largest relative difference ${worst.toExponential(2)}`)
    expect(failures).toEqual([])
  })
})
