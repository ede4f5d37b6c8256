// Console sessions: a person signed in with a key, held server-side. Only a SHA-256 of the cookie's
// token is stored. A tenant-key session belongs to the key's tenant (row-level security like every
// tenant table, found by the tenant and token its cookie names through the SECURITY DEFINER
// mailroom_console_session(), migration 0035) and to the key itself: deleting the key or its tenant
// deletes the session, revoking it ends the session at its next request. Operator sessions have no
// tenant; their table is visible only to transactions that have no tenant set
// (migrations/0018_console_sessions.sql).
import { sql } from 'drizzle-orm'
import { foreignKey, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'
import { apiKeys } from '../apikeys/tables.js'

const sessionTimes = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  /** Moved forward at most once a minute by the requests of the session (idle expiry). */
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  /** Absolute expiry, fixed at sign-in. */
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
}

export const consoleSessions = pgTable(
  'console_sessions',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    keyId: uuid('key_id').notNull(),
    /** hex SHA-256 of the cookie's token */
    tokenHash: text('token_hash').notNull(),
    ...sessionTimes,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.keyId], foreignColumns: [apiKeys.tenantId, apiKeys.id] }).onDelete('cascade'),
    // Not unique on purpose (unique indexes on tenant tables start with tenant_id); the token is
    // 256 random bits, and the lookup compares the whole hash.
    index('console_sessions_token_idx').on(t.tokenHash),
    index('console_sessions_key_idx').on(t.tenantId, t.keyId),
  ],
)
export type ConsoleSessionRow = typeof consoleSessions.$inferSelect

export const consoleOperatorSessions = pgTable(
  'console_operator_sessions',
  {
    id: uuid('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    /** hex SHA-256 of the operator key that signed in: changing MAILROOM_OPERATOR_KEY ends the session. */
    keyHash: text('key_hash').notNull(),
    ...sessionTimes,
  },
  (t) => [uniqueIndex('console_operator_sessions_token_idx').on(t.tokenHash)],
)
export type ConsoleOperatorSessionRow = typeof consoleOperatorSessions.$inferSelect
