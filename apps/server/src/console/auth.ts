// The console's session cookie on the HTTP door: reading and setting it, the same-origin and CSRF
// checks of writes, and the hook the API's auth middleware calls when a request has no
// Authorization header (http/auth.ts), so a session is the same principal its key would be.
import type { Context } from 'hono'
import { getCookie, setCookie, deleteCookie } from 'hono/cookie'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { ServiceError } from '../errors.js'
import { csrfMatches, resolveSession, SESSION_ABSOLUTE_MS, tokenHash, type Session } from './service.js'

/** Under TLS the cookie takes the __Host- prefix (Secure, Path=/, no Domain: the browser enforces it). */
export const COOKIE_PLAIN = 'mailroom_session'
export const COOKIE_TLS = '__Host-mailroom_session'
export const CSRF_HEADER = 'x-csrf-token'

/** Whether the browser reached us over TLS: directly, or through a proxy that says so. */
export function overTls(c: Context): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  if (forwarded) return forwarded === 'https'
  return new URL(c.req.url).protocol === 'https:'
}

export function sessionToken(c: Context): string | undefined {
  return getCookie(c, COOKIE_TLS) ?? getCookie(c, COOKIE_PLAIN)
}

export function setSessionCookie(c: Context, token: string): void {
  const tls = overTls(c)
  setCookie(c, tls ? COOKIE_TLS : COOKIE_PLAIN, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: tls,
    maxAge: Math.floor(SESSION_ABSOLUTE_MS / 1000),
  })
}

export function clearSessionCookie(c: Context): void {
  const tls = overTls(c)
  deleteCookie(c, tls ? COOKIE_TLS : COOKIE_PLAIN, { path: '/', secure: tls, httpOnly: true, sameSite: 'Strict' })
}

/** This server's origin as the browser sees it (a TLS proxy in front keeps the Host header). */
function ownOrigin(c: Context): string {
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() || c.req.header('host') || new URL(c.req.url).host
  return `${overTls(c) ? 'https' : 'http'}://${host}`.toLowerCase()
}

/**
 * Refuses a request another site made. `strict`: the request must prove it is same-origin
 * (`Origin` equal to ours, or `Sec-Fetch-Site: same-origin`); otherwise only evidence of a foreign
 * origin refuses it (sign-in, where non-browser clients send neither header).
 */
export function assertSameOrigin(c: Context, strict: boolean): void {
  const origin = c.req.header('origin')
  const site = c.req.header('sec-fetch-site')?.toLowerCase()
  if (origin !== undefined && origin !== 'null' && origin.toLowerCase() === ownOrigin(c)) return
  if (origin === undefined && site === 'same-origin') return
  if (origin !== undefined || (site !== undefined && site !== 'same-origin' && site !== 'none') || strict) {
    const seen = origin !== undefined ? `Origin ${origin}` : site !== undefined ? `Sec-Fetch-Site: ${site}` : 'no Origin'
    throw new ServiceError(
      'forbidden',
      `cross-site request refused: console writes must come from ${ownOrigin(c)} itself (${seen}; behind a TLS proxy, have it send X-Forwarded-Proto and keep the Host header)`,
    )
  }
}

/** A write with a session must carry the session's CSRF token and come from our own origin. */
export function assertCsrf(c: Context, token: string): void {
  assertSameOrigin(c, true)
  if (!csrfMatches(token, c.req.header(CSRF_HEADER))) {
    throw new ServiceError('forbidden', 'missing or wrong X-CSRF-Token: reload the console (GET /console/session gives the token)')
  }
}

const isRead = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS'

export type SessionAuth =
  | { kind: 'operator'; tokenHash: string; session: Session }
  | {
      kind: 'tenant'
      tokenHash: string
      session: Session
      auth: { ok: true; tenantId: string; keyId: string; scope: 'tenant'; inboxId: null; tenantSuspended: boolean; tenantPath: null }
    }

/**
 * For the API's auth middleware: the session behind the request's cookie, or null without one.
 * A cookie that no longer names a live session is a 401; a write without the session's CSRF token
 * or from another origin a 403.
 */
export async function consoleSessionAuth(c: Context<AppEnv>, deps: Deps, touch = true): Promise<SessionAuth | null> {
  const token = sessionToken(c)
  if (token === undefined) return null
  if (!isRead(c.req.method)) assertCsrf(c, token)
  const found = await resolveSession(deps.database, token, deps.clock.now(), deps.config.operatorKey, touch)
  if (!found.ok) {
    throw new ServiceError('unauthorized', found.reason === 'revoked' ? 'the key of this console session was revoked: sign in again' : 'the console session has ended: sign in again')
  }
  const s = found.session
  if (s.kind === 'operator') return { kind: 'operator', tokenHash: tokenHash(token), session: s }
  return {
    kind: 'tenant',
    tokenHash: tokenHash(token),
    session: s,
    // The session's row does not name the tenant's ancestors: any change of a subtree may touch it.
    auth: { ok: true, tenantId: s.tenantId, keyId: s.keyId, scope: 'tenant', inboxId: null, tenantSuspended: s.tenantSuspended, tenantPath: null },
  }
}
