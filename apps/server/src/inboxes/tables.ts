// Inboxes (tenant-owned) and the global address -> inbox routing table.
import { bigint, foreignKey, index, jsonb, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core'
import type { InboxLimits, Policies } from '@mailroom/contract'
import { tenantIdColumn, timestamps } from '../db/columns.js'

export const inboxes = pgTable(
  'inboxes',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    address: text('address').notNull(),
    displayName: text('display_name'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    limits: jsonb('limits').$type<InboxLimits>().notNull().default({}),
    /** The inbox's own policies; its tenant chain's stricter ones bind it too. */
    policies: jsonb('policies').$type<Policies>().notNull().default({}),
    /**
     * Arrival counter. Taken with a row lock as the last write of the transaction that makes a
     * message visible, so per inbox the order of `seq` is the order of commits: a reader that sees
     * seq N has seen every seq below N. Wait cursors rely on it.
     */
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('inboxes_tenant_address_key').on(t.tenantId, t.address),
    index('inboxes_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
  ],
)
export type InboxRow = typeof inboxes.$inferSelect
export type NewInboxRow = typeof inboxes.$inferInsert

/**
 * Global: which inbox an address belongs to. Addresses are unique across the platform, so the
 * primary key is the address itself. The runtime role only reaches its own tenant's rows; the
 * cross-tenant lookup is the SECURITY DEFINER function `mailroom_route(address)`.
 */
export const addressRoutes = pgTable(
  'address_routes',
  {
    address: text('address').primaryKey(),
    tenantId: tenantIdColumn(),
    inboxId: uuid('inbox_id').notNull(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('address_routes_tenant_inbox_idx').on(t.tenantId, t.inboxId),
  ],
)
