// The tenant tree. RLS: a tenant sees itself and its descendants (see migrations/0001_isolation.sql).
import { sql } from 'drizzle-orm'
import { type AnyPgColumn, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import type { Policies, TenantLimits } from '@mailroom/contract'

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey(),
    parentId: uuid('parent_id').references((): AnyPgColumn => tenants.id, { onDelete: 'cascade' }),
    /** Root first, parent last; maintained by a trigger from parent_id, never by the caller. */
    ancestors: uuid('ancestors').array().notNull().default(sql`'{}'::uuid[]`),
    name: text('name').notNull(),
    status: text('status', { enum: ['active', 'suspended'] }).notNull().default('active'),
    limits: jsonb('limits').$type<TenantLimits>().notNull().default({}),
    /** The policies the tenant set for itself (quarantine ...); the strictest along the ancestry applies. */
    policies: jsonb('policies').$type<Policies>().notNull().default({}),
    /** The policies its ancestors (or the operator) set on it: the tenant cannot change these. */
    parentPolicies: jsonb('parent_policies').$type<Policies>().notNull().default({}),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [index('tenants_parent_idx').on(t.parentId, t.createdAt)],
)

export type TenantRow = typeof tenants.$inferSelect
export type NewTenantRow = typeof tenants.$inferInsert
