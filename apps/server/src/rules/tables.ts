// Allow/block lists on addresses and domains, per tenant or per inbox, inbound or outbound.
import { sql } from 'drizzle-orm'
import { foreignKey, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const senderRules = pgTable(
  'sender_rules',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    inboxId: uuid('inbox_id'),
    direction: text('direction', { enum: ['inbound', 'outbound'] }).notNull(),
    action: text('action', { enum: ['allow', 'block'] }).notNull(),
    /** `user@example.com` or `example.com` (a domain matches itself and its subdomains). */
    pattern: text('pattern').notNull(),
    blockMode: text('block_mode', { enum: ['reject', 'hide'] }).notNull().default('reject'),
    /** The tenant whose key created the rule (the tenant itself or an ancestor acting inside it). */
    setByTenantId: uuid('set_by_tenant_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('sender_rules_lookup_idx').on(t.tenantId, t.direction, t.pattern),
    index('sender_rules_inbox_idx').on(t.tenantId, t.inboxId),
  ],
)
export type SenderRuleRow = typeof senderRules.$inferSelect
