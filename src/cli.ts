#!/usr/bin/env node
/**
 * The `googlenet-native` command-line entry point.
 * @module
 */
import { main } from './cli/main.js'
import { quietWasiWarnings } from './cli/quiet-wasi.js'

quietWasiWarnings()

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // A closed pipe (e.g. `| head`) ends the run quietly.
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const code = await main(process.argv.slice(2))
process.exit(code)
