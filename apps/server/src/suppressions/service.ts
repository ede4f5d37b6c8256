// The suppression list: adding (a hard bounce, a complaint, a person), listing, removing. Sending
// reads it to mark mail to these addresses `suppressed` instead of sending it.
import { and, eq, inArray } from 'drizzle-orm'
import type { Suppression } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import { newestFirst, type Page } from '../db/keyset.js'
import { newUuid } from '../lib/ids.js'
import type { CursorPosition } from '../lib/cursor.js'
import { suppressions, type SuppressionRow } from './tables.js'
import { ownRows } from '../db/scope.js'

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual'

export function suppressionToWire(s: SuppressionRow): Suppression {
  return { address: s.address, reason: s.reason, detail: s.detail, createdAt: s.createdAt.toISOString() }
}

/** Suppresses an address (already suppressed: nothing changes). Returns the new row, or null. */
export async function suppress(tx: Tx, tenantId: string, address: string, reason: SuppressionReason, detail: string | null): Promise<SuppressionRow | null> {
  const rows = await tx
    .insert(suppressions)
    .values({ tenantId, id: newUuid(), address: address.toLowerCase(), reason, detail: detail?.slice(0, 500) ?? null })
    .onConflictDoNothing()
    .returning()
  return rows[0] ?? null
}

export async function getSuppression(tx: Tx, address: string): Promise<SuppressionRow | null> {
  const [row] = await tx.select().from(suppressions).where(and(ownRows(tx, suppressions.tenantId), eq(suppressions.address, address.toLowerCase())))
  return row ?? null
}

/** The suppressed ones among `addresses` (lower case), by address. */
export async function suppressedAmong(tx: Tx, addresses: string[]): Promise<Map<string, SuppressionRow>> {
  if (addresses.length === 0) return new Map()
  return new Map((await tx.select().from(suppressions).where(and(ownRows(tx, suppressions.tenantId), inArray(suppressions.address, addresses)))).map((s) => [s.address, s]))
}

export function listSuppressions(tx: Tx, limit: number, after: CursorPosition | null): Promise<Page<SuppressionRow>> {
  return newestFirst(tx, suppressions, { limit, after })
}

/** Removes an address from the list; false when it was not on it. */
export async function unsuppress(tx: Tx, address: string): Promise<boolean> {
  const deleted = await tx.delete(suppressions).where(and(ownRows(tx, suppressions.tenantId), eq(suppressions.address, address.toLowerCase()))).returning({ id: suppressions.id })
  return deleted.length > 0
}
