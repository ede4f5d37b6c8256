// Idempotency-Key on every write (POST/PUT/PATCH/DELETE under /v1): the same key with the same
// request within 24 h replays the first response (and does nothing again); the same key with a
// different request is a 409 `idempotency_conflict`. Keys are per tenant, stored under RLS, and
// the stored response body is encrypted with the tenant's key.
import { createHash } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { ServiceError } from '../errors.js'
import { withTenant } from '../db/scope.js'
import { idempotencyKeys } from './tables.js'

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const TTL_SECONDS = 24 * 3600
/** A request still in progress after this long is presumed dead; its key may be used again. */
const STALE_PENDING_SECONDS = 300
const KEY = /^[\x21-\x7e]{1,255}$/

const bodyCtx = (key: string) => `idempotency_keys.body:${key}`

export function idempotencyMiddleware(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key')
    if (key === undefined || !WRITES.has(c.req.method)) return next()
    if (!KEY.test(key)) throw new ServiceError('validation_error', 'Idempotency-Key: 1-255 printable ASCII characters', [{ path: 'header.Idempotency-Key', message: 'invalid' }])
    const principal = c.get('principal')
    const tenantId = principal.tenantId
    // The operator creating a top-level tenant acts in no tenant: nowhere to keep the key.
    if (tenantId === null) return next()
    const body = Buffer.from(await c.req.arrayBuffer())
    const fingerprint = createHash('sha256')
      .update(`${c.req.method} ${c.req.path}\n${principal.inboxId ?? ''}\n`)
      .update(body)
      .digest('hex')
    const scope = { tenantId }

    const claimed = await withTenant(deps.database, scope, async (tx) => {
      const rows = await tx
        .insert(idempotencyKeys)
        .values({ tenantId, key, fingerprint })
        .onConflictDoUpdate({
          target: [idempotencyKeys.tenantId, idempotencyKeys.key],
          // The time is the inserted row's (its default, now()), and ages are differences of two
          // times: Citus takes only immutable expressions in DO UPDATE (timestamptz - interval is
          // not). Same values on plain Postgres.
          set: { fingerprint, statusCode: null, bodyEnc: null, createdAt: sql`excluded.created_at`, completedAt: null },
          // Expired, or abandoned mid-flight: the key starts over.
          setWhere: sql`excluded.created_at - ${idempotencyKeys.createdAt} > make_interval(secs => ${TTL_SECONDS})
                        or (${idempotencyKeys.completedAt} is null and excluded.created_at - ${idempotencyKeys.createdAt} > make_interval(secs => ${STALE_PENDING_SECONDS}))`,
        })
        .returning({ key: idempotencyKeys.key })
      if (rows.length) return { fresh: true as const }
      const [row] = await tx.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)))
      if (!row) return { fresh: true as const }
      if (row.fingerprint !== fingerprint) throw new ServiceError('idempotency_conflict', 'this Idempotency-Key was used with a different request')
      if (row.statusCode === null || !row.bodyEnc) {
        throw new ServiceError('idempotency_conflict', 'a request with this Idempotency-Key is still in progress; retry later', undefined, { 'Retry-After': '1' })
      }
      const cipher = await deps.crypto.cipher(tx, tenantId)
      return { fresh: false as const, status: row.statusCode, body: cipher.openString(bodyCtx(key), row.bodyEnc) }
    })

    if (!claimed.fresh) {
      c.header('Idempotent-Replayed', 'true')
      if (!claimed.body) return c.body(null, claimed.status as 204)
      return c.body(claimed.body, claimed.status as 200, { 'content-type': 'application/json' })
    }

    let stored = false
    try {
      await next()
      const res = c.res
      // Replay what the client could rely on; let it retry anything transient.
      if (res.status < 500 && res.status !== 429 && res.status !== 409) {
        const text = await res.clone().text()
        await withTenant(deps.database, scope, async (tx) => {
          const cipher = await deps.crypto.cipher(tx, tenantId)
          await tx
            .update(idempotencyKeys)
            .set({ statusCode: res.status, bodyEnc: cipher.seal(bodyCtx(key), text), completedAt: sql`now()` })
            .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)))
        })
        stored = true
      }
    } finally {
      if (!stored) {
        await withTenant(deps.database, scope, (tx) =>
          tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key), sql`${idempotencyKeys.completedAt} is null`)),
        ).catch((err) => deps.log.warn('idempotency cleanup failed', { err: String(err) }))
      }
    }
  }
}
