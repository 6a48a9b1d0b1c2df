/**
 * A minimal PNG encoder for 8-bit grey and RGB images: the report embeds
 * misclassified images with it, and tests write real MNIST digits as files.
 * @module
 */
import { crc32, deflateSync } from 'node:zlib'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0)
  return Buffer.concat([head, data, crc])
}

/**
 * Encodes `width × height` gray bytes (row-major, 0 = black) as a PNG file.
 * @throws RangeError when `pixels` does not hold exactly `width × height` bytes
 */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers (got ${width}x${height})`)
  }
  if (pixels.length !== width * height) {
    throw new RangeError(`${pixels.length} pixels are not a ${width}x${height} image`)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 0 // colour type: grayscale
  // Each row starts with filter type 0 (none).
  const raw = Buffer.alloc((width + 1) * height)
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1)
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

/**
 * Encodes `3 × height × width` bytes (three planes: red, green, blue; each
 * row-major) as an RGB PNG file.
 * @throws RangeError when `planes` does not hold exactly that many bytes
 */
export function encodeRgbPng(planes: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers (got ${width}x${height})`)
  }
  const plane = width * height
  if (planes.length !== 3 * plane) throw new RangeError(`${planes.length} bytes are not a 3x${height}x${width} image`)
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // colour type: RGB
  const raw = Buffer.alloc((3 * width + 1) * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (3 * width + 1) + 1 + 3 * x
      for (let c = 0; c < 3; c++) raw[at + c] = planes[c * plane + y * width + x]
    }
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}
