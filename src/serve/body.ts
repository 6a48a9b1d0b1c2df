/**
 * Response bodies of `serve`, sent in slices as the socket takes them: a
 * client that reads slowly, or not at all, holds a slice or two of the
 * server's memory, never a copy of the body.
 * @module
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'

/** A body of known length, read from its start by each stream `open` returns. */
export interface Body {
  readonly length: number
  open(): Readable
}

/** Bytes per slice written to the socket. */
const SLICE = 64 * 1024

/** `parts` one after another: views of bytes in memory, sliced, not copied. */
export function bytesBody(parts: readonly Uint8Array[]): Body {
  function* slices(): Generator<Uint8Array> {
    for (const part of parts) {
      for (let at = 0; at < part.length; at += SLICE) yield part.subarray(at, at + SLICE)
    }
  }
  return {
    length: parts.reduce((sum, part) => sum + part.length, 0),
    open: () => Readable.from(slices(), { objectMode: false, highWaterMark: SLICE }),
  }
}

/** The file at `path`, read as it is sent, up to the size it has now. */
export async function fileBody(path: string): Promise<Body> {
  const { size } = await stat(path)
  // createReadStream takes an inclusive end, which an empty file has none of.
  if (size === 0) return bytesBody([])
  return { length: size, open: () => createReadStream(path, { end: size - 1 }) }
}
