/**
 * Finding training checkpoints on disk (they are written by `fit` with
 * `checkpointDir` and read by {@link Model.loadCheckpoint}).
 * @module
 */
import { addonPath } from './addon-path.js'
import { nativeBinding } from './native.js'

/**
 * The furthest checkpoint in folder `dir`: the one after the most epochs
 * (and batches, for a run stopped mid-epoch).
 * @throws Error naming the folder when it cannot be read or holds no checkpoint
 */
export function latestCheckpoint(dir: string): string {
  return furthestCheckpoint(dir).path
}

/**
 * {@link latestCheckpoint}, with the progress its name stands for: whole
 * epochs, and batches of the next one (non-zero when the run stopped mid-epoch).
 * @internal
 */
export function furthestCheckpoint(dir: string): { path: string; epochsDone: number; batchesDone: number } {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string')
  return nativeBinding().latestCheckpointIn(addonPath(dir))
}
