// An Inception module of one's own: beside the 1×1, 3×3 and pool branches of
// the tutorial's InceptionA, a 7×7 branch (1×1 reduction first, as the
// tutorial's 1×1 lesson recommends) sees a wider neighbourhood. Batch norm
// after the stem; global average pooling instead of flatten keeps the
// classifier small.
//
//   npm run build                          # once: the addon and dist/
//   node examples/inception-7x7.mjs        # one epoch on all of MNIST
//   EXAMPLE_LIMIT=512 node examples/inception-7x7.mjs   # a small slice, as CI runs it
//   node examples/inception-7x7.mjs --json # prints the description instead
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { avgPool, batchNorm, concat, conv2d, globalAvgPool, linear, maxPool, network, relu, train } from 'googlenet-native'

// Output channels: 16 + 24 + 24 + 16 = 80, at the input's height and width.
const inception7x7 = () =>
  concat([
    { branch1x1: conv2d({ outChannels: 16, kernel: 1 }) },
    { branch7x7_1: conv2d({ outChannels: 8, kernel: 1 }), branch7x7_2: conv2d({ outChannels: 24, kernel: 7, padding: 3 }) },
    { branch3x3_1: conv2d({ outChannels: 16, kernel: 1 }), branch3x3_2: conv2d({ outChannels: 24, kernel: 3, padding: 1 }) },
    [avgPool({ kernel: 3, stride: 1, padding: 1 }), { branch_pool: conv2d({ outChannels: 16, kernel: 1 }) }],
  ])

const description = network(
  [
    { conv1: conv2d({ outChannels: 32, kernel: 3, padding: 1 }), bn1: batchNorm() },
    relu(),
    { pool1: maxPool({ kernel: 2 }) }, // 32×14×14
    { incep1: inception7x7() }, // 80×14×14
    relu(),
    { pool2: maxPool({ kernel: 2 }) }, // 80×7×7
    { incep2: inception7x7() }, // 80×7×7
    relu(),
    { avgpool: globalAvgPool(), fc: linear({ outFeatures: 10 }) },
  ],
  { name: 'inception-7x7' },
)

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(description, null, 2))
  process.exit(0)
}

const limit = process.env.EXAMPLE_LIMIT === undefined ? undefined : Number(process.env.EXAMPLE_LIMIT)
const { model: net, history } = await train({ model: description, epochs: 1, limit, testLimit: limit })
console.log(`test accuracy after ${history.epochs.length} epoch: ${((history.testAccuracy ?? 0) * 100).toFixed(2)} %`)

const summary = net.summary()
console.table(summary.layers.map(({ name, outputShape, params, macs }) => ({ name, output: outputShape.join('×'), params, macs })))
console.log(`${summary.params.toLocaleString('en-US')} parameters, ${summary.macs.toLocaleString('en-US')} MACs per image`)

const file = join(mkdtempSync(join(tmpdir(), 'inception-7x7-example-')), 'inception-7x7.safetensors')
await net.save(file)
console.log(`saved ${file}`)
