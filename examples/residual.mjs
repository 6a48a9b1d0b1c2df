// A small residual network in ResNet's naming (layer1.0.conv1.weight,
// layer2.0.downsample.0.weight, …): a stem, two residual units (the second
// halves the resolution, so its shortcut is a strided 1×1 conv with batch
// norm), global average pooling and a linear classifier.
//
//   npm run build                          # once: the addon and dist/
//   node examples/residual.mjs             # one epoch on all of MNIST
//   EXAMPLE_LIMIT=512 node examples/residual.mjs    # a small slice, as CI runs it
//   node examples/residual.mjs --json      # prints the description instead
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { batchNorm, conv2d, globalAvgPool, linear, network, relu, residual, train } from 'googlenet-native'

// conv-bn-relu-conv-bn; the first conv strides when the unit downsamples.
const body = (channels, stride) => [
  { conv1: conv2d({ outChannels: channels, kernel: 3, stride, padding: 1 }), bn1: batchNorm() },
  relu(),
  { conv2: conv2d({ outChannels: channels, kernel: 3, padding: 1 }), bn2: batchNorm() },
]

// PyTorch numbers a Sequential's children 0, 1, …: integer-like keys go one per object, in an array.
const downsample = (channels) => ({
  downsample: [{ '0': conv2d({ outChannels: channels, kernel: 1, stride: 2 }) }, { '1': batchNorm() }],
})

const description = network(
  [
    { conv1: conv2d({ outChannels: 16, kernel: 3, padding: 1 }), bn1: batchNorm() },
    relu(),
    { 'layer1.0': residual(body(16)) }, // identity shortcut: 16×28×28 in and out
    relu(),
    { 'layer2.0': residual(body(32, 2), { shortcut: downsample(32) }) }, // 16×28×28 → 32×14×14
    relu(),
    { avgpool: globalAvgPool(), fc: linear({ outFeatures: 10 }) },
  ],
  { name: 'small-resnet' },
)

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(description, null, 2))
  process.exit(0)
}

const limit = process.env.EXAMPLE_LIMIT === undefined ? undefined : Number(process.env.EXAMPLE_LIMIT)
const { model: net, history } = await train({ model: description, epochs: 1, limit, testLimit: limit })
console.log(`test accuracy after ${history.epochs.length} epoch: ${((history.testAccuracy ?? 0) * 100).toFixed(2)} %`)

const summary = net.summary()
console.table(summary.layers.map(({ name, outputShape, params }) => ({ name, output: outputShape.join('×'), params })))
console.log(net.parameters().map((p) => `${p.name} [${p.shape.join(', ')}]`).join('\n'))

const file = join(mkdtempSync(join(tmpdir(), 'residual-example-')), 'small-resnet.safetensors')
await net.save(file)
console.log(`saved ${file}`)
