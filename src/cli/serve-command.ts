/**
 * The `serve` command: the page that classifies a digit as it is drawn and
 * trains a model in the tab, on a local server.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { errorMessage } from '../errors.js'
import { Model } from '../model.js'
import { optionSpec } from '../options.js'
import { networkWarning } from '../serve/address.js'
import { DEFAULT_MODEL, RELAXED_WASM_FILE, pageDir, wasmFile } from '../serve/assets.js'
import { type RunningServer, startServer } from '../serve/server.js'
import type { RawFlags } from './flags.js'
import { schemaFlags, schemaOption } from './schema-flags.js'
import type { Io } from './io.js'
import { StopSignals } from './signals.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'

const DETAILS = `
The page has two panels. In the first, draw a digit with the mouse or a
finger: it is fitted into 28×28 the way MNIST was made and classified as
you draw, by the model --load names (by default the one bundled with the
package: googlenet trained by the reference recipe; the page shows its
test accuracy). In the second, train a zoo model (googlenet unless you
choose another) in the tab on MNIST, which this server sends, with a live chart of the loss and test accuracy, a stop
button, and the trained model to download as a safetensors file that
test --load and predict --load read.

Both panels run the WebAssembly build of the Rust core in a web worker:
the same engine as the native build, with threads. Nothing is fetched from
anywhere but this server. It listens on 127.0.0.1 unless --host says
otherwise (any address beyond loopback prints a warning: the page, and
training in it, are then open to the network), and answers only requests
addressed to it by that address or localhost. Ctrl+C stops it (status
130; SIGTERM 143, SIGHUP 129, as train).

Examples:
  $ googlenet-native serve
  $ googlenet-native serve --load model.safetensors --port 3000`

/** What the page feeds a model: one grey 28×28 image, as it draws digits and as MNIST's are. */
const PAGE_INPUT = [1, 28, 28] as const

/** The model file to serve, checked by loading it here first: a page that cannot load it would fail in silence. */
async function modelToServe(path: string): Promise<{ bytes: Uint8Array; name: string }> {
  const model = await Model.load(path)
  // The input its description (saved with the weights) says it takes: channels, height, width.
  const { input } = model.description
  if (input.some((size, i) => size !== PAGE_INPUT[i])) {
    throw new Error(`${path}: the page draws one grey 28×28 image, but this model takes ${input.join('×')}`)
  }
  return { bytes: await readFile(path), name: basename(path) }
}

function listenError(error: unknown, port: number): string {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE') return `port ${port} is in use: choose another with --port (0 picks a free one)`
  if (code === 'EACCES') return `port ${port} needs privileges this user lacks: choose one above 1023 with --port`
  return errorMessage(error)
}

/**
 * Adds `serve` to `program`.
 * @param done - receives the command's exit status
 */
export function addServeCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('serve')
    .description('serve a page that classifies digits as you draw them and trains a model in the browser tab')
    .option('--load <file>', 'the model the drawing panel uses (default: the bundled googlenet trained by the reference recipe)')
    .addOption(schemaOption(optionSpec('serve', 'port')))
    .option('--host <address>', 'the address to listen on (0.0.0.0 opens it to the network)', '127.0.0.1')
    .addHelpText('after', DETAILS)
    .action(async (raw: RawFlags) => {
      const { port: listenPort = optionSpec('serve', 'port').default as number } = schemaFlags(raw, 'serve') as { port?: number }
      // Node takes an empty host for every interface, the opposite of what an empty value suggests.
      const host = String(raw.host)
      if (host.trim() === '') throw new UsageError('--host must name an address to listen on (127.0.0.1 unless given)')
      // Before the URL is printed: a Ctrl+C the moment it shows must stop the server, not kill the process.
      const signals = new StopSignals()
      try {
        let server: RunningServer
        let modelName: string
        try {
          const model = await modelToServe(typeof raw.load === 'string' ? raw.load : DEFAULT_MODEL)
          const assets = { pageDir: pageDir(), wasmFile: wasmFile(), relaxedWasmFile: wasmFile(RELAXED_WASM_FILE) }
          server = await startServer({ host, port: listenPort, model, ...assets }).catch((error: unknown) => {
            throw new Error(listenError(error, listenPort))
          })
          modelName = model.name
        } catch (error) {
          io.stderr.write(`error: ${errorMessage(error)}\n`)
          done(EXIT_FAILURE)
          return
        }
        io.stdout.write(`Serving the page on ${server.url} (model: ${modelName}). Ctrl+C stops it.\n`)
        const warning = networkWarning(server.address.address)
        if (warning !== undefined) io.stderr.write(`warning: ${warning}\n`)
        if (!signals.signal.aborted) await new Promise((resolve) => signals.signal.addEventListener('abort', resolve, { once: true }))
        await server.close()
        done(signals.exitStatus)
      } finally {
        signals.dispose()
      }
    })
}
