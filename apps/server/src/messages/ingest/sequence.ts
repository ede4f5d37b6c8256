// Arrival numbers: each message that becomes visible takes the next seq of its inbox (the cursor
// waits and lists rely on) and an event id of its tenant, in the same statements that place its
// thread, all in the lock order every writer keeps (usage, threads, inbox counters, events).
// Two ways: numberVisible takes them under the counters' locks and reads them back (one round trip
// before the events can be written); numberExpected takes the numbers the batch's reads found next,
// known before anything is sent, so the events and the COMMIT go with the writes, and the statements
// that take them fail the transaction if a counter moved in between (the batch is then written again
// the first way).
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { pipelined, textTemplate } from '../../db/pipeline.js'
import type { TextStatement } from '../../db/bulk.js'
import type { Cipher } from '../../crypto/service.js'
import { inboxes } from '../../inboxes/tables.js'
import { tenants } from '../../tenancy/tables.js'
import { eventSeqsOf, reserveEventSeqs, reserveEventSeqsExpecting } from '../../events/service.js'
import { planThreads, threadWrites, type ThreadLookups } from '../threading.js'
import { recordContacts } from '../../contacts/record.js'
import type { Visible } from './types.js'

/**
 * The writes both roads share, pipelined after `first` (in the lock order: whatever `first` locks,
 * then threads, contacts, inbox counters, the tenant's event counter): threads placed and written,
 * the senders recorded as contacts, each shown row's seq set, event ids taken. `then`: statements
 * that go last in the same pipeline and take the seqs in SQL (rows.ts visibleInsert), given each
 * row's `seqBack` (the shown rows of its inbox after it here; null: the row takes no seq). Returns
 * the event ids of the shown rows, in order, and the answers of `then`'s statements.
 */
export async function numberVisible(
  tx: Tx,
  cipher: Cipher,
  tenantId: string,
  visible: Visible[],
  lookups: ThreadLookups,
  first: (SQLWrapper | false)[],
  then?: (seqBack: (number | null)[]) => SQLWrapper[],
): Promise<{ eventSeqs: number[]; then: Record<string, unknown>[][] }> {
  const { shown, writes } = placed(cipher, tenantId, visible, lookups)
  const seqs = seqStatement(tenantId, shown.map((v) => v.row.inboxId))
  const last = then?.(seqsBack(visible, shown)) ?? []
  const written = await pipelined(tx, [...first, ...writes, seqs.statement, shown.length > 0 && reserveEventSeqs(tenantId, shown.length), ...last])
  const numbered = written.slice(0, written.length - last.length)
  seqs.assign(numbered.at(-2)!, shown)
  return { eventSeqs: shown.length ? eventSeqsOf(numbered.at(-1)!, shown.length) : [], then: written.slice(written.length - last.length) }
}

/** The counters a batch will take its numbers from, as its reads found them (counterReads). */
export interface Counters {
  /** Per inbox of the batch, its last_seq. */
  lastSeq: Map<string, number>
  /** The tenant's last event id. */
  eventSeq: number
  /** The database's clock when it read them, in µs since the epoch (the rows' received_at). */
  clockUs: number
}

const inboxCounters = textTemplate<'tenantId' | 'ids'>((v) => sql`select id, last_seq from ${inboxes} where tenant_id = ${v('tenantId')}::uuid and id = any(${v('ids')}::uuid[])`)
const tenantCounter = textTemplate<'tenantId'>(
  (v) => sql`select event_seq, (extract(epoch from clock_timestamp()) * 1000000)::bigint as us from ${tenants} where id = ${v('tenantId')}::uuid`,
)

/** The reads numberExpected needs (read-only: they go in the batch's fused read). */
export function counterReads(tenantId: string, inboxIds: string[]): [TextStatement | false, TextStatement] {
  return [inboxIds.length > 0 && inboxCounters({ tenantId, ids: [...new Set(inboxIds)] }), tenantCounter({ tenantId })]
}

/** What counterReads returned; null when the tenant's row was not readable. */
export function countersOf(inboxRows: Record<string, unknown>[], tenantRows: Record<string, unknown>[]): Counters | null {
  const t = tenantRows[0]
  if (!t) return null
  return { lastSeq: new Map(inboxRows.map((r) => [r.id as string, Number(r.last_seq)])), eventSeq: Number(t.event_seq), clockUs: Number(t.us) }
}

/**
 * numberVisible without its round trip: each shown row takes the next seq of its inbox after
 * `counters`, the events the next ids, and every visible row a received_at from the database's clock
 * at the reads (a microsecond apart, in batch order), all set here; returns the statements that
 * place the threads and take the numbers (failing the transaction with SQLSTATE 40001 if a counter is
 * no longer where the reads found it), the event ids of the shown rows in order, and each visible
 * row's received_at in µs (for rows.ts visibleInsert).
 */
export function numberExpected(
  cipher: Cipher,
  tenantId: string,
  visible: Visible[],
  lookups: ThreadLookups,
  counters: Counters,
): { statements: (SQLWrapper | false)[]; eventSeqs: number[]; receivedUs: number[] } {
  const receivedUs = visible.map((v, i) => {
    const us = counters.clockUs + i
    v.row.receivedAt = v.row.updatedAt = new Date(Math.floor(us / 1000))
    return us
  })
  const { shown, writes } = placed(cipher, tenantId, visible, lookups)
  const seqs = seqStatement(tenantId, shown.map((v) => v.row.inboxId))
  seqs.assign(
    seqs.ids.map((id, k) => ({ id, last_seq: (counters.lastSeq.get(id) ?? NaN) + seqs.counts[k]! })),
    shown,
  )
  const eventSeqs = shown.map((_, i) => counters.eventSeq + 1 + i)
  return {
    statements: [...writes, seqs.expecting(counters), shown.length > 0 && reserveEventSeqsExpecting(tenantId, shown.length, counters.eventSeq + shown.length)],
    eventSeqs,
    receivedUs,
  }
}

/**
 * What both ways share: the rows' threads placed (threadIds set) and the writes that place them and
 * record the senders as contacts (after threads, before inbox counters); the rows that take a seq.
 */
function placed(cipher: Cipher, tenantId: string, visible: Visible[], lookups: ThreadLookups): { shown: Visible[]; writes: (SQLWrapper | false)[] } {
  const plan = planThreads(
    visible.map((v) => (v.analysis.parsed ? { inboxId: v.row.inboxId, h: v.analysis.parsed } : null)),
    lookups,
  )
  for (const [i, v] of visible.entries()) if (plan.threadIds[i]) v.row.threadId = plan.threadIds[i]!
  // Hidden (a blocked sender's) and quarantined copies take no place in the inbox's arrival order:
  // a released one takes the next, then.
  const shown = visible.filter((v) => !v.row.hidden && !v.row.quarantined)
  const writes = [
    ...threadWrites(cipher, tenantId, plan),
    // Received mail makes its sender a contact of the inbox.
    recordContacts(
      tenantId,
      visible.flatMap((v) => (v.row.direction === 'inbound' && v.row.fromAddress ? [{ inboxId: v.row.inboxId, address: v.row.fromAddress, at: v.row.receivedAt, kind: 'received' as const }] : [])),
    ),
  ]
  return { shown, writes }
}

/** Per visible row, how many shown rows of its inbox come after it (null: not shown, no seq). */
function seqsBack(visible: Visible[], shown: Visible[]): (number | null)[] {
  const left = new Map<string, number>()
  for (const v of shown) left.set(v.row.inboxId, (left.get(v.row.inboxId) ?? 0) + 1)
  const isShown = new Set(shown)
  return visible.map((v) => {
    if (!isShown.has(v)) return null
    const n = left.get(v.row.inboxId)! - 1
    left.set(v.row.inboxId, n)
    return n
  })
}

/** The seq update of seqStatement (one text for any number of inboxes), as the WITH queries of a statement: `taken` holds the counters' new values. */
const seqUpdate = (v: (name: 'tenantId' | 'ids' | 'counts') => SQL): SQL =>
  sql`with locked as materialized (select id from ${inboxes} where tenant_id = ${v('tenantId')}::uuid and id = any(${v('ids')}::uuid[]) order by id for update),
        taken as (update ${inboxes} i set last_seq = i.last_seq + v.n
          from locked l join unnest(${v('ids')}::uuid[], ${v('counts')}::int[]) as v(id, n) on v.id = l.id
          where i.tenant_id = ${v('tenantId')}::uuid and i.id = l.id returning i.id, i.last_seq)`
const takeSeqs = textTemplate<'tenantId' | 'ids' | 'counts'>((v) => sql`${seqUpdate(v)} select id, last_seq from taken`)
/** The same update, failing the transaction unless every counter ends at `last` (numberExpected). */
const takeSeqsExpecting = textTemplate<'tenantId' | 'ids' | 'counts' | 'last'>(
  (v) => sql`${seqUpdate(v)} select mailroom_expect(count(*) = cardinality(${v('ids')}::uuid[]) and coalesce(bool_and(t.last_seq = e.last), false), 'inbox counters')
        from taken t join unnest(${v('ids')}::uuid[], ${v('last')}::bigint[]) as e(id, last) on e.id = t.id`,
)

/**
 * Takes the next arrival numbers of the inboxes (one per entry, in order), locking the inbox rows
 * in id order until commit: the commit order is the seq order, which waits rely on. `assign` sets
 * the shown rows' seqs from the counters' new values; `expecting` is the statement that takes them
 * where `counters` says they are.
 */
function seqStatement(
  tenantId: string,
  inboxIds: string[],
): { ids: string[]; counts: number[]; statement: SQLWrapper | false; expecting(counters: Counters): SQLWrapper | false; assign(rows: Record<string, unknown>[], shown: Visible[]): void } {
  const perInbox = new Map<string, number>()
  for (const id of inboxIds) perInbox.set(id, (perInbox.get(id) ?? 0) + 1)
  const sorted = [...perInbox].sort(([a], [b]) => (a < b ? -1 : 1))
  const ids = sorted.map(([id]) => id)
  const counts = sorted.map(([, n]) => n)
  return {
    ids,
    counts,
    statement: ids.length > 0 && takeSeqs({ tenantId, ids, counts }),
    expecting: (counters) => ids.length > 0 && takeSeqsExpecting({ tenantId, ids, counts, last: ids.map((id, k) => (counters.lastSeq.get(id) ?? 0) + counts[k]!) }),
    assign(rows, shown) {
      const next = new Map<string, number>()
      for (const r of rows) next.set(r.id as string, Number(r.last_seq) - perInbox.get(r.id as string)! + 1)
      for (const v of shown) {
        const seq = next.get(v.row.inboxId)
        if (seq === undefined || Number.isNaN(seq)) throw new Error(`inbox ${v.row.inboxId} is gone`)
        v.row.seq = seq
        next.set(v.row.inboxId, seq + 1)
      }
    },
  }
}
