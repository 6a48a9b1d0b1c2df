/**
 * The grid of misclassified test digits, each embedded as a PNG data URI so
 * the report stays one self-contained file.
 * @module
 */
import { encodeGrayPng, encodeRgbPng } from '../png.js'
import { escapeHtml } from './escape.js'
import { countOf, formatPercent } from './format.js'
import type { ReportMisclassified } from './types.js'

/** Digits are drawn at this many screen pixels per image pixel (28 → 84 px). */
const ZOOM = 3

/** A `data:` URI of the image's pixels as a PNG, grey or RGB. */
function pngDataUri(digit: ReportMisclassified): string {
  const encode = (digit.channels ?? 1) === 3 ? encodeRgbPng : encodeGrayPng
  return `data:image/png;base64,${encode(digit.pixels, digit.width, digit.height).toString('base64')}`
}

/** One digit with its caption: `true 4 → predicted 9`, and the predicted class's probability when known. */
function digitFigure(digit: ReportMisclassified): string {
  const caption = `true ${digit.labelName ?? digit.label} → predicted ${digit.predictedName ?? digit.predicted}`
  const probability =
    digit.probability !== undefined && Number.isFinite(digit.probability)
      ? `<span class="probability">p = ${escapeHtml(formatPercent(digit.probability, 1))}</span>`
      : ''
  return (
    `<figure class="digit">` +
    `<img src="${pngDataUri(digit)}" width="${digit.width * ZOOM}" height="${digit.height * ZOOM}"` +
    ` alt="${escapeHtml(`test image ${digit.index}: ${caption}`)}" title="test image ${digit.index}">` +
    `<figcaption>${escapeHtml(caption)}${probability}</figcaption>` +
    `</figure>`
  )
}

/**
 * The digits in a wrapping grid, or a note when there are none to show.
 * @param errors - misclassified images in the whole evaluation, of which `digits` may be a sample
 */
export function misclassifiedGrid(digits: readonly ReportMisclassified[], errors: number): string {
  if (digits.length === 0) {
    return errors === 0
      ? '<p class="note">Every test image was classified correctly.</p>'
      : `<p class="note">${countOf(errors, 'test image')} misclassified; none were passed to the report.</p>`
  }
  const all = countOf(errors, 'misclassified test image')
  const shown = digits.length === errors ? `All ${all}` : `${digits.length} of ${all}`
  return (
    `<p>${shown}, as the model sees them.</p>` +
    `<div class="digits">${digits.map(digitFigure).join('')}</div>`
  )
}
