// Exports every zoo model and the tests' model of one's own
// (test/fixtures/onnx-custom-net.json), each briefly trained, to ONNX files
// in a folder, with the test images and our logits for them, for
// scripts/check-onnx.py to run through Python's onnx.checker and
// onnxruntime; test/onnx-python.test.ts runs both in CI (beside
// test/onnx-export.test.ts, which runs ONNX Runtime from npm).
//
//   npm run build                                    # once: the addon and dist/
//   node scripts/onnx-check-prepare.mjs /tmp/onnx-check
//   python3 scripts/check-onnx.py /tmp/onnx-check
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createModel, loadMnist, modelCatalog } from '../dist/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const [outArg] = process.argv.slice(2)
if (!outArg) {
  console.error('usage: node scripts/onnx-check-prepare.mjs <folder>')
  process.exit(2)
}
const out = resolve(outArg)
mkdirSync(out, { recursive: true })

const TRAIN_IMAGES = 512
const TEST_IMAGES = 256
const mnist = await loadMnist()
const train = mnist.train.take(TRAIN_IMAGES)
const test = mnist.test.take(TEST_IMAGES)
const images = new Uint8Array(TEST_IMAGES * test.height * test.width)
for (let i = 0; i < TEST_IMAGES; i++) images.set(test.image(i), i * test.height * test.width)
writeFileSync(join(out, 'images.u8'), images)

const custom = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'onnx-custom-net.json'), 'utf8'))
const models = []
for (const source of [...modelCatalog().map((m) => m.name), custom]) {
  const model = createModel(source, { seed: 1 })
  await model.fit(train, { epochs: 1, batchSize: 64 })
  const file = `${model.name}.onnx`
  await model.exportOnnx(join(out, file))
  const logits = await model.logits(images)
  writeFileSync(join(out, `${model.name}.logits.f32`), new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength))
  models.push({ name: model.name, onnx: file, logits: `${model.name}.logits.f32` })
  console.log(`exported ${file}`)
}
const manifest = { images: 'images.u8', count: TEST_IMAGES, height: test.height, width: test.width, models }
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
console.log(`wrote ${models.length} models to ${out}; next: python3 scripts/check-onnx.py ${outArg}`)
