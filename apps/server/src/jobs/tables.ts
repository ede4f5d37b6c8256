// A durable work queue for the background parse of large received messages (delivery and webhooks
// have queues of their own: the outbox, webhook_deliveries). Rows are tenant-owned; workers
// claim across tenants only through mailroom_claim_jobs(), fairly (round-robin by tenant).
import { sql } from 'drizzle-orm'
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'

export const jobs = pgTable(
  'jobs',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    kind: text('kind').notNull(),
    refId: uuid('ref_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    runAt: timestamp('run_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('jobs_kind_run_idx').on(t.kind, t.runAt)],
)
