// Inboxes: one agent's mailbox. Creating one also claims its address in the global routing table.
import { randomBytes } from 'node:crypto'
import { and, count, eq, inArray, sql } from 'drizzle-orm'
import { tenants } from '../tenancy/tables.js'
import { effectiveLimits } from '../tenancy/service.js'
import type { Inbox, Policies } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import { pgErrorCode } from '../db/client.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { ServiceError } from '../errors.js'
import { createApiKey } from '../apikeys/service.js'
import { apiKeys, keyRoutes } from '../apikeys/tables.js'
import { addressRoutes, inboxes, type InboxRow } from './tables.js'
import { routesChanged } from '../smtp/recipient-routing.js'
import { keysChanged } from '../apikeys/key-changes.js'
import { ownRows } from '../db/scope.js'

export function inboxToWire(i: InboxRow): Inbox {
  return {
    id: toPublicId('inbox', i.id),
    tenantId: toPublicId('tenant', i.tenantId),
    address: i.address,
    displayName: i.displayName,
    metadata: (i.metadata ?? {}) as Inbox['metadata'],
    policies: i.policies ?? {},
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
  }
}

export interface CreateInboxInput {
  tenantId: string
  domain: string
  name?: string | undefined
  displayName?: string | undefined
  metadata?: Record<string, unknown> | undefined
  policies?: Policies | undefined
  createKey?: boolean | undefined
}

const generatedLocalPart = () => `agent-${randomBytes(6).toString('hex')}`

async function insertInbox(tx: Tx, tenantId: string, address: string, input: CreateInboxInput): Promise<InboxRow> {
  const id = newUuid()
  const [row] = await tx
    .insert(inboxes)
    .values({ tenantId, id, address, displayName: input.displayName ?? null, metadata: input.metadata ?? {}, policies: input.policies ?? {} })
    .returning()
  await tx.insert(addressRoutes).values({ address, tenantId, inboxId: id })
  // The address may have gone to its domain's catch-all until now.
  await routesChanged(tx, { address })
  return row!
}

/**
 * Creates the inbox and its route in a savepoint, so a taken address leaves the transaction
 * usable. A taken address answers `address_taken` whoever holds it: nothing says which tenant.
 */
export async function createInbox(tx: Tx, input: CreateInboxInput): Promise<{ inbox: InboxRow; apiKey?: string }> {
  // Quota: the tenant row is locked so concurrent creations count one at a time.
  const { maxInboxes } = await effectiveLimits(tx, input.tenantId)
  if (maxInboxes != null) {
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId)).for('update')
    const [row] = await tx.select({ n: count() }).from(inboxes).where(eq(inboxes.tenantId, input.tenantId))
    if ((row?.n ?? 0) >= maxInboxes) throw new ServiceError('quota_exceeded', `this tenant may have at most ${maxInboxes} inboxes`)
  }
  const attempts = input.name ? 1 : 5
  for (let i = 0; i < attempts; i++) {
    const address = `${input.name ?? generatedLocalPart()}@${input.domain}`.toLowerCase()
    try {
      const inbox = await tx.transaction((sp) => insertInbox(sp as unknown as Tx, input.tenantId, address, input))
      if (!input.createKey) return { inbox }
      const { key } = await createApiKey(tx, { tenantId: input.tenantId, scope: 'inbox', inboxId: inbox.id, name: 'default' })
      return { inbox, apiKey: key }
    } catch (err) {
      if (pgErrorCode(err) !== '23505') throw err
    }
  }
  throw new ServiceError('address_taken', input.name ? `the address ${input.name}@${input.domain} is taken` : 'could not allocate an address; try again')
}

export async function getInbox(tx: Tx, id: string): Promise<InboxRow | null> {
  const [row] = await tx.select().from(inboxes).where(and(ownRows(tx, inboxes.tenantId), eq(inboxes.id, id)))
  return row ?? null
}

export async function listInboxes(tx: Tx, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, inboxes, { limit, after })
}

export async function updateInbox(
  tx: Tx,
  id: string,
  patch: { displayName?: string | null | undefined; metadata?: Record<string, unknown> | undefined; policies?: Policies | undefined },
): Promise<InboxRow | null> {
  const [row] = await tx
    .update(inboxes)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(and(ownRows(tx, inboxes.tenantId), eq(inboxes.id, id)))
    .returning()
  return row ?? null
}

/** Deletes the inbox; its address route, keys, mail, threads and outbox rows go with it by cascade. */
export async function deleteInbox(tx: Tx, id: string): Promise<boolean> {
  // The route goes with the inbox (a trigger does it on plain Postgres; on Citus, where the routing
  // table is a reference table, only this does).
  await tx.delete(addressRoutes).where(eq(addressRoutes.inboxId, id))
  // Its keys go with it by cascade, their routes (a global table) too: by a trigger on plain
  // Postgres, here on Citus.
  const keys = await tx.select({ id: apiKeys.id }).from(apiKeys).where(and(ownRows(tx, apiKeys.tenantId), eq(apiKeys.inboxId, id)))
  if (keys.length > 0) await tx.delete(keyRoutes).where(and(ownRows(tx, keyRoutes.tenantId), inArray(keyRoutes.keyId, keys.map((k) => k.id))))
  const rows = await tx.delete(inboxes).where(and(ownRows(tx, inboxes.tenantId), eq(inboxes.id, id))).returning({ id: inboxes.id, tenantId: inboxes.tenantId, address: inboxes.address })
  // Its address, and any address its domain's catch-all (this inbox) took.
  if (rows[0]) await routesChanged(tx, { address: rows[0].address, inboxId: id })
  // Its keys went with it.
  if (rows[0]) await keysChanged(tx, { tenantId: rows[0].tenantId })
  return rows.length > 0
}
