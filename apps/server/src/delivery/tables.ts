// Sending: the outbox (one row per message x recipient), the tenant's suppression list and its
// sending state (pause, IP pool). The outbox is claimed across tenants only through
// mailroom_claim_outbox() (migrations/0005_delivery_isolation.sql).
import { sql } from 'drizzle-orm'
import { boolean, foreignKey, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn, ts } from '../db/columns.js'
import { messages } from '../messages/tables.js'

export const outbox = pgTable(
  'outbox',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    messageId: uuid('message_id').notNull(),
    /** Denormalised so inbox-scoped RLS can check it directly. */
    inboxId: uuid('inbox_id').notNull(),
    recipient: text('recipient').notNull(),
    /** queued | sending | deferred | sent | delivered | bounced | suppressed | held */
    status: text('status').notNull().default('queued'),
    route: text('route', { enum: ['internal', 'external'] }),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().default(sql`now()`),
    lockedUntil: ts('locked_until'),
    lastError: text('last_error'),
    finishedAt: ts('finished_at'),
    createdAt: ts('created_at').notNull().default(sql`now()`),
    updatedAt: ts('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    index('outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('outbox_message_idx').on(t.tenantId, t.messageId),
    index('outbox_finished_idx').on(t.tenantId, t.finishedAt),
  ],
)
export type OutboxRow = typeof outbox.$inferSelect

export const sendingStates = pgTable('sending_states', {
  tenantId: tenantIdColumn().primaryKey(),
  paused: boolean('paused').notNull().default(false),
  pausedReason: text('paused_reason'),
  pausedAt: ts('paused_at'),
  /** Reputation is measured from here on (a resume starts a fresh window). */
  windowFrom: ts('window_from'),
  ipPool: text('ip_pool'),
  updatedAt: ts('updated_at').notNull().default(sql`now()`),
})
export type SendingStateRow = typeof sendingStates.$inferSelect
