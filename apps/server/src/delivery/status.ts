// Delivery statuses: a message's status is the summary of its recipients' statuses.
import { and, eq, sql } from 'drizzle-orm'
import type { Delivery, DeliveryStatus } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import { arrivalPayload, MAIL_CHANNEL } from '../events/hub.js'
import { outbox, type OutboxRow } from './tables.js'
import { ownRows } from '../db/scope.js'

const PENDING = new Set(['queued', 'sending', 'deferred'])
/** Among final statuses, the one that most needs the sender's attention wins. */
const FINAL_ORDER = ['bounced', 'held', 'sent', 'delivered', 'suppressed']

export function aggregateStatus(statuses: string[]): DeliveryStatus {
  if (statuses.length === 0) return 'queued'
  if (statuses.some((s) => PENDING.has(s))) {
    if (statuses.includes('deferred')) return 'deferred'
    if (statuses.every((s) => s === 'queued')) return 'queued'
    return 'sending'
  }
  for (const s of FINAL_ORDER) if (statuses.includes(s)) return s as DeliveryStatus
  return 'sent'
}

/** A sent message's deliveries, one per recipient, by recipient. */
export function deliveriesOf(tx: Tx, messageId: string): Promise<OutboxRow[]> {
  return tx.select().from(outbox).where(and(ownRows(tx, outbox.tenantId), eq(outbox.messageId, messageId))).orderBy(outbox.recipient)
}

export function deliveryToWire(r: OutboxRow): Delivery {
  return {
    recipient: r.recipient,
    status: r.status as DeliveryStatus,
    route: r.route ?? null,
    attempts: r.attempts,
    lastError: r.lastError,
    nextAttemptAt: r.status === 'queued' || r.status === 'deferred' ? r.nextAttemptAt.toISOString() : null,
    updatedAt: r.updatedAt.toISOString(),
  }
}

/**
 * Wakes this tenant's event streams on every node (delivered on commit). seq 0: no new arrival,
 * so message waiters stay asleep.
 */
export async function notifyTenant(tx: Tx, tenantId: string, inboxId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${MAIL_CHANNEL}, ${arrivalPayload({ tenantId, inboxId, seq: 0, eventSeq: 0 })})`)
}
