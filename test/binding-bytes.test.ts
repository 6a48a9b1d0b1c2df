/**
 * The binding's functions for hosts with no file system (the page of
 * `serve` runs them in a browser tab, on the WebAssembly build): model
 * files, IDX files and images as bytes give what the same files give.
 * Here on the native build, against the file-based functions.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { nativeBinding } from '../src/native.js'
import { encodeGrayPng } from '../src/png.js'
import { MNIST_DIR, PIXELS, ROOT, idxImages, idxLabels, mnistSample } from './helpers.js'

const binding = nativeBinding()
const MODEL = join(ROOT, 'models', 'googlenet-mnist.safetensors')
const dir = mkdtempSync(join(tmpdir(), 'googlenet-bytes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('bytes instead of files', () => {
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

  it('NativeModel.fromBytes loads what load loads; toBytes is the file save writes', async () => {
    const bytes = readFileSync(MODEL)
    const fromFile = binding.NativeModel.load(MODEL)
    const fromBytes = binding.NativeModel.fromBytes(bytes, 'bundled.safetensors')
    expect(fromBytes.loadedInfo).toEqual(fromFile.loadedInfo)
    expect(fromBytes.loadedInfo).toMatchObject({ model: 'googlenet', epochs: 10, testAccuracy: 0.9883 })
    const { images } = mnistSample(64, 't10k')
    const expected = await fromFile.predict(images, 64, 28, 28)
    expect(await fromBytes.predict(images, 64, 28, 28)).toEqual(expected)

    const info = { model: 'googlenet', epochs: 10, testAccuracy: 0.9883, version: '0.0.0-test' }
    const again = binding.NativeModel.fromBytes(fromBytes.toBytes(info), 'again')
    expect(again.loadedInfo).toEqual(info)
    expect(await again.predict(images, 64, 28, 28)).toEqual(expected)
    const saved = join(dir, 'saved.safetensors')
    fromBytes.save(saved, info)
    expect(binding.NativeModel.load(saved).loadedInfo).toEqual(binding.NativeModel.fromBytes(fromBytes.toBytes(info), 'x').loadedInfo)

    expect(() => binding.NativeModel.fromBytes(bytes.subarray(0, 1000), 'cut.safetensors')).toThrow(/^cut\.safetensors: /)
  })

  it('decodeDigitImage reads a PNG from bytes as readDigitImage reads it from a file', async () => {
    const { images } = mnistSample(3, 't10k')
    for (let i = 0; i < 3; i++) {
      const png = encodeGrayPng(images.subarray(i * PIXELS, (i + 1) * PIXELS), 28, 28)
      const file = join(dir, `digit-${i}.png`)
      writeFileSync(file, png)
      expect(await binding.decodeDigitImage(png)).toEqual(await binding.readDigitImage(file))
    }
    await expect(binding.decodeDigitImage(new Uint8Array([1, 2, 3]))).rejects.toThrow('not a PNG or JPEG image')
  })
})
