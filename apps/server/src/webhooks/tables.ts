// Webhooks: endpoints, the durable delivery outbox (one row per event x endpoint, never coalesced)
// and the log of every attempt. Deliveries are claimed across tenants only through
// mailroom_claim_webhook_deliveries() (migrations/0010_webhooks_domains_isolation.sql).
import { sql } from 'drizzle-orm'
import { bigint, foreignKey, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn, timestamps, bytea, ts } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const webhooks = pgTable(
  'webhooks',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    url: text('url').notNull(),
    /** null: every inbox of the tenant. */
    inboxId: uuid('inbox_id'),
    /** Empty: every event type. */
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    /** full | summary */
    payload: text('payload').notNull().default('full'),
    description: text('description'),
    /** The `whsec_...` secret, sealed with the tenant's key. */
    secretEnc: bytea('secret_enc').notNull(),
    /** enabled | disabled */
    status: text('status').notNull().default('enabled'),
    disabledReason: text('disabled_reason'),
    disabledAt: ts('disabled_at'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** Start of the current run of failures (null after a success). */
    failingSince: ts('failing_since'),
    lastSuccessAt: ts('last_success_at'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('webhooks_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('webhooks_inbox_idx').on(t.tenantId, t.inboxId),
  ],
)
export type WebhookRow = typeof webhooks.$inferSelect

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    webhookId: uuid('webhook_id').notNull(),
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    eventType: text('event_type').notNull(),
    /** The exact JSON body sent, sealed with the tenant's key (it carries message content). */
    payloadEnc: bytea('payload_enc').notNull(),
    /** pending | sending | succeeded | failed */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().default(sql`now()`),
    lockedUntil: ts('locked_until'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    succeededAt: ts('succeeded_at'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.webhookId], foreignColumns: [webhooks.tenantId, webhooks.id] }).onDelete('cascade'),
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_webhook_idx').on(t.tenantId, t.webhookId, t.createdAt, t.id),
  ],
)
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    deliveryId: uuid('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    startedAt: ts('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.deliveryId], foreignColumns: [webhookDeliveries.tenantId, webhookDeliveries.id] }).onDelete('cascade'),
    index('webhook_attempts_delivery_idx').on(t.tenantId, t.deliveryId, t.startedAt),
  ],
)
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect
