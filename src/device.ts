/**
 * Devices: what the loaded build of the addon can run on, and the choice
 * behind `device: 'auto'`.
 * @module
 */
import { loadedBinary, nativeBinding } from './native.js'
import { checkedOptions } from './options.js'
import type { Device } from './types.js'

/** What this process can run on, and why CUDA is missing when it is. */
export interface DeviceInfo {
  /** The build of the addon that is loaded: native (`cpu`, `cuda`) or WebAssembly (`wasm`, on the CPU). */
  binary: 'cpu' | 'cuda' | 'wasm'
  /** The device `'auto'` resolves to. */
  auto: 'cpu' | 'cuda'
  /** Whether a CUDA device can be used. */
  cuda: boolean
  /** Why CUDA cannot be used, when it cannot. */
  cudaUnavailable?: string
}

/** Loads the addon if needed and reports its devices. */
export function deviceInfo(): DeviceInfo {
  const binary = loadedBinary()
  const runtime = nativeBinding().runtimeInfo()
  const reason = binary.cudaUnavailable ?? (runtime.cudaAvailable ? undefined : `no usable CUDA device (${runtime.cudaError ?? 'unknown'})`)
  return {
    binary: binary.kind,
    auto: runtime.cudaAvailable ? 'cuda' : 'cpu',
    cuda: runtime.cudaAvailable,
    ...(reason === undefined ? {} : { cudaUnavailable: reason }),
  }
}

/**
 * Resolves a requested device: `'auto'` is the GPU when one can be used,
 * else the CPU.
 * @throws RangeError for an unknown device; Error for `'cuda'` where no CUDA device can be used, saying why
 */
export function resolveDevice(device?: unknown): 'cpu' | 'cuda' {
  // The core's names and default; unset is its default, `'auto'`.
  const { device: wanted } = checkedOptions('model', { device }) as { device: Device }
  if (wanted === 'cpu') return 'cpu'
  const info = deviceInfo()
  if (wanted === 'cuda' && !info.cuda) throw new Error(`CUDA is not available: ${info.cudaUnavailable}`)
  return wanted === 'cuda' ? 'cuda' : info.auto
}
