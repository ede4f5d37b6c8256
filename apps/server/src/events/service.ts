// Appending to and reading the tenant's event log.
import { and, asc, eq, gt } from 'drizzle-orm'
import type { Event, EventType } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { toPublicId } from '../lib/ids.js'
import { ctx } from '../messages/service.js'
import { tenants } from '../tenancy/tables.js'
import { events, type EventRow } from './tables.js'
import { fanOutEvent } from '../webhooks/service.js'
import { sql } from 'drizzle-orm'

/**
 * Appends an event. Takes the tenant's event counter with a row lock, so call it last in the
 * transaction: ids then commit in order and a reader never skips one (Last-Event-ID resumes).
 */
export async function appendEvent(tx: Tx, cipher: Cipher, tenantId: string, type: EventType, inboxId: string | null, data: Record<string, unknown>): Promise<number> {
  const [row] = await rawRows<{ event_seq: number | string }>(
    tx,
    sql`update ${tenants} set event_seq = event_seq + 1 where id = ${tenantId} returning event_seq`,
  )
  const seq = Number(row!.event_seq)
  await tx.insert(events).values({ tenantId, seq, type, inboxId, dataEnc: cipher.seal(ctx.event(seq), JSON.stringify(data)) })
  // Same transaction: the event and its webhook deliveries commit (or roll back) together.
  await fanOutEvent(tx, cipher, tenantId, seq, type, inboxId, data)
  return seq
}

export function eventToWire(e: EventRow, cipher: Cipher): Event {
  return {
    id: String(e.seq),
    type: e.type as EventType,
    createdAt: e.createdAt.toISOString(),
    inboxId: e.inboxId ? toPublicId('inbox', e.inboxId) : null,
    data: JSON.parse(cipher.openString(ctx.event(e.seq), e.dataEnc)) as Record<string, unknown>,
  }
}

export async function eventsAfter(tx: Tx, after: number, limit: number, inboxId: string | null): Promise<EventRow[]> {
  return tx
    .select()
    .from(events)
    .where(and(gt(events.seq, after), inboxId ? eq(events.inboxId, inboxId) : undefined))
    .orderBy(asc(events.seq))
    .limit(limit)
}
