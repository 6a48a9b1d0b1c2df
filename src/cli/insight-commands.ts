/**
 * The `summary`, `trace` and `describe` commands: a model's layers, shapes,
 * parameters and multiply-accumulates, and its description.
 * @module
 */
import { type Command, Option } from 'commander'
import { errorMessage } from '../errors.js'
import { type ModelSummary, TraceError, type TraceStep, summarize, traceShapes } from '../insight.js'
import { optionSpec } from '../options.js'
import { schemaFlags, schemaOption } from './schema-flags.js'
import { modelEntry } from '../catalog.js'
import { describeModel } from '../describe/source.js'
import { nativeBinding } from '../native.js'
import { depthRange, modelChoices } from './addon-help.js'
import type { RawFlags } from './flags.js'
import { modelFileOption, modelFlags } from './model-flags.js'
import { formatCount, table } from './format.js'
import type { Io } from './io.js'
import { EXIT_FAILURE, EXIT_USAGE } from './usage-error.js'

const shape = (dims: readonly number[]): string => dims.join('×')

function formatSummary(s: ModelSummary): string {
  const rows = [
    ['layer', 'output', 'params', 'MACs'],
    ...s.layers.map((l) => [l.name, shape(l.outputShape), formatCount(l.params), formatCount(l.macs)]),
    ['total', '', formatCount(s.params), formatCount(s.macs)],
  ]
  return (
    `${s.model}: ${formatCount(s.params)} parameters, ${formatCount(s.macs)} multiply-accumulates per image ` +
    `(MACs count convolutions and linear layers only)\n${table(rows, 2)}\n`
  )
}

function formatTrace(height: number, width: number, steps: readonly TraceStep[]): string {
  return `${table([['input', shape([1, height, width])], ...steps.map((s) => [s.name, shape(s.outputShape)])], 2)}\n`
}

/** Adds `summary`, `trace` and `describe` to `program`; `done` receives the exit status. */
export function addInsightCommands(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('summary')
    .description("every layer's output shape, parameters and multiply-accumulates, with totals")
    .addOption(modelChoices(new Option('--model <name>', 'model to describe')))
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
    .addOption(modelFileOption())
    .addOption(new Option('--json', 'print {"model","params","macs","layers":[…]}'))
    .action((raw: RawFlags, command: Command) => {
      const { model, depth } = modelFlags(raw, command.getOptionValueSource('model') === 'cli')
      try {
        const s = summarize(model, depth === undefined ? {} : { depth })
        io.stdout.write(raw.json === true ? `${JSON.stringify(s)}\n` : formatSummary(s))
        done(0)
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
      }
    })
  program
    .command('trace')
    .description("run one dummy image through a model and print each layer's output shape as data flows")
    .addOption(modelChoices(new Option('--model <name>', 'model to trace')))
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
    .addOption(modelFileOption())
    .addOption(schemaOption(optionSpec('trace', 'height')))
    .addOption(schemaOption(optionSpec('trace', 'width')))
    .addOption(new Option('--json', 'print one {"name","outputShape"} object per line'))
    .action((raw: RawFlags, command: Command) => {
      const { model, depth } = modelFlags(raw, command.getOptionValueSource('model') === 'cli')
      const [, ownHeight, ownWidth] = typeof model === 'string' ? [0, modelEntry(model).height, modelEntry(model).width] : model.input
      const { height = ownHeight, width = ownWidth } = schemaFlags(raw, 'trace') as { height?: number; width?: number }
      const print = (steps: readonly TraceStep[]): void => {
        io.stdout.write(raw.json === true ? steps.map((s) => `${JSON.stringify(s)}\n`).join('') : formatTrace(height, width, steps))
      }
      try {
        print(traceShapes(model, { height, width, ...(depth === undefined ? {} : { depth }) }))
        done(0)
      } catch (error) {
        // Show how far the data got before the layer that does not fit. The
        // size came from --height/--width, so that is a usage error too.
        if (error instanceof TraceError) print(error.steps)
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(error instanceof TraceError ? EXIT_USAGE : EXIT_FAILURE)
      }
    })
  program
    .command('describe')
    .description('print a model\'s description: the JSON that --model-file reads (docs/model-description.md)')
    .addOption(modelChoices(new Option('--model <name>', 'model to describe')))
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
    .addOption(new Option('--model-file <file>', 'check a description file instead, and print it in canonical form'))
    .addHelpText('after', DESCRIBE_EXAMPLES)
    .action((raw: RawFlags, command: Command) => {
      const { model, depth } = modelFlags(raw, command.getOptionValueSource('model') === 'cli')
      const description = typeof model === 'string' ? describeModel(model, depth === undefined ? {} : { depth }) : model
      // The core's canonical text: one line per layer, as docs/model-description.md shows it.
      io.stdout.write(nativeBinding().checkDescription(JSON.stringify(description)))
      done(0)
    })
}

const DESCRIBE_EXAMPLES = `
Examples:
  $ googlenet-native describe > net.json                  # the tutorial's GoogLeNet, to start from
  $ googlenet-native describe --model resnet --depth 2
  $ googlenet-native train --model-file net.json --epochs 1
  $ googlenet-native describe --model-file net.json       # check a file; print it in canonical form
`
