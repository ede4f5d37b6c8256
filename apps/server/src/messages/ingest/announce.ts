// Telling the world, inside the transaction that stores the messages: the onParsed hook (bounce and
// complaint reports, in savepoints), the `message.received` events, webhook deliveries, and the
// arrival notifications that wake waiters on every node once the transaction commits.
import { sql } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { beforeCommit, chained, textTemplate } from '../../db/pipeline.js'
import type { Cipher } from '../../crypto/service.js'
import { appendEvent, fanOutEvents, insertEvents } from '../../events/service.js'
import { arrivalPayload, MAIL_CHANNEL, type Arrival, type Committing } from '../../events/hub.js'
import { summaryToWire } from '../service.js'
import type { MessageRow } from '../tables.js'
import { attachmentMeta } from './rows.js'
import type { IngestOptions, Visible } from './types.js'

/** One text for any batch size (an array parameter), so one prepared statement per connection. */
const notifyArrivals = textTemplate<'channel' | 'payloads'>((v) => sql`select pg_notify(${v('channel')}, p) from unnest(${v('payloads')}::text[]) as p`)

export interface Announcement {
  tenantId: string
  visible: Visible[]
  /** The stored rows, in the order of `visible`. */
  rows: MessageRow[]
  /** Event ids of the shown (not hidden) rows, in order. */
  eventSeqs: number[]
  webhooksExist: boolean
  /** Raw bytes by raw id (for the onParsed hook). */
  bytesOf: Map<string, Buffer>
}

/**
 * Returns the arrivals to tell this process's waiters once the transaction commits (each with the
 * stored message, unless a hook ran on it and may have changed it).
 */
export async function announce(tx: Tx, cipher: Cipher, o: Pick<IngestOptions, 'onParsed' | 'onParsedWants' | 'log' | 'metrics' | 'database'>, a: Announcement): Promise<Arrival[]> {
  const { tenantId, visible, rows, eventSeqs } = a
  for (const row of rows) o.metrics?.messagesParsed.inc({ status: row.parseStatus })
  const onParsed = o.onParsed
  const hooked = new Set<MessageRow>()
  if (onParsed) {
    for (const [i, v] of visible.entries()) {
      const p = v.analysis.parsed
      if (!p || v.row.direction !== 'inbound' || !(o.onParsedWants?.(p) ?? true)) continue
      hooked.add(rows[i]!)
      try {
        await tx.transaction((sp) => onParsed(sp as unknown as Tx, cipher, tenantId, rows[i]!, p, a.bytesOf.get(v.row.rawId)!))
      } catch (err) {
        o.log.warn('ingest: onParsed failed, message stored without it', { rawId: v.row.rawId, err: String((err as Error)?.message ?? err) })
      }
    }
  }
  // Held back from the agent: told to the tenant (its streams and tenant-wide webhooks), not the inbox.
  for (const [i, row] of rows.entries()) {
    if (!row.quarantined || row.hidden) continue
    const message = summaryToWire(row, visible[i]!.attachments.map(attachmentMeta), cipher)
    await appendEvent(tx, cipher, tenantId, 'message.quarantined', null, { message, inboxId: message.inboxId, reason: visible[i]!.quarantineReason ?? null })
  }
  const shown = rows.flatMap((row, i) => (row.hidden || row.quarantined ? [] : [{ row, atts: visible[i]!.attachments.map(attachmentMeta) }]))
  if (shown.length === 0) return []
  const arrivals: Arrival[] = shown.map(({ row, atts }, i) => ({
    tenantId,
    inboxId: row.inboxId,
    seq: row.seq!,
    eventSeq: eventSeqs[i]!,
    ...(hooked.has(row) ? {} : { stored: { row, atts, cipher } }),
  }))
  const notifications = arrivals.map(arrivalPayload)
  const items = shown.map(({ row, atts }) => ({ inboxId: row.inboxId, data: { message: summaryToWire(row, atts, cipher) } }))
  const write = chained(
    [
      insertEvents(cipher, tenantId, 'message.received', eventSeqs, items),
      notifyArrivals({ channel: MAIL_CHANNEL, payloads: notifications }),
    ],
    1,
    o.database.citus === true,
  )
  // Nothing here needs their answers: the COMMIT goes with them (unless webhook deliveries follow).
  await beforeCommit(tx, write.statements)
  if (a.webhooksExist) await fanOutEvents(tx, cipher, tenantId, 'message.received', eventSeqs, items)
  return arrivals
}

/**
 * Runs an ingest transaction and tells this process's waiters what it made visible. `run` opens
 * the transaction and calls `tell(arrivals)` as its last step inside it, before the COMMIT: the
 * Hub then holds the database's notifications of those arrivals, which can overtake the COMMIT's
 * answer, so the waiters hear of each message once, with the stored row (no read back). Never throws
 * for the telling: the messages are stored, and a failure there must not make the caller store them
 * again.
 */
export async function tellingWaiters<T>(o: Pick<IngestOptions, 'waiters' | 'log'>, run: (tell: (arrivals: Arrival[]) => void) => Promise<T>): Promise<T> {
  let handle: Committing | null = null
  const settle = (how: 'committed' | 'failed') => {
    try {
      handle?.[how]()
    } catch (err) {
      o.log.warn('ingest: telling waiters of committed messages failed (they hear it through the database)', { err: String((err as Error)?.message ?? err) })
    }
  }
  const tell = (arrivals: Arrival[]) => {
    // A transaction tried again (its BEGIN found the connection dead) tells anew.
    settle('failed')
    handle = arrivals.length > 0 && o.waiters ? o.waiters.committing(arrivals) : null
  }
  let out: T
  try {
    out = await run(tell)
  } catch (err) {
    settle('failed')
    throw err
  }
  settle('committed')
  return out
}
