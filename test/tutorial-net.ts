/** The tutorial's Net written with the builder, as docs/models.md writes it: shared by the builder's and the models' tests. */
import { type ModelDescription, avgPool, concat, conv2d, flatten, linear, maxPool, network, relu } from '../dist/index.js'

/** The tutorial's InceptionA: the branches' convs are named, the branches are not. */
export const inceptionA = () =>
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

/** The tutorial's Net under `name` (the zoo calls it `googlenet`). */
export function tutorialNet(name = 'googlenet'): ModelDescription {
  return network(
    [
      { conv1: conv2d({ outChannels: 10, kernel: 5 }), pool1: maxPool({ kernel: 2 }) },
      relu(),
      { incep1: inceptionA(), conv2: conv2d({ outChannels: 20, kernel: 5 }), pool2: maxPool({ kernel: 2 }) },
      relu(),
      { incep2: inceptionA(), flatten: flatten(), fc: linear({ outFeatures: 10 }) },
    ],
    { name },
  )
}
