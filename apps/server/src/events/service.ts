// Appending to and reading the tenant's event log.
import { and, asc, eq, gt } from 'drizzle-orm'
import type { Event, EventType } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import { bulkInsert, type TextStatement } from '../db/bulk.js'
import { pipelined, textTemplate } from '../db/pipeline.js'
import type { Cipher } from '../crypto/service.js'
import { toPublicId } from '../lib/ids.js'
import { ctx } from '../messages/service.js'
import { eventCounters, events, type EventRow } from './tables.js'
import { fanOutEvent } from '../webhooks/service.js'
import { webhooks } from '../webhooks/tables.js'
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import { ownRows } from '../db/scope.js'

/**
 * Appends an event. Takes the tenant's event counter with a row lock, so call it last in the
 * transaction: ids then commit in order and a reader never skips one (Last-Event-ID resumes).
 */
export async function appendEvent(tx: Tx, cipher: Cipher, tenantId: string, type: EventType, inboxId: string | null, data: Record<string, unknown>): Promise<number> {
  const [seq] = eventSeqsOf(await rawRows(tx, reserveEventSeqs(tenantId, 1)), 1)
  await pipelined(tx, [insertEvents(cipher, tenantId, type, [seq!], [{ inboxId, data }])])
  // Same transaction: the event and its webhook deliveries commit (or roll back) together.
  await fanOutEvent(tx, cipher, tenantId, seq!, type, inboxId, data)
  return seq!
}

// The batched form of appendEvent, as statements a batch pipelines: take `n` ids from the tenant's
// counter (its row lock, held to commit, keeps ids in commit order: call it after every other lock),
// then insert the events under those ids, with webhook deliveries when the tenant has webhooks.

/** Takes `n` event ids; read them from its rows with eventSeqsOf. */
export function reserveEventSeqs(tenantId: string, n: number): TextStatement {
  return takeEventSeqs({ n, tenantId })
}

/** reserveEventSeqs' statement, its text built once (db/pipeline.ts textTemplate). */
const takeEventSeqs = textTemplate<'n' | 'tenantId'>(
  (v) => sql`insert into ${eventCounters} as c (tenant_id, seq) values (${v('tenantId')}, ${v('n')})
    on conflict (tenant_id) do update set seq = c.seq + excluded.seq returning c.seq as event_seq`,
)

export function eventSeqsOf(rows: Record<string, unknown>[], n: number): number[] {
  const first = Number(rows[0]!.event_seq) - n + 1
  return Array.from({ length: n }, (_, i) => first + i)
}

/** Whether the tenant has an enabled webhook: one row, or none (named: on Citus, its shard alone). */
const webhookProbeText = textTemplate<'tenantId'>((v) => sql`select 1 from ${webhooks} where ${webhooks.tenantId} = ${v('tenantId')}::uuid and ${webhooks.status} = 'enabled' limit 1`)
export const enabledWebhookProbe = (tenantId: string): SQLWrapper => webhookProbeText({ tenantId })

export type EventItem = { inboxId: string | null; data: Record<string, unknown> }

/** The insert of events under ids taken with reserveEventSeqs. */
export function insertEvents(cipher: Cipher, tenantId: string, type: EventType, seqs: number[], items: EventItem[]): TextStatement {
  return bulkInsert(
    events,
    items.map((it, i) => ({ tenantId, seq: seqs[i]!, type, inboxId: it.inboxId, dataEnc: cipher.seal(ctx.event(seqs[i]!), JSON.stringify(it.data)) })),
  )
}

/** Webhook deliveries of inserted events (only when the tenant has an enabled webhook). */
export async function fanOutEvents(tx: Tx, cipher: Cipher, tenantId: string, type: EventType, seqs: number[], items: EventItem[]): Promise<void> {
  for (const [i, it] of items.entries()) await fanOutEvent(tx, cipher, tenantId, seqs[i]!, type, it.inboxId, it.data)
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
    .where(and(ownRows(tx, events.tenantId), gt(events.seq, after), inboxId ? eq(events.inboxId, inboxId) : undefined))
    .orderBy(asc(events.seq))
    .limit(limit)
}
