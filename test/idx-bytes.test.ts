/**
 * The binding's IDX bytes for hosts with no file system (the page of
 * `serve` runs it in a browser tab, on the WebAssembly build) give what
 * the same files give; on the native build, against loadMnistSplit. Model
 * and image bytes are public API, tested in saved and predict.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { nativeBinding } from '../src/native.js'
import { MNIST_DIR, idxImages, idxLabels, mnistSample } from './helpers.js'

const binding = nativeBinding()

describe('IDX bytes instead of files', () => {
  it('NativeDataset.fromIdx reads IDX bytes, raw or gzipped, as loadMnistSplit reads the files, and names them in errors', async () => {
    const files = await binding.loadMnistSplit(MNIST_DIR, 'test')
    const images = readFileSync(join(MNIST_DIR, 't10k-images-idx3-ubyte'))
    const labels = readFileSync(join(MNIST_DIR, 't10k-labels-idx1-ubyte'))
    for (const [i, l] of [
      [images, labels],
      [gzipSync(images), gzipSync(labels)],
    ] as const) {
      const bytes = binding.NativeDataset.fromIdx(i, l, 'test images', 'test labels')
      expect([bytes.length, bytes.height, bytes.width, bytes.source]).toEqual([10_000, 28, 28, 'test images'])
      expect(bytes.labels().equals(files.labels())).toBe(true)
      expect(bytes.image(9_999).equals(files.image(9_999))).toBe(true)
    }
    const { images: five, labels: four } = { images: mnistSample(5, 't10k').images, labels: mnistSample(4, 't10k').labels }
    expect(() => binding.NativeDataset.fromIdx(idxImages(five, 5), idxLabels(four), 'a', 'b')).toThrow('b: 4 labels, but a holds 5 images')
    expect(() => binding.NativeDataset.fromIdx(idxLabels(four), idxLabels(four), 'a', 'b')).toThrow(/^a: /)
  })
})
