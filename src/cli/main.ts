/**
 * The command-line program: commands, help, version and exit statuses.
 * @module
 */
import { Command, CommanderError } from 'commander'
import { deviceInfo } from '../device.js'
import { errorMessage } from '../errors.js'
import { packageName, version } from '../package-info.js'
import { type Io, processIo } from './io.js'
import { addonHelp } from './addon-help.js'
import { addBenchCommand } from './bench-command.js'
import { addCompareCommand } from './compare-command.js'
import { addCostCommand } from './cost-command.js'
import { addExportCommand } from './export-command.js'
import { addInfoCommand } from './info-command.js'
import { addInsightCommands } from './insight-commands.js'
import { addPredictCommand } from './predict-command.js'
import { addServeCommand } from './serve-command.js'
import { addTestCommand } from './test-command.js'
import { addTrainCommand } from './train-command.js'
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './usage-error.js'

/** Collapses commander's messages (which may span lines) into one line. */
function oneLine(text: string): string {
  return `${text.replace(/\s*\n\s*/g, ' ').trim()}\n`
}

/**
 * The version line: the package, the build of the addon that loads here and
 * the device `train` would use by default (and why not CUDA, when not).
 */
export function versionLine(): string {
  let native: string
  try {
    const info = deviceInfo()
    native = `native build: ${info.binary}; default device: ${info.auto}`
    if (info.cudaUnavailable !== undefined) native += `; CUDA unavailable: ${info.cudaUnavailable}`
  } catch (error) {
    native = `native build: none (${errorMessage(error)})`
  }
  return `${packageName} ${version} (${native})`
}

/** Builds the program; `done` receives the exit status of the command that ran. */
export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command()
    .name(packageName)
    .description('Train and run GoogLeNet-style CNNs on MNIST-format data (Rust core, candle)')
    // Not commander's .version(): the line loads the addon, only when asked.
    .option('-V, --version', 'print the version, the native build and the default device')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    // A command's options come before its subcommand (`compare --json` and
    // `compare merge --json` are two commands' flags).
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureHelp(addonHelp)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(oneLine(text)),
    })
  program.on('option:version', () => {
    io.stdout.write(`${versionLine()}\n`)
    throw new CommanderError(0, 'googlenet-native.version', '')
  })
  addTrainCommand(program, io, done)
  addTestCommand(program, io, done)
  addInfoCommand(program, io, done)
  addBenchCommand(program, io, done)
  addCostCommand(program, io, done)
  addInsightCommands(program, io, done)
  addCompareCommand(program, io, done)
  addPredictCommand(program, io, done)
  addExportCommand(program, io, done)
  addServeCommand(program, io, done)
  return program
}

/**
 * Runs the CLI with `argv` (without `node` and the script). Resolves to the
 * exit status: 0 success, 1 failure (bad data, native errors), 2 bad usage,
 * 130, 143 or 129 stopped by SIGINT, SIGTERM or SIGHUP. Never prints a stack trace.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let code = 0
  const program = buildProgram(io, (c) => {
    code = c
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return code
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`error: ${errorMessage(error)}\n`)
    return EXIT_FAILURE
  }
}
