// Idempotency keys: the first response to a write, replayed for 24 h to the same key and body.
import { sql } from 'drizzle-orm'
import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'
import { tenantIdColumn, bytea } from '../db/columns.js'

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: tenantIdColumn(),
    key: text('key').notNull(),
    /** sha256 of method, path and body. */
    fingerprint: text('fingerprint').notNull(),
    statusCode: integer('status_code'),
    /** The response body, encrypted under the tenant's key (it may hold message content). */
    bodyEnc: bytea('body_enc'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
)
