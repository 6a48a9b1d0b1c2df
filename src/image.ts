/**
 * Digits from image files: {@link readDigitImage}.
 * @module
 */
import { nativeBinding } from './native.js'

/** A digit read from an image file by {@link readDigitImage}. */
export interface DigitImage {
  /** 28×28 values in [0, 1], row-major, ink bright on black as in MNIST: ready for `model.predict`. */
  pixels: Float32Array
  /** True when the image was dark on light (e.g. a pen drawing on paper) and was inverted. */
  inverted: boolean
  /** Width of the image in the file, in pixels. */
  width: number
  /** Height of the image in the file, in pixels. */
  height: number
}

/**
 * Reads a PNG or JPEG file and fits the digit in it into a 28×28 image the
 * way MNIST was made, off the event loop:
 *
 * 1. The image becomes gray; transparent areas count as white paper.
 * 2. Polarity: when most of the outermost ring of pixels is brighter than
 *    mid-gray, the background is light, and the image is inverted so the
 *    digit is light on dark as in MNIST (`inverted: true`). The background's
 *    level then becomes black, so gray paper in a photo reads as MNIST's
 *    black.
 * 3. The ink is cropped to its bounding box and scaled, keeping its aspect
 *    ratio, so the larger side is 20 pixels (area averaging when shrinking).
 * 4. It is placed in a 28×28 black field with its centre of mass at the
 *    centre, shifted by whole pixels.
 *
 * An image without ink gives an all-black digit. Images larger than
 * 8192×8192 pixels (or 256 MiB decoded) are refused.
 * @throws (rejects) Error naming the file when it is missing, not a PNG or JPEG, damaged or too large
 */
export async function readDigitImage(path: string): Promise<DigitImage> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
  const d = await nativeBinding().readDigitImage(path)
  return { pixels: d.pixels, inverted: d.inverted, width: d.width, height: d.height }
}
