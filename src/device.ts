/**
 * Devices this build of the native addon can run on.
 * @module
 */
import type { Device } from './types.js'

/** The devices the native binary was built for (`cuda` is not in this build). */
export const nativeDevices: readonly ('cpu' | 'cuda')[] = Object.freeze(['cpu'])

const KNOWN: readonly Device[] = ['auto', 'cpu', 'cuda']

/**
 * Resolves a requested device to one this build supports.
 * @throws RangeError for an unknown device; Error for `'cuda'` in a build without CUDA
 */
export function resolveDevice(device: unknown = 'auto'): 'cpu' {
  if (typeof device !== 'string' || !(KNOWN as readonly string[]).includes(device)) {
    const got = typeof device === 'string' ? JSON.stringify(device) : typeof device
    const message = `device must be one of ${KNOWN.join(', ')} (got ${got})`
    throw typeof device === 'string' ? new RangeError(message) : new TypeError(message)
  }
  if (device === 'cuda') throw new Error('CUDA is not available in this build')
  return 'cpu'
}
