/**
 * Small builders for inline SVG markup. Every coordinate goes through
 * {@link px}, which refuses non-finite numbers: a `NaN` in a path makes the
 * browser drop the whole shape silently, so it is better caught here.
 * @module
 */
import { escapeHtml } from './escape.js'

/** Font of all chart text; system fonts only, nothing is fetched. */
export const CHART_FONT = 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif'

/** A coordinate or length rounded to 0.01 px. */
export function px(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`report chart coordinate is ${value}`)
  return String(Math.round(value * 100) / 100)
}

/** Attributes written as `name="value"`, escaped; numbers go through {@link px}. */
export type Attributes = Record<string, string | number>

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .map(([name, value]) => ` ${name}="${typeof value === 'number' ? px(value) : escapeHtml(value)}"`)
    .join('')
}

/** An element with escaped attributes and already-built `children` markup (self-closing when empty). */
export function element(name: string, attrs: Attributes, children = ''): string {
  return children === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${children}</${name}>`
}

/** A `<text>` element holding escaped `content`. */
export function text(content: string, attrs: Attributes): string {
  return element('text', attrs, escapeHtml(content))
}

/**
 * A standalone `<svg>` of `width × height` that scales down with the page.
 * `label` becomes its accessible name and its tooltip.
 */
export function svg(width: number, height: number, label: string, body: string): string {
  return element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${px(width)} ${px(height)}`,
      width,
      height,
      role: 'img',
      'aria-label': label,
      'font-family': CHART_FONT,
      'font-size': 12,
    },
    `<title>${escapeHtml(label)}</title>${body}`,
  )
}
