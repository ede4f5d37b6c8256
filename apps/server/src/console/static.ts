// Serves the built console (apps/console/dist) at /console: hashed assets cached for a year,
// index.html never cached and sent with a strict Content-Security-Policy, any other path under
// /console answered with index.html (the app routes in the browser). Files are read, and gzip /
// brotli copies made, once per process and kept in memory: the whole build is a few hundred KB.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'
import type { Context } from 'hono'

/** apps/console/dist, from src/console/ and from the bundle's dist/bin/ alike (both two levels below apps/server). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url))

/**
 * The console page's policy. Scripts and styles come only from this origin (no inline script).
 * The mail frame is an `<iframe sandbox srcdoc>` and inherits this policy on top of its own
 * stricter one (default-src 'none', images only once the person asks), so this one must allow
 * what a mail may show: inline styles and, once asked, https images.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.webmanifest', '.txt'])

interface Cached {
  mtimeMs: number
  body: Buffer
  gzip?: Buffer
  br?: Buffer
}

export function consoleBuilt(dir = CONSOLE_DIST): boolean {
  return existsSync(resolve(dir, 'index.html'))
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
}

export function consoleStatic(dir = CONSOLE_DIST) {
  const root = resolve(dir)
  const cache = new Map<string, Cached>()

  const read = (file: string): Cached | null => {
    let st
    try {
      st = statSync(file)
    } catch {
      return null
    }
    if (!st.isFile()) return null
    const hit = cache.get(file)
    if (hit && hit.mtimeMs === st.mtimeMs) return hit
    const entry: Cached = { mtimeMs: st.mtimeMs, body: readFileSync(file) }
    cache.set(file, entry)
    return entry
  }

  const send = (c: Context, file: string, entry: Cached, immutable: boolean) => {
    const ext = extname(file)
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    }
    if (ext === '.html') headers['Content-Security-Policy'] = CONSOLE_CSP
    let body = entry.body
    if (COMPRESSIBLE.has(ext) && body.length > 512) {
      headers['Vary'] = 'Accept-Encoding'
      const accepts = (c.req.header('accept-encoding') ?? '').toLowerCase()
      if (/\bbr\b/.test(accepts)) {
        entry.br ??= brotliCompressSync(entry.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: entry.body.length } })
        body = entry.br
        headers['Content-Encoding'] = 'br'
      } else if (/\bgzip\b/.test(accepts)) {
        entry.gzip ??= gzipSync(entry.body, { level: 9 })
        body = entry.gzip
        headers['Content-Encoding'] = 'gzip'
      }
    }
    headers['Content-Length'] = String(body.length)
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(new Uint8Array(body), 200, headers)
  }

  return (c: Context) => {
    let rel: string
    try {
      rel = decodeURIComponent(c.req.path.replace(/^\/console\/?/, ''))
    } catch {
      return c.text('not found\n', 404, { 'Cache-Control': 'no-store', ...SECURITY_HEADERS })
    }
    if (!consoleBuilt(root)) {
      return c.text('The console is not built. Run: pnpm --filter @mailroom/console build (pnpm start builds it by itself).\n', 503, { 'Cache-Control': 'no-store' })
    }
    const file = resolve(root, rel)
    const inside = file === root || file.startsWith(root + sep)
    if (inside && rel !== '' && !rel.includes('\0')) {
      const entry = read(file)
      if (entry) return send(c, file, entry, rel.startsWith('assets/'))
    }
    // A missing asset is a 404 (a stale page asking for an old hash must not get HTML for JS).
    if (!inside || rel.startsWith('assets/') || /\.[a-z0-9]+$/i.test(rel)) {
      return c.text('not found\n', 404, { 'Cache-Control': 'no-store', ...SECURITY_HEADERS })
    }
    const index = resolve(root, 'index.html')
    return send(c, index, read(index)!, false)
  }
}

/** The start banner's line about the console. */
export function consoleBanner(base: string, dir = CONSOLE_DIST): string {
  return consoleBuilt(dir)
    ? `Mailroom console: ${base}/console (sign in with a tenant key)`
    : `Mailroom console: not built (pnpm --filter @mailroom/console build), then ${base}/console`
}
