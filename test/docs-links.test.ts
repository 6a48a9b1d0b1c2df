/**
 * The README and the manual (docs/, CONTRIBUTING.md) link to each other by
 * relative paths and section anchors: every such link must name a file in
 * the repository and, where it has one, a heading of that file. Links to
 * anything outside the repository are web addresses only.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers.js'

const PAGES = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))]

/** The anchors of a page's headings, as GitHub makes them. */
function anchors(page: string): Set<string> {
  const headings = [...readFileSync(join(ROOT, page), 'utf8').matchAll(/^#+ (.*)$/gm)]
  return new Set(headings.map((h) => h[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')))
}

describe('the manual links', () => {
  it.each(PAGES)('%s: every relative link names a file of the repository and a heading in it', (page) => {
    const broken: string[] = []
    for (const [, link] of readFileSync(join(ROOT, page), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:\/\//.test(link!)) continue
      const [path, anchor] = link!.split('#')
      const target = path ? join(ROOT, dirname(page), path) : join(ROOT, page)
      if (!existsSync(target) || relative(ROOT, target).startsWith('..')) broken.push(`${link}: no such file in the repository`)
      else if (anchor && target.endsWith('.md') && !anchors(relative(ROOT, target)).has(anchor)) broken.push(`${link}: no such heading`)
    }
    expect(broken).toEqual([])
  })
})
