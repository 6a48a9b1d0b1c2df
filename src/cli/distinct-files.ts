/**
 * Refuses, before any work, a command whose files collide: one file named
 * as an input and as an output (`export --load m --onnx m` would replace
 * the model with its export) or as two outputs (`train --save X --report X`
 * would replace the trained model with the report). Files are compared as
 * the system sees them: links followed, and an existing file by device and
 * inode, so another spelling of its path or a hard link is the same file.
 * @module
 */
import { realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { UsageError } from './usage-error.js'

/** A file a flag names. */
export interface FlagFile {
  flag: string
  path: string
}

/** The device and inode of the file at `path` (links followed), or undefined where there is none or it cannot be read. */
function inode(path: string): string | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false })
    return stat && `inode ${stat.dev}:${stat.ino}`
  } catch {
    // A link loop, a folder without permission: the core names such a path's fault when it opens it.
    return undefined
  }
}

/** What identifies the file at `path`: its device and inode if it exists, else its absolute path with links resolved. */
function identity(path: string): string {
  const id = inode(path)
  if (id) return id
  const absolute = resolve(path)
  try {
    return `path ${join(realpathSync(dirname(absolute)), basename(absolute))}`
  } catch {
    return `path ${absolute}`
  }
}

/**
 * @param inputs - the files the command reads (flags not given are left out)
 * @param outputs - the files it writes
 * @throws UsageError naming both flags when an output is an input or another output
 */
export function checkDistinctFiles(inputs: readonly FlagFile[], outputs: readonly FlagFile[]): void {
  const seen = inputs.map((file) => ({ ...file, id: identity(file.path), input: true }))
  for (const output of outputs) {
    const id = identity(output.path)
    const clash = seen.find((other) => other.id === id)
    if (clash) {
      const harm = clash.input ? 'writing it would destroy that input' : 'one would replace the other'
      throw new UsageError(`${output.flag} ${output.path} is the same file as ${clash.flag} ${clash.path}: ${harm}; choose another file`)
    }
    seen.push({ ...output, id, input: false })
  }
}
