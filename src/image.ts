/**
 * Digits from image files: {@link readDigitImage}, and from their bytes: {@link decodeDigitImage}.
 * @module
 */
import { addonPath } from './addon-path.js'
import { type NativeDigitImage, nativeBinding } from './native.js'

/** A digit read from an image file by {@link readDigitImage}. */
export interface DigitImage {
  /** 28×28 values in [0, 1], row-major, ink bright on black as in MNIST: ready for `model.predict`. All 0 when `found` is false. */
  pixels: Float32Array
  /** True when the image was dark on light (e.g. a pen drawing on paper) and was inverted. */
  inverted: boolean
  /** Width of the image in the file, in pixels. */
  width: number
  /** Height of the image in the file, in pixels. */
  height: number
  /**
   * False when the image holds no digit (see {@link readDigitImage} for the
   * rules): nothing was fitted, and classifying the blank `pixels` would
   * still name a digit.
   */
  found: boolean
  /** Why no digit was found, e.g. `the image is blank: nothing stands out from its background`; present exactly when `found` is false. */
  reason?: string
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
 * Before step 3 it decides whether there is a digit at all, since scaling
 * would blow any mark up to 20 pixels. The marks are the pixels whose ink
 * (their difference from the background, as a share of the range from the
 * background to full ink) is above 0.1. There is no digit (`found: false`,
 * with the `reason`) when:
 *
 * - nothing is marked: the image is blank (flat, or only faint noise);
 * - the marks average under 0.2 ink: faint shading such as uneven light
 *   (every MNIST test digit averages at least 0.46);
 * - their box is under 5 pixels on its larger side (the smallest legible
 *   digit fonts are 3×5), or under 1% of the image's larger side: a speck;
 * - their total ink is under half their box's larger side: scattered specks
 *   (a stroke across the box has at least one pixel of ink per pixel;
 *   every MNIST test digit has at least 1.07).
 *
 * Images larger than 8192×8192 pixels (or 256 MiB decoded) are refused.
 * @throws (rejects) Error naming the file when it is missing, not a PNG or JPEG, damaged or too large
 */
export async function readDigitImage(path: string): Promise<DigitImage> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
  return digitImage(await nativeBinding().readDigitImage(addonPath(path)))
}

/**
 * {@link readDigitImage} on the bytes of a PNG or JPEG (an upload, a
 * canvas's `toBlob`, a file fetched from elsewhere), with the same rules.
 * @throws (rejects) Error when the bytes are not a PNG or JPEG, are damaged or too large
 */
export async function decodeDigitImage(bytes: Uint8Array): Promise<DigitImage> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (a Buffer is one)')
  return digitImage(await nativeBinding().decodeDigitImage(bytes))
}

function digitImage(d: NativeDigitImage): DigitImage {
  const image = { pixels: d.pixels, inverted: d.inverted, width: d.width, height: d.height }
  return d.noDigit === undefined || d.noDigit === null ? { ...image, found: true } : { ...image, found: false, reason: d.noDigit }
}
