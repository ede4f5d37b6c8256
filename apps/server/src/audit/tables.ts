// Append-only log of administrative actions. RLS lets a tenant and its ancestors read it.
import { sql } from 'drizzle-orm'
import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'

export const auditLog = pgTable(
  'audit_log',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    actorKind: text('actor_kind', { enum: ['tenant', 'inbox', 'operator', 'system'] }).notNull(),
    actorTenantId: uuid('actor_tenant_id'),
    actorKeyId: uuid('actor_key_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('audit_log_tenant_created_idx').on(t.tenantId, t.createdAt, t.id)],
)
