// Console sessions: a key pasted once becomes a server-side session behind an HttpOnly cookie.
// The cookie holds a random token (a tenant session's names its tenant too, so that the session is
// found on that tenant's shard alone); the database holds only its SHA-256. The CSRF token is derived
// from the session token (HMAC), so the page can be given it again after a reload and nothing more
// is stored. A tenant-key session is re-checked against its key and tenant on every request (the
// lookup joins them): a revoked or expired key, or a suspended tenant, ends or refuses it at once.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { and, eq, lt, sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { lookupWithoutTenant, withTenant, withoutTenant } from '../db/scope.js'
import { hexOfUuid, newUuid, uuidOfHex } from '../lib/ids.js'
import { hashKey, safeEqual } from '../apikeys/secret.js'
import { consoleOperatorSessions, consoleSessions } from './tables.js'

/** A session unused for this long is over. */
export const SESSION_IDLE_MS = 30 * 60_000
/** A session is over this long after sign-in, however busy. */
export const SESSION_ABSOLUTE_MS = 12 * 3600_000
/** last_seen_at moves at most this often (idle expiry is exact to about a minute). */
const TOUCH_EVERY_MS = 60_000
// `mrs_<256 random bits>`, and for a tenant session `.<its tenant's id as 32 hex digits>` after it.
// Tenant tokens without that part were issued before migration 0035 (found by their hash alone).
const TOKEN_PATTERN = /^mrs_[A-Za-z0-9_-]{43}(?:\.([0-9a-f]{32}))?$/

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex')

/** The CSRF token of a session: an HMAC of its own token, so it needs no storage and changes with it. */
export const csrfTokenOf = (token: string): string => createHmac('sha256', token).update('mailroom console csrf v1').digest('base64url')

export function csrfMatches(token: string, presented: string | undefined): boolean {
  if (!presented) return false
  const expected = Buffer.from(csrfTokenOf(token))
  const given = Buffer.from(presented)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

export interface SessionTimes {
  createdAt: Date
  lastSeenAt: Date
  expiresAt: Date
}

/** What a valid session stands for: the same principal its key would be. */
export type Session =
  | ({ kind: 'tenant'; id: string; tenantId: string; keyId: string; tenantSuspended: boolean } & SessionTimes)
  | ({ kind: 'operator'; id: string } & SessionTimes)

export type SessionLookup = { ok: true; session: Session } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }

/** When an idle session stops: the earlier of its idle and absolute expiry. */
export const idleExpiry = (s: SessionTimes): Date => new Date(Math.min(s.lastSeenAt.getTime() + SESSION_IDLE_MS, s.expiresAt.getTime()))

const isOver = (s: SessionTimes, now: Date) => now.getTime() >= s.expiresAt.getTime() || now.getTime() >= s.lastSeenAt.getTime() + SESSION_IDLE_MS

/** A tenant session's row, named with its tenant (on Citus: its shard alone). */
const sessionOf = (r: TenantSessionRow) => and(eq(consoleSessions.tenantId, r.tenant_id), eq(consoleSessions.id, r.session_id))

function newToken(tenantId?: string): string {
  const random = `mrs_${randomBytes(32).toString('base64url')}`
  return tenantId ? `${random}.${hexOfUuid(tenantId)}` : random
}

/** The tenant a token names (as a uuid), or null: an operator's token, or one issued before 0035. */
const tenantOfToken = (match: RegExpExecArray): string | null => (match[1] ? uuidOfHex(match[1]) : null)

/**
 * A tenant session's row with its key's and tenant's state. A token naming its tenant is looked up on
 * that tenant's rows alone (on Citus its shard); one that names none, by its hash across every tenant
 * (a session signed in before 0035) only once it is no operator's.
 */
async function tenantSessionOf(database: Database, tenantId: string | null, hash: string): Promise<TenantSessionRow | undefined> {
  const query = tenantId ? sql`select * from mailroom_console_session(${tenantId}::uuid, ${hash})` : sql`select * from mailroom_console_session(${hash})`
  const [r] = await lookupWithoutTenant<TenantSessionRow>(database, query, 'console-session')
  return r
}

export async function createTenantSession(database: Database, who: { tenantId: string; keyId: string }, now: Date) {
  const token = newToken(who.tenantId)
  const row = { tenantId: who.tenantId, id: newUuid(), keyId: who.keyId, tokenHash: tokenHash(token), createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS) }
  await withTenant(database, { tenantId: who.tenantId }, async (tx) => {
    // The key's sessions that have run out are swept when it signs in again.
    await tx.delete(consoleSessions).where(and(eq(consoleSessions.tenantId, who.tenantId), eq(consoleSessions.keyId, who.keyId), lt(consoleSessions.expiresAt, now)))
    await tx.insert(consoleSessions).values(row)
  })
  return { token, session: { kind: 'tenant' as const, id: row.id, tenantId: who.tenantId, keyId: who.keyId, tenantSuspended: false, createdAt: now, lastSeenAt: now, expiresAt: row.expiresAt } }
}

export async function createOperatorSession(database: Database, operatorKey: string, now: Date) {
  const token = newToken()
  const row = { id: newUuid(), tokenHash: tokenHash(token), keyHash: hashKey(operatorKey), createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS) }
  await withoutTenant(database, async (tx) => {
    await tx.delete(consoleOperatorSessions).where(lt(consoleOperatorSessions.expiresAt, now))
    await tx.insert(consoleOperatorSessions).values(row)
  })
  return { token, session: { kind: 'operator' as const, id: row.id, createdAt: now, lastSeenAt: now, expiresAt: row.expiresAt } }
}

interface TenantSessionRow {
  tenant_id: string
  session_id: string
  key_id: string
  key_scope: string
  key_expires_at: string | Date | null
  key_revoked_at: string | Date | null
  tenant_suspended: boolean
  created_at: string | Date
  last_seen_at: string | Date
  expires_at: string | Date
}

/**
 * The session behind a cookie's token, checked and kept alive; sessions found over are deleted.
 * `operatorKey` is the deployment's current one: an operator session made with another key is over.
 */
export async function resolveSession(database: Database, token: string, now: Date, operatorKey: string | undefined, touch = true): Promise<SessionLookup> {
  const match = TOKEN_PATTERN.exec(token)
  if (!match) return { ok: false, reason: 'unknown' }
  const hash = tokenHash(token)
  const tenantId = tenantOfToken(match)
  if (!tenantId) {
    const operator = await operatorSession(database, hash, now, operatorKey, touch)
    if (operator) return operator
  }
  const r = await tenantSessionOf(database, tenantId, hash)
  if (!r) return { ok: false, reason: 'unknown' }
  const times = { createdAt: new Date(r.created_at), lastSeenAt: new Date(r.last_seen_at), expiresAt: new Date(r.expires_at) }
  const keyOver = r.key_revoked_at !== null || (r.key_expires_at !== null && new Date(r.key_expires_at).getTime() <= now.getTime()) || r.key_scope !== 'tenant'
  if (keyOver || isOver(times, now)) {
    await withTenant(database, { tenantId: r.tenant_id }, (tx) => tx.delete(consoleSessions).where(sessionOf(r)))
    return { ok: false, reason: keyOver ? 'revoked' : 'expired' }
  }
  if (touch && now.getTime() - times.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await withTenant(database, { tenantId: r.tenant_id }, (tx) => tx.update(consoleSessions).set({ lastSeenAt: now }).where(sessionOf(r)))
    times.lastSeenAt = now
  }
  return { ok: true, session: { kind: 'tenant', id: r.session_id, tenantId: r.tenant_id, keyId: r.key_id, tenantSuspended: r.tenant_suspended, ...times } }
}

/** An operator's session by its token's hash, checked and kept alive (null: none has it). */
function operatorSession(database: Database, hash: string, now: Date, operatorKey: string | undefined, touch: boolean): Promise<SessionLookup | null> {
  return withoutTenant(
    database,
    async (tx): Promise<SessionLookup | null> => {
      const [o] = await tx.select().from(consoleOperatorSessions).where(eq(consoleOperatorSessions.tokenHash, hash))
      if (!o) return null
      const keyOver = !operatorKey || !safeEqual(o.keyHash, hashKey(operatorKey))
      if (keyOver || isOver(o, now)) {
        await tx.delete(consoleOperatorSessions).where(eq(consoleOperatorSessions.id, o.id))
        return { ok: false, reason: keyOver ? 'revoked' : 'expired' }
      }
      let lastSeenAt = o.lastSeenAt
      if (touch && now.getTime() - lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
        await tx.update(consoleOperatorSessions).set({ lastSeenAt: now }).where(eq(consoleOperatorSessions.id, o.id))
        lastSeenAt = now
      }
      return { ok: true, session: { kind: 'operator', id: o.id, createdAt: o.createdAt, lastSeenAt, expiresAt: o.expiresAt } }
    },
    'console-session',
  )
}

/** Ends the session behind a token (sign-out). Nothing happens for an unknown token. */
export async function endSession(database: Database, token: string): Promise<void> {
  const match = TOKEN_PATTERN.exec(token)
  if (!match) return
  const hash = tokenHash(token)
  const tenantId = tenantOfToken(match)
  if (!tenantId) {
    const ended = await withoutTenant(database, (tx) => tx.delete(consoleOperatorSessions).where(eq(consoleOperatorSessions.tokenHash, hash)).returning({ id: consoleOperatorSessions.id }), 'console-session')
    if (ended.length > 0) return
  }
  const r = await tenantSessionOf(database, tenantId, hash)
  if (r) await withTenant(database, { tenantId: r.tenant_id }, (tx) => tx.delete(consoleSessions).where(sessionOf(r)))
}
