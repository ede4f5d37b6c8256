// The per-tenant event log behind the event stream (SSE) and the webhook fan-out: ids are
// commit-ordered per tenant.
import { sql } from 'drizzle-orm'
import { bigint, foreignKey, pgTable, primaryKey, text, timestamp, uuid, index } from 'drizzle-orm/pg-core'
import { tenantIdColumn, bytea } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const events = pgTable(
  'events',
  {
    tenantId: tenantIdColumn(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    inboxId: uuid('inbox_id'),
    /** JSON payload, encrypted: it may carry subjects and previews. */
    dataEnc: bytea('data_enc').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('events_inbox_idx').on(t.tenantId, t.inboxId, t.seq),
  ],
)
export type EventRow = typeof events.$inferSelect

/**
 * Each tenant's event counter, commit-ordered: the row is locked by the transaction that takes ids
 * and held to its commit (SSE ids come from it). A table of its own, distributed by tenant on Citus
 * (migration 0043): in `tenants`, a reference table there, every update took the one shard's
 * modification lock, cluster-wide.
 */
export const eventCounters = pgTable('tenant_event_seqs', {
  tenantId: tenantIdColumn().primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull().default(0),
})
