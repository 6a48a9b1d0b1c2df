/**
 * Every file this package writes for a user (model files, checkpoints,
 * reports) is written by one writer in the core, and can be checked before
 * work starts: a symbolic link is followed
 * and the file it names replaced atomically; a target that exists and is not
 * a regular file (`/dev/null`, a named pipe, a folder) is refused, never
 * replaced; errors name the user's path, not a temporary file.
 * @module
 */
import { addonPath } from './addon-path.js'
import { nativeBinding } from './native.js'

/**
 * Checks, before any work, that a file can be written at `path`: it is a
 * regular file or absent (links followed), its folder exists, and a file
 * can be created there.
 * @returns the absolute path of the file that will be written
 * @throws Error naming `path` and what is wrong
 */
export function checkOutputFile(path: string): string {
  return nativeBinding().checkOutputPathFor(addonPath(path))
}

/**
 * Writes `data` to `path` atomically (see the module's rules).
 * @returns the absolute path of the file written (links followed)
 * @throws Error naming `path` when it is refused or cannot be written
 */
export function writeOutputFile(path: string, data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return nativeBinding().writeOutputFile(addonPath(path), bytes)
}

/**
 * Checks that a new training run may write its checkpoints into `dir`: a
 * folder holding another run's checkpoints is refused (naming that run), as
 * `fit` itself refuses it unless `startOver` is given. Changes nothing.
 * @throws Error naming the folder and the run found there
 */
export function checkCheckpointFolder(dir: string): void {
  nativeBinding().checkCheckpointDirFor(addonPath(dir))
}
