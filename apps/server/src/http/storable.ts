// Input Postgres cannot store is refused at the door: a NUL character (text columns, jsonb) or an
// unpaired UTF-16 surrogate (not valid UTF-8, which is all Postgres takes). Checked once for every
// string a request carries, body, query and path, so no route can turn one into a failed query
// (500): each is a 400 naming the field.
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './context.js'
import { ServiceError } from '../errors.js'

const SUSPECT = /[\u0000\ud800-\udfff]/
// Code units, not code points (no `u` flag): a high surrogate without a low one after it, or a low one without a high one before it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const MAX_DEPTH = 64

/** Why a string cannot be stored, or null when it can. */
export function unstorable(s: string): string | null {
  if (!SUSPECT.test(s)) return null
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored'
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode), which cannot be stored'
  return null
}

/** The first string (or object key) in `value` that cannot be stored: its path and why. */
export function findUnstorable(value: unknown, path: string, depth = 0): { path: string; message: string } | null {
  if (typeof value === 'string') {
    const why = unstorable(value)
    return why ? { path, message: why } : null
  }
  if (value === null || typeof value !== 'object') return null
  if (depth > MAX_DEPTH) return { path, message: `nested deeper than ${MAX_DEPTH} levels` }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = findUnstorable(v, `${path}.${i}`, depth + 1)
      if (bad) return bad
    }
    return null
  }
  for (const [k, v] of Object.entries(value)) {
    const why = unstorable(k)
    if (why) return { path: `${path}.${JSON.stringify(k).slice(1, -1)}`, message: `key ${why}` }
    const bad = findUnstorable(v, `${path}.${k}`, depth + 1)
    if (bad) return bad
  }
  return null
}

const refuse = (bad: { path: string; message: string }) => new ServiceError('validation_error', `${bad.path}: ${bad.message}`, [bad])

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export function storableInput(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Hono's path is already decodeURI'd (a %00 is a NUL by now); what decodeURI leaves encoded
    // (%2F, %40 ...) the route's params decode later, so each segment is checked both ways.
    const segments = c.req.path.split('/')
    for (const [i, seg] of segments.entries()) {
      const why = unstorable(seg) ?? (seg.includes('%') ? unstorable(decoded(seg)) : null)
      if (why) throw refuse({ path: `path.${i}`, message: why })
    }
    for (const [name, values] of Object.entries(c.req.queries())) {
      for (const v of [name, ...values]) {
        const why = unstorable(v)
        if (why) throw refuse({ path: `query.${JSON.stringify(name).slice(1, -1)}`, message: why })
      }
    }
    const type = c.req.header('content-type') ?? ''
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && /^application\/(.+\+)?json/i.test(type)) {
      // Parsed once here; the route's validator reads the same parse (Hono caches the body).
      const body = await c.req.json().catch(() => undefined)
      const bad = body === undefined ? null : findUnstorable(body, 'body')
      if (bad) throw refuse(bad)
    }
    await next()
  }
}
