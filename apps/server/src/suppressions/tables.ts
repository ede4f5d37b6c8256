// The suppression list: addresses a tenant never sends to (hard bounces, complaints, manual).
import { sql } from 'drizzle-orm'
import { index, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn, ts } from '../db/columns.js'

export const suppressions = pgTable(
  'suppressions',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    address: text('address').notNull(),
    reason: text('reason', { enum: ['hard_bounce', 'complaint', 'manual'] }).notNull(),
    detail: text('detail'),
    createdAt: ts('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('suppressions_tenant_address_key').on(t.tenantId, t.address),
    index('suppressions_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
  ],
)
export type SuppressionRow = typeof suppressions.$inferSelect
