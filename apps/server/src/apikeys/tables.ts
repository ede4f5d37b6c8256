// API keys: only a SHA-256 of the secret is stored, with a short public prefix for lookup.
import { foreignKey, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { sql } from 'drizzle-orm'
import { tenantIdColumn } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const apiKeys = pgTable(
  'api_keys',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    scope: text('scope', { enum: ['tenant', 'inbox'] }).notNull(),
    inboxId: uuid('inbox_id'),
    name: text('name'),
    prefix: text('prefix').notNull(),
    /** hex SHA-256 of the whole key */
    hash: text('hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    // Not unique on purpose: unique indexes on tenant tables start with tenant_id. The lookup
    // function compares the hash, so a (vanishingly unlikely) prefix collision is harmless.
    index('api_keys_prefix_idx').on(t.prefix),
    index('api_keys_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('api_keys_inbox_idx').on(t.tenantId, t.inboxId),
  ],
)
export type ApiKeyRow = typeof apiKeys.$inferSelect

/**
 * Where a key's public prefix leads: its tenant and key (migration 0033). A global routing table like
 * address_routes, unique by the prefix rather than the tenant, a reference table on Citus: the key
 * lookup (`mailroom_authenticate`) reads it first, then the key's row on its tenant's shard alone. The
 * runtime role reaches only its own tenant's routes.
 */
export const keyRoutes = pgTable(
  'key_routes',
  {
    prefix: text('prefix').notNull(),
    tenantId: tenantIdColumn(),
    keyId: uuid('key_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.prefix, t.tenantId, t.keyId] }), index('key_routes_tenant_key_idx').on(t.tenantId, t.keyId)],
)
