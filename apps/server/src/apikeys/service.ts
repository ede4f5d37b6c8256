// API keys: minting (shown once), listing, revoking, and authenticating a presented key.
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { ApiKey } from '@mailroom/contract'
import type { Database, Tx } from '../db/client.js'
import { lookupWithoutTenant, ownRows } from '../db/scope.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { apiKeys, keyRoutes, type ApiKeyRow } from './tables.js'
import { generateKey, hashKey, keyPrefix, KEY_PATTERN } from './secret.js'
import { keysChanged } from './key-changes.js'

export function apiKeyToWire(k: ApiKeyRow): ApiKey {
  return {
    id: toPublicId('apiKey', k.id),
    tenantId: toPublicId('tenant', k.tenantId),
    scope: k.scope,
    inboxId: k.inboxId ? toPublicId('inbox', k.inboxId) : null,
    name: k.name,
    prefix: k.prefix,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
  }
}

export interface NewKeyInput {
  tenantId: string
  scope: 'tenant' | 'inbox'
  inboxId?: string | null
  name?: string | null
  expiresAt?: Date | null
}

export async function createApiKey(tx: Tx, input: NewKeyInput): Promise<{ row: ApiKeyRow; key: string }> {
  const material = generateKey(input.scope)
  const [row] = await tx
    .insert(apiKeys)
    .values({
      tenantId: input.tenantId,
      id: newUuid(),
      scope: input.scope,
      inboxId: input.inboxId ?? null,
      name: input.name ?? null,
      prefix: material.prefix,
      hash: material.hash,
      expiresAt: input.expiresAt ?? null,
    })
    .returning()
  // The route the key lookup finds it by (a reference table on Citus: written on every node).
  await tx.insert(keyRoutes).values({ prefix: material.prefix, tenantId: input.tenantId, keyId: row!.id })
  return { row: row!, key: material.key }
}

export async function listApiKeys(tx: Tx, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, apiKeys, { limit, after })
}

export async function revokeApiKey(tx: Tx, id: string, now: Date): Promise<boolean> {
  const [existing] = await tx
    .select({ id: apiKeys.id, tenantId: apiKeys.tenantId })
    .from(apiKeys)
    .where(and(ownRows(tx, apiKeys.tenantId), eq(apiKeys.id, id)))
  if (!existing) return false
  await tx.update(apiKeys).set({ revokedAt: now }).where(and(ownRows(tx, apiKeys.tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
  // Every process forgets what it kept of the tenant's keys (key-memory.ts).
  await keysChanged(tx, { tenantId: existing.tenantId })
  return true
}

export type AuthResult =
  | {
      ok: true
      tenantId: string
      keyId: string
      scope: 'tenant' | 'inbox'
      inboxId: string | null
      tenantSuspended: boolean
      /** The key's tenant's ancestors, then the tenant (null: not known, as for a console session). */
      tenantPath: readonly string[] | null
    }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' }

/** What a key's row says, as `mailroom_authenticate` finds it (times in epoch milliseconds). */
export interface KeyRow {
  tenantId: string
  keyId: string
  scope: 'tenant' | 'inbox'
  inboxId: string | null
  expiresAt: number | null
  revoked: boolean
  tenantSuspended: boolean
  /** The tenant's ancestors, then the tenant: a change of any of their subtrees touches the key. */
  tenantPath: string[]
}

/** Resolves a presented key through the SECURITY DEFINER lookup; no tenant is set while doing so. */
export async function authenticate(database: Database, key: string, now: Date): Promise<AuthResult> {
  if (!KEY_PATTERN.test(key)) return { ok: false, reason: 'malformed' }
  return authResultOf(await lookupKey(database, key, hashKey(key)), now)
}

/** What the key's row (null: no key matches) means at `now`. */
export function authResultOf(r: KeyRow | null, now: Date): AuthResult {
  if (!r) return { ok: false, reason: 'unknown' }
  if (r.revoked) return { ok: false, reason: 'revoked' }
  if (r.expiresAt !== null && r.expiresAt <= now.getTime()) return { ok: false, reason: 'expired' }
  return { ok: true, tenantId: r.tenantId, keyId: r.keyId, scope: r.scope, inboxId: r.inboxId, tenantSuspended: r.tenantSuspended, tenantPath: r.tenantPath }
}

/** The row of a well-formed key whose hashKey is `hash` (null: none matches). */
export async function lookupKey(database: Database, key: string, hash: string): Promise<KeyRow | null> {
  // One lookup, in a transaction of its own (see lookupWithoutTenant).
  const rows = await lookupWithoutTenant<{
    tenant_id: string
    key_id: string
    scope: 'tenant' | 'inbox'
    inbox_id: string | null
    expires_at: string | Date | null
    revoked_at: string | Date | null
    tenant_suspended: boolean
    tenant_path: string[]
  }>(
    database,
    sql`select * from mailroom_authenticate(${keyPrefix(key)}, ${hash})`,
    // Each key waits in its own line for a connection: one key's flood of lookups does not queue ahead of another's.
    `auth:${keyPrefix(key)}`,
  )
  const r = rows[0]
  if (!r) return null
  return {
    tenantId: r.tenant_id,
    keyId: r.key_id,
    scope: r.scope,
    inboxId: r.inbox_id,
    expiresAt: r.expires_at ? new Date(r.expires_at).getTime() : null,
    revoked: r.revoked_at !== null,
    tenantSuspended: r.tenant_suspended,
    tenantPath: r.tenant_path,
  }
}
