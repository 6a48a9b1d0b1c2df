// The tutorial's GoogLeNet (two InceptionA modules), described in a few lines,
// then trained for one epoch, summarized and saved.
//
//   npm run build                          # once: the addon and dist/
//   node examples/googlenet.mjs            # trains on all 60,000 images (about a minute on 2 cores)
//   EXAMPLE_LIMIT=512 node examples/googlenet.mjs   # a small slice, as CI runs it
//   node examples/googlenet.mjs --json     # prints the description instead (the file for --model-file)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Model, avgPool, concat, conv2d, flatten, linear, maxPool, network, relu, train } from 'googlenet-native'

// The tutorial's InceptionA: the branches' convs are named, the branches are not.
const inception = () =>
  concat([
    { branch1x1: conv2d({ outChannels: 16, kernel: 1 }) },
    { branch5x5_1: conv2d({ outChannels: 16, kernel: 1 }), branch5x5_2: conv2d({ outChannels: 24, kernel: 5, padding: 2 }) },
    {
      branch3x3_1: conv2d({ outChannels: 16, kernel: 1 }),
      branch3x3_2: conv2d({ outChannels: 24, kernel: 3, padding: 1 }),
      branch3x3_3: conv2d({ outChannels: 24, kernel: 3, padding: 1 }),
    },
    [avgPool({ kernel: 3, stride: 1, padding: 1 }), { branch_pool: conv2d({ outChannels: 24, kernel: 1 }) }],
  ])

// Net: keys name the layers as PyTorch does (conv1.weight, incep1.branch5x5_2.bias, fc.weight, …).
const description = network(
  [
    { conv1: conv2d({ outChannels: 10, kernel: 5 }), pool1: maxPool({ kernel: 2 }) },
    relu(),
    { incep1: inception(), conv2: conv2d({ outChannels: 20, kernel: 5 }), pool2: maxPool({ kernel: 2 }) },
    relu(),
    { incep2: inception(), flatten: flatten(), fc: linear({ outFeatures: 10 }) },
  ],
  { name: 'my-googlenet' },
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
console.log(`${summary.params.toLocaleString('en-US')} parameters, ${summary.macs.toLocaleString('en-US')} MACs per image`)

// The description travels in the file's metadata: Model.load rebuilds the net with no code.
const file = join(mkdtempSync(join(tmpdir(), 'googlenet-example-')), 'my-googlenet.safetensors')
await net.save(file)
const again = await Model.load(file)
console.log(`saved ${file}; loaded back as ${again.name} with ${again.paramCount.toLocaleString('en-US')} parameters`)
