// Authentication: Bearer key -> Principal; `Mailroom-Tenant` lets a parent act in a descendant.
import type { MiddlewareHandler } from 'hono'
import type { Deps } from '../deps.js'
import type { AppEnv, Principal } from './context.js'
import { ServiceError, notFound } from '../errors.js'
import { hashKey, safeEqual } from '../apikeys/secret.js'
import { rateLimitHeaders, type Decision } from '../limits/api-rate.js'
import { withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { getTenant } from '../tenancy/service.js'
import { utcDay } from '../usage/service.js'
import { and, eq, inArray } from 'drizzle-orm'
import { tenants } from '../tenancy/tables.js'
import { consoleSessionAuth, type SessionAuth } from '../console/auth.js'
import type { AuthResult } from '../apikeys/service.js'
import { transientError } from './errors.js'
import type { ActAs } from '../apikeys/key-memory.js'
import type { KeyReach } from '../apikeys/key-changes.js'
import { withDeadline } from '../db/gate.js'
import { monotonicMs } from '../lib/clock.js'

const TOUCH_EVERY_MS = 60_000

export function authMiddleware(deps: Deps): MiddlewareHandler<AppEnv> {
  const lastTouched = new Map<string, number>()

  return async (c, next) => {
    const header = c.req.header('authorization')
    const actAs = c.req.header('mailroom-tenant')
    // Without a key, a console session's cookie stands for it (console/auth.ts: CSRF-checked writes).
    const session = header ? null : await consoleSessionAuth(c, deps)
    const { principal, auth, keyHash, reach } = await identify(deps, { header, actAs, session }, true)
    if (auth) {
      // The key's own tenant pays for the request, also when it acts inside a descendant.
      const decision = await deps.rateLimiter.take(keyHash, auth.tenantId, auth.scope === 'inbox' ? auth.inboxId : null)
      for (const [k, v] of Object.entries(rateLimitHeaders(decision))) c.header(k, v)
      if (!decision.ok) throw rateLimited(deps, decision)
      // Marked used at most once a minute, written with the next usage flush (in the key's own tenant).
      const now = deps.clock.now()
      const last = lastTouched.get(auth.keyId) ?? 0
      if (now.getTime() - last > TOUCH_EVERY_MS) {
        lastTouched.set(auth.keyId, now.getTime())
        if (lastTouched.size > 100_000) lastTouched.clear()
        deps.usage.keyUsed(auth.tenantId, auth.keyId, now)
      }
    }
    c.set('principal', principal)
    // Kept by a parked wait: a key's holds two strings, not the request (only a console session's
    // reads its cookie again, without counting as the session's activity).
    const again = header ? () => identify(deps, { header, actAs, session: null }, false) : async () => identify(deps, { header, actAs, session: await consoleSessionAuth(c, deps, false) }, false)
    c.set('recheck', () => recheck(again, principal))
    c.set('reach', reach)
    if (principal.tenantId) deps.usage.record(principal.tenantId, principal.inboxId, utcDay(deps.clock.now()))
    await next()
  }
}

type KeyAuth = Extract<AuthResult, { ok: true }>

/**
 * Who the request's key (or console session) stands for, or the error the door answers (401, 403,
 * 404). `precheck`: a key this process has seen, whose tenant (or inbox) has used up its request
 * rate, is refused before any database work.
 */
async function identify(
  deps: Deps,
  ask: { header: string | undefined; actAs: string | undefined; session: SessionAuth | null },
  precheck: boolean,
): Promise<{ principal: Principal; auth: KeyAuth | null; keyHash: string; reach: KeyReach }> {
  const { header, actAs, session } = ask
  if (!header && !session) throw new ServiceError('unauthorized', 'missing API key: send Authorization: Bearer <key>')
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  if (header && !m) throw new ServiceError('unauthorized', 'malformed Authorization header: expected Bearer <key>')
  const key = m?.[1] ?? ''

  if (session ? session.kind === 'operator' : deps.config.operatorKey && key.length === deps.config.operatorKey.length && safeEqual(key, deps.config.operatorKey)) {
    const target = actAs ? await resolveActAs(deps, null, actAs) : null
    const principal: Principal = { kind: 'operator', tenantId: target?.id ?? null, inboxId: null }
    return { principal, auth: null, keyHash: '', reach: { keyTenantId: null, path: target?.path ?? [] } }
  }
  const keyHash = session?.tokenHash ?? hashKey(key)
  if (precheck) {
    const early = deps.rateLimiter.precheck(keyHash)
    if (early) throw rateLimited(deps, early)
  }
  const auth = session?.kind === 'tenant' ? session.auth : await deps.keys.authenticate(key, keyHash, deps.clock.now())
  if (!auth.ok) {
    const messages = {
      malformed: 'malformed API key: keys look like mr_tk_... or mr_ik_...',
      unknown: 'invalid API key',
      revoked: 'this API key has been revoked',
      expired: 'this API key has expired',
    }
    throw new ServiceError('unauthorized', messages[auth.reason])
  }
  if (auth.tenantSuspended) throw new ServiceError('tenant_suspended', 'this tenant is suspended')
  if (auth.scope === 'inbox') {
    if (actAs) throw new ServiceError('forbidden', 'an inbox key cannot act in another tenant')
    const reach = { keyTenantId: auth.tenantId, path: auth.tenantPath }
    return { principal: { kind: 'inbox', keyId: auth.keyId, keyTenantId: auth.tenantId, tenantId: auth.tenantId, inboxId: auth.inboxId! }, auth, keyHash, reach }
  }
  const target = actAs ? await resolveActAs(deps, auth.tenantId, actAs) : null
  const reach = { keyTenantId: auth.tenantId, path: target ? target.path : auth.tenantPath }
  return { principal: { kind: 'tenant', keyId: auth.keyId, keyTenantId: auth.tenantId, tenantId: target?.id ?? auth.tenantId, inboxId: null }, auth, keyHash, reach }
}

/**
 * For a request that outlives its start (an event stream, a parked wait): null while its caller
 * would still be let in as the same principal; else the error the door would now answer (the key
 * revoked or expired, its inbox or tenant deleted, its tenant suspended). Reads what the door reads
 * (the keys kept in memory, forgotten when a key, an inbox or a tenant changes). A database out of
 * reach proves nothing either way: null.
 */
async function recheck(again: () => ReturnType<typeof identify>, was: Principal): Promise<ServiceError | null> {
  try {
    const { principal } = await again()
    const same =
      principal.kind === was.kind &&
      principal.tenantId === was.tenantId &&
      principal.inboxId === was.inboxId &&
      (principal.kind === 'operator' || (was.kind !== 'operator' && principal.keyId === was.keyId))
    return same ? null : new ServiceError('unauthorized', 'this key no longer stands for the caller that opened the request')
  } catch (err) {
    if (err instanceof ServiceError) return err
    if (transientError(err)) return null
    throw err
  }
}

function rateLimited(deps: Deps, d: Decision): ServiceError {
  deps.metrics.rateLimited.inc({ limit: `api_${d.policy}` })
  return new ServiceError(
    'rate_limited',
    `request rate limit of this ${d.policy} reached (${d.rate.perSecond} per second, ${d.rate.burst} at once); retry in ${d.retryAfter}s`,
    undefined,
    rateLimitHeaders(d),
  )
}

/**
 * The tenant named by `Mailroom-Tenant`: the caller itself or one of its descendants (the
 * operator may name any tenant). Anything else is "not found", like a missing id. Kept with the keys
 * (apikeys/key-memory.ts) until a tenant is suspended, resumed or deleted.
 */
async function resolveActAs(deps: Deps, callerTenantId: string | null, header: string): Promise<{ id: string; path: readonly string[] }> {
  const target = fromPublicId('tenant', header.trim())
  if (!target) throw notFound('tenant')
  const may = await deps.keys.actAs(callerTenantId, target, () => readActAs(deps, callerTenantId, target))
  if (may === null) throw notFound('tenant')
  if (may.standing === 'suspended') throw new ServiceError('tenant_suspended', 'that tenant is suspended')
  return { id: target, path: may.path }
}

async function readActAs(deps: Deps, callerTenantId: string | null, target: string): Promise<ActAs> {
  const row = await withTenant(deps.database, { tenantId: callerTenantId ?? target }, (tx) => getTenant(tx, target))
  if (!row) return null
  const path = [...row.ancestors, row.id]
  if (row.status === 'suspended') return { standing: 'suspended', path }
  // An ancestor between the caller and the target may be suspended too.
  const suspended = row.ancestors.length
    ? await withTenant(deps.database, { tenantId: callerTenantId ?? target }, (tx) =>
        tx.select({ id: tenants.id }).from(tenants).where(and(inArray(tenants.id, row.ancestors), eq(tenants.status, 'suspended'))),
      )
    : []
  return { standing: suspended.length > 0 ? 'suspended' : 'ok', path }
}

/** The tenant scope a handler works in. */
export function scopeOf(p: Principal): { tenantId: string; inboxId: string | null } {
  if (p.tenantId === null) throw new ServiceError('forbidden', 'the operator key acts inside a tenant: send Mailroom-Tenant: <tenantId>')
  return { tenantId: p.tenantId, inboxId: p.inboxId }
}

/**
 * The scope of a request about tenant `id` (`/v1/tenants/{id}...`): the caller's, or for the operator
 * key acting in no tenant, that tenant's own (bound to itself, it reads what the tenant reads of
 * itself; http/route.ts operatorOwn lists the routes that allow it).
 */
export function scopeFor(p: Principal, id: string): { tenantId: string; inboxId: string | null } {
  return p.kind === 'operator' && p.tenantId === null ? { tenantId: id, inboxId: null } : scopeOf(p)
}

/**
 * Requests of one tenant handled at once, the rest waiting in the tenant's own line (tenants taking
 * turns): a tenant with fifty requests in flight would otherwise have fifty handlers taking turns on
 * the event loop with another tenant's one, which then waits behind all of them. The line has no
 * deadline (a burst of a hundred agents of one tenant is served in turns, not refused); past 1,000
 * waiting, requests get 503 with Retry-After. Long polls and event streams hold no turn (they wait on
 * mail, not on the server; they have limits of their own). Light tenants first: a tenant that has
 * held turns most of the last second or two starts no new request while a much lighter tenant's
 * request runs or waits (at most 100 ms at a time), so a quiet tenant's request shares the event
 * loop with less of a flood's (db/gate.ts, lightFirst).
 */
export function tenantTurns(deps: Deps): MiddlewareHandler<AppEnv> {
  const cap = deps.config.httpMaxInFlightPerTenant
  return async (c, next) => {
    // The key's own tenant takes the turn (as it pays for the request), also when acting in a descendant.
    const p = c.get('principal') as Principal | undefined
    const tenantId = p && 'keyTenantId' in p ? p.keyTenantId : p?.tenantId
    if (cap <= 0 || !tenantId || HELD_PATH.test(c.req.path)) return next()
    // No deadline in this line: a burst of one tenant's agents waits its turns here rather than being
    // refused (only a line longer than the gate's queue limit is, with 503); the deadline for
    // database connections starts when the request does.
    const release = await deps.requestTurns.acquire(tenantId, null)
    try {
      await withDeadline(monotonicMs() + deps.config.dbQueueTimeoutMs, next)
    } finally {
      release()
    }
  }
}
/** Long polls and event streams (they wait on mail, not on the server), as route patterns (metrics, after routing). */
export const HELD_ROUTES: readonly string[] = ['/v1/events', '/v1/inboxes/:id/messages/wait']
/** The same routes as a test on a request's path (turns and patience, before routing). */
export const HELD_PATH = new RegExp(`^(?:${HELD_ROUTES.map((r) => r.replace(/:[a-zA-Z]+/g, '[^/]+')).join('|')})$`)
