/**
 * The `cost` command: the tutorial's 1×1 lesson, in multiplies.
 * @module
 */
import { type Command, Option } from 'commander'
import { type BottleneckCost, TUTORIAL_BOTTLENECK, bottleneckCost, convolutionCost } from '../cost.js'
import { type RawFlags, atLeastOne, numberFlag } from './flags.js'
import { formatCount } from './format.js'
import type { Io } from './io.js'

interface Shape {
  inChannels: number
  outChannels: number
  kernel: number
  height: number
  width: number
  reduceTo: number
}

/** The two costs side by side, with the parts of the reduced one. */
function formatCost(s: Shape, c: BottleneckCost): string {
  const k = `${s.kernel}×${s.kernel}`
  const head = convolutionCost({ ...s, outChannels: s.reduceTo, kernel: 1 })
  const labels = ['direct', `1×1 to ${s.reduceTo} channels, then ${k}`]
  const labelWidth = Math.max(...labels.map((l) => l.length))
  const width = Math.max(formatCount(c.direct).length, formatCount(c.reduced).length)
  const row = (label: string, x: number): string => `  ${label.padEnd(labelWidth)}  ${formatCount(x).padStart(width)} multiplies`
  return [
    `${k} convolution from ${s.inChannels} to ${s.outChannels} channels on ${s.height}×${s.width} (stride 1, same padding):`,
    row(labels[0] as string, c.direct),
    `${row(labels[1] as string, c.reduced)} (${formatCount(head)} + ${formatCount(c.reduced - head)})`,
    `the 1×1 reduction needs ${c.ratio.toFixed(2)}× fewer multiplies`,
    '',
  ].join('\n')
}

/** Adds `cost` to `program`; `done` receives the exit status. */
export function addCostCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const t = TUTORIAL_BOTTLENECK
  return program
    .command('cost')
    .description("a convolution's multiplies, directly and behind a 1×1 reduction (default: the tutorial's example)")
    .addOption(new Option('--in-channels <n>', 'input channels').default(t.inChannels))
    .addOption(new Option('--out-channels <n>', 'output channels').default(t.outChannels))
    .addOption(new Option('--kernel <n>', 'kernel side').default(t.kernel))
    .addOption(new Option('--size <n>', 'image height and width').default(t.height))
    .addOption(new Option('--reduce-to <n>', 'channels of the 1×1 reduction').default(t.reduceTo))
    .addOption(new Option('--json', 'print {"direct","reduced","ratio"}'))
    .action((raw: RawFlags) => {
      const size = numberFlag(raw, 'size', '--size', atLeastOne, t.height)
      const shape: Shape = {
        inChannels: numberFlag(raw, 'inChannels', '--in-channels', atLeastOne, t.inChannels),
        outChannels: numberFlag(raw, 'outChannels', '--out-channels', atLeastOne, t.outChannels),
        kernel: numberFlag(raw, 'kernel', '--kernel', atLeastOne, t.kernel),
        height: size,
        width: size,
        reduceTo: numberFlag(raw, 'reduceTo', '--reduce-to', atLeastOne, t.reduceTo),
      }
      const cost = bottleneckCost(shape)
      io.stdout.write(raw.json === true ? `${JSON.stringify(cost)}\n` : formatCost(shape, cost))
      done(0)
    })
}
