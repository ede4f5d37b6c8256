// The console talks to the same public API as everyone else, through @mailroom/sdk. Its only
// difference is how it authenticates: the session cookie (HttpOnly, set by POST /console/session)
// stands in for the key, so the SDK's fetch is wrapped to drop the placeholder Authorization
// header and to add the session's CSRF token to writes. The key itself is never kept in the page.
import { Mailroom, MailroomError, type FetchLike } from '@mailroom/sdk'

export interface SessionInfo {
  scope: 'tenant' | 'operator'
  tenantId: string | null
  keyId: string | null
  csrfToken: string
  createdAt: string
  expiresAt: string
  idleExpiresAt: string
  idleTimeoutSeconds: number
}

/** Never sent: the SDK requires a key, the wrapper below removes the header it makes from it. */
const PLACEHOLDER_KEY = 'console-session'

let csrfToken = ''
const sessionListeners = new Set<() => void>()

/** Called when the server says the session is over (401): the app goes back to the sign-in page. */
export function onSessionEnded(fn: () => void): () => void {
  sessionListeners.add(fn)
  return () => sessionListeners.delete(fn)
}

const eventListeners = new Set<() => void>()

/**
 * Called each time the event stream (re)connects, once the server has fixed where it starts: a
 * list loaded after this misses nothing that the stream will not bring.
 */
export function onEventsConnected(fn: () => void): () => void {
  eventListeners.add(fn)
  return () => eventListeners.delete(fn)
}

const sessionFetch: FetchLike = async (input, init) => {
  const headers = new Headers(init.headers)
  headers.delete('Authorization')
  const method = (init.method ?? 'GET').toUpperCase()
  if (method !== 'GET' && method !== 'HEAD') headers.set('X-CSRF-Token', csrfToken)
  const res = await fetch(input, { ...init, headers, credentials: 'same-origin' })
  if (res.status === 401) for (const fn of sessionListeners) fn()
  if (res.ok && new URL(input, window.location.href).pathname === '/v1/events') for (const fn of eventListeners) fn()
  return res
}

/** A client for the signed-in session, acting in `tenantId` (a descendant) when given. */
export function clientFor(tenantId: string | null): Mailroom {
  const base = new Mailroom({ apiKey: PLACEHOLDER_KEY, baseUrl: window.location.origin, fetch: sessionFetch, maxRetries: 1 })
  return tenantId ? base.withTenant(tenantId) : base
}

async function sessionCall(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken
  return fetch('/console/session', { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } }
    return body.error?.message ?? `HTTP ${res.status}`
  } catch {
    return `HTTP ${res.status}`
  }
}

/** The current session, or null when not signed in. */
export async function currentSession(): Promise<SessionInfo | null> {
  const res = await sessionCall('GET')
  if (res.status === 401) return null
  if (!res.ok) throw new Error(await errorMessage(res))
  const info = (await res.json()) as SessionInfo
  csrfToken = info.csrfToken
  return info
}

export async function signIn(key: string): Promise<SessionInfo> {
  const res = await sessionCall('POST', { key })
  if (!res.ok) throw new Error(await errorMessage(res))
  const info = (await res.json()) as SessionInfo
  csrfToken = info.csrfToken
  return info
}

export async function signOut(): Promise<void> {
  await sessionCall('DELETE')
  csrfToken = ''
}

/** A readable line for any failure of an API call. */
export function describeError(err: unknown): string {
  if (err instanceof MailroomError) return err.message
  if (err instanceof Error) return err.message
  return String(err)
}

export function isNotFound(err: unknown): boolean {
  return err instanceof MailroomError && err.status === 404
}
