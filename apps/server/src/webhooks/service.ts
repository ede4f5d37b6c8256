// Webhook endpoints and their deliveries: CRUD, the fan-out of each event into the durable outbox
// (called from appendEvent, in the transaction that records the event), listing and replay.
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm'
import type { EventType, Webhook, WebhookDelivery } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import { ownRows } from '../db/scope.js'
import type { Cipher } from '../crypto/service.js'
import { fromPublicId, newUuid, toPublicId } from '../lib/ids.js'
import { systemClock } from '../lib/clock.js'
import { type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { attachmentsOf, messageToWire } from '../messages/service.js'
import { messages } from '../messages/tables.js'
import { newWebhookSecret } from './signing.js'
import { webhookAttempts, webhookDeliveries, webhooks, type WebhookDeliveryRow, type WebhookRow } from './tables.js'

export const WEBHOOK_CHANNEL = 'mailroom_webhooks'

export const wctx = {
  secret: (id: string) => `webhooks.secret:${id}`,
  payload: (id: string) => `webhook_deliveries.payload:${id}`,
}

export function webhookToWire(w: WebhookRow): Webhook {
  return {
    id: toPublicId('webhook', w.id),
    url: w.url,
    inboxId: w.inboxId ? toPublicId('inbox', w.inboxId) : null,
    eventTypes: w.eventTypes as EventType[],
    payload: w.payload as Webhook['payload'],
    description: w.description,
    status: w.status as Webhook['status'],
    disabledReason: w.disabledReason,
    disabledAt: w.disabledAt?.toISOString() ?? null,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  }
}

export interface CreateWebhookInput {
  tenantId: string
  url: string
  inboxId: string | null
  eventTypes: string[]
  payload: 'full' | 'summary'
  description: string | null
}

export async function createWebhook(tx: Tx, cipher: Cipher, input: CreateWebhookInput): Promise<{ row: WebhookRow; secret: string }> {
  const id = newUuid()
  const secret = newWebhookSecret()
  const [row] = await tx
    .insert(webhooks)
    .values({ ...input, id, eventTypes: [...new Set(input.eventTypes)], secretEnc: cipher.seal(wctx.secret(id), secret) })
    .returning()
  return { row: row!, secret }
}

export async function getWebhook(tx: Tx, id: string): Promise<WebhookRow | null> {
  const [row] = await tx.select().from(webhooks).where(and(ownRows(tx, webhooks.tenantId), eq(webhooks.id, id)))
  return row ?? null
}

export async function listWebhooks(tx: Tx, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, webhooks, { limit, after })
}

export async function updateWebhook(
  tx: Tx,
  id: string,
  patch: { url?: string | undefined; eventTypes?: string[] | undefined; payload?: string | undefined; description?: string | null | undefined; status?: 'enabled' | 'disabled' | undefined },
): Promise<WebhookRow | null> {
  const { status, eventTypes, ...rest } = patch
  const set: Record<string, unknown> = { ...rest, updatedAt: sql`now()` }
  if (eventTypes) set.eventTypes = [...new Set(eventTypes)]
  if (status === 'enabled') Object.assign(set, { status, disabledReason: null, disabledAt: null, consecutiveFailures: 0, failingSince: null })
  if (status === 'disabled') Object.assign(set, { status, disabledReason: 'disabled by the tenant', disabledAt: sql`now()` })
  const [row] = await tx.update(webhooks).set(set).where(and(ownRows(tx, webhooks.tenantId), eq(webhooks.id, id))).returning()
  if (row && status === 'enabled') await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`)
  return row ?? null
}

export async function deleteWebhook(tx: Tx, id: string): Promise<boolean> {
  return (await tx.delete(webhooks).where(and(ownRows(tx, webhooks.tenantId), eq(webhooks.id, id))).returning({ id: webhooks.id })).length > 0
}

/**
 * Fans one event out to the tenant's enabled endpoints that want it: one delivery row per endpoint,
 * in the event's own transaction, so an event that commits is never missing a delivery and one that
 * rolls back never sends. The body is built now (with the full parsed message by default) and
 * stored sealed: what a receiver gets does not depend on later edits or retention.
 */
export async function fanOutEvent(
  tx: Tx,
  cipher: Cipher,
  tenantId: string,
  seq: number,
  type: EventType,
  inboxId: string | null,
  data: Record<string, unknown>,
): Promise<number> {
  const hooks = await tx
    .select({ id: webhooks.id, payload: webhooks.payload })
    .from(webhooks)
    .where(
      and(
        eq(webhooks.tenantId, tenantId),
        eq(webhooks.status, 'enabled'),
        inboxId ? or(isNull(webhooks.inboxId), eq(webhooks.inboxId, inboxId)) : isNull(webhooks.inboxId),
        sql`(cardinality(${webhooks.eventTypes}) = 0 or ${type} = any(${webhooks.eventTypes}))`,
      ),
    )
  if (hooks.length === 0) return 0
  const envelope = (d: Record<string, unknown>) =>
    JSON.stringify({
      type,
      // When the event is written (the event row's own time is the database's): nothing decides on it.
      timestamp: systemClock.now().toISOString(),
      eventId: String(seq),
      tenantId: toPublicId('tenant', tenantId),
      inboxId: inboxId ? toPublicId('inbox', inboxId) : null,
      data: d,
    })
  const summaryBody = envelope(data)
  let fullBody: string | undefined
  const bodyFor = async (mode: string): Promise<string> => {
    if (mode !== 'full') return summaryBody
    if (fullBody !== undefined) return fullBody
    fullBody = summaryBody
    const ref = (data.message as { id?: string } | undefined)?.id
    const uuid = typeof ref === 'string' ? fromPublicId('message', ref) : null
    if (uuid) {
      const [m] = await tx.select().from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.id, uuid)))
      if (m) {
        const atts = await attachmentsOf(tx, [m.id])
        const full = messageToWire(m, atts.get(m.id) ?? [], cipher)
        const prev = data.message as Record<string, unknown>
        fullBody = envelope({ ...data, message: { ...full, ...(prev.status ? { status: prev.status } : {}) } })
      }
    }
    return fullBody
  }
  const rows = []
  for (const h of hooks) {
    const id = newUuid()
    rows.push({ tenantId, id, webhookId: h.id, eventSeq: seq, eventType: type, payloadEnc: cipher.seal(wctx.payload(id), await bodyFor(h.payload)) })
  }
  await tx.insert(webhookDeliveries).values(rows)
  await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`)
  return rows.length
}

const ATTEMPT_LOG = 20

export async function deliveriesToWire(tx: Tx, rows: WebhookDeliveryRow[]): Promise<WebhookDelivery[]> {
  const ids = rows.map((r) => r.id)
  const attempts = ids.length
    ? await tx.select().from(webhookAttempts).where(and(ownRows(tx, webhookAttempts.tenantId), inArray(webhookAttempts.deliveryId, ids))).orderBy(desc(webhookAttempts.startedAt), desc(webhookAttempts.attempt))
    : []
  const by = new Map<string, typeof attempts>()
  for (const a of attempts) {
    const list = by.get(a.deliveryId) ?? []
    if (list.length < ATTEMPT_LOG) list.push(a)
    by.set(a.deliveryId, list)
  }
  return rows.map((d) => ({
    id: toPublicId('webhookDelivery', d.id),
    webhookId: toPublicId('webhook', d.webhookId),
    eventId: String(d.eventSeq),
    eventType: d.eventType as EventType,
    status: d.status as WebhookDelivery['status'],
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    succeededAt: d.succeededAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    attemptLog: (by.get(d.id) ?? []).map((a) => ({
      attempt: a.attempt,
      at: a.startedAt.toISOString(),
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      error: a.error,
    })),
  }))
}

export async function listDeliveries(tx: Tx, webhookId: string, status: string | undefined, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, webhookDeliveries, { limit, after, where: and(eq(webhookDeliveries.webhookId, webhookId), status ? eq(webhookDeliveries.status, status) : undefined) })
}

export async function getDelivery(tx: Tx, webhookId: string, id: string): Promise<WebhookDeliveryRow | null> {
  const [row] = await tx
    .select()
    .from(webhookDeliveries)
    .where(and(ownRows(tx, webhookDeliveries.tenantId), eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.id, id)))
  return row ?? null
}

/** Sends a delivery again (same `webhook-id`, so receivers can de-duplicate), now. */
export async function replayDelivery(tx: Tx, d: WebhookDeliveryRow): Promise<WebhookDeliveryRow | 'in_flight'> {
  const [row] = await tx
    .update(webhookDeliveries)
    .set({ status: 'pending', nextAttemptAt: sql`now()`, lockedUntil: null, succeededAt: null, updatedAt: sql`now()` })
    .where(and(ownRows(tx, webhookDeliveries.tenantId), eq(webhookDeliveries.id, d.id), sql`not (${webhookDeliveries.status} = 'sending' and ${webhookDeliveries.lockedUntil} > now())`))
    .returning()
  if (!row) return 'in_flight'
  await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`)
  return row
}
