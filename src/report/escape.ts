/**
 * Escaping of text for the report's HTML and inline SVG.
 * @module
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * `text` made safe both as element content and inside a quoted attribute:
 * every string that reaches the page (titles, config keys and values) goes
 * through here, so none of it can open a tag or end an attribute.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)
}
