// The first load stays small: the JavaScript a browser fetches to show the sign-in page and then the
// overview (the entry, what it imports statically, and the overview's own chunk with the charts),
// gzip-compressed, is under 300 KB. The build is made or refreshed by the suite's global setup.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'

const DIST = new URL('../dist/', import.meta.url).pathname
const BUDGET = 300 * 1024

/** A chunk and everything it imports statically (`import ... from "./x.js"`, `import "./x.js"`). */
function withStaticImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const code = readFileSync(join(DIST, 'assets', file), 'utf8')
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([\w.-]+\.js)["']/g)) withStaticImports(m[1]!, seen)
  return seen
}

describe('the console bundle', () => {
  it('first load (sign-in, then the overview) is under 300 KB of gzip-compressed JavaScript', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8')
    const entry = /<script type="module"[^>]*src="\/console\/assets\/([\w.-]+\.js)"/.exec(html)?.[1]
    expect(entry).toBeDefined()
    const files = withStaticImports(entry!)
    const entryCode = readFileSync(join(DIST, 'assets', entry!), 'utf8')
    const overview = /["'](?:\.\/|assets\/)(Overview-[\w-]+\.js)["']/.exec(entryCode)?.[1]
    expect(overview).toBeDefined()
    withStaticImports(overview!, files)
    const sizes = [...files].map((f) => {
      const raw = readFileSync(join(DIST, 'assets', f))
      return { file: f, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length }
    })
    const total = sizes.reduce((a, s) => a + s.gzip, 0)
    process.stdout.write(`[console] first-load JavaScript: ${(total / 1024).toFixed(1)} KB gzip (${sizes.map((s) => `${s.file} ${(s.gzip / 1024).toFixed(1)} KB`).join(', ')})\n`)
    expect(total).toBeLessThan(BUDGET)
    // No page other than the overview is in it: they load when visited.
    expect([...files].some((f) => /^(Message|Inbox|Tenants|Webhooks)-/.test(f))).toBe(false)
  })
})
