// Arrival numbers: each message that becomes visible takes the next seq of its inbox (the cursor
// waits and lists rely on) and an event id of its tenant, in the same statements that place its
// thread, all in the lock order every writer keeps (usage, threads, inbox counters, events).
import { sql, type SQLWrapper } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { pipelined, textTemplate } from '../../db/pipeline.js'
import type { Cipher } from '../../crypto/service.js'
import { inboxes } from '../../inboxes/tables.js'
import { eventSeqsOf, reserveEventSeqs } from '../../events/service.js'
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
  const plan = planThreads(
    visible.map((v) => (v.analysis.parsed ? { inboxId: v.row.inboxId, h: v.analysis.parsed } : null)),
    lookups,
  )
  for (const [i, v] of visible.entries()) if (plan.threadIds[i]) v.row.threadId = plan.threadIds[i]!
  // Hidden (a blocked sender's) and quarantined copies take no place in the inbox's arrival order:
  // a released one takes the next, then.
  const shown = visible.filter((v) => !v.row.hidden && !v.row.quarantined)
  const seqs = seqStatement(tenantId, shown.map((v) => v.row.inboxId))
  const last = then?.(seqsBack(visible, shown)) ?? []
  const written = await pipelined(tx, [
    ...first,
    ...threadWrites(cipher, tenantId, plan),
    // Received mail makes its sender a contact of the inbox (after threads, before inbox counters);
    // verified mail puts the inbox in conversation with it (verdicts.ts senderVerified).
    recordContacts(
      tenantId,
      visible.flatMap((v) => (v.row.direction === 'inbound' && v.row.fromAddress ? [{ inboxId: v.row.inboxId, address: v.row.fromAddress, at: v.row.receivedAt, kind: 'received' as const, verified: v.verifiedSender === true }] : [])),
    ),
    seqs.statement,
    shown.length > 0 && reserveEventSeqs(tenantId, shown.length),
    ...last,
  ])
  const numbered = written.slice(0, written.length - last.length)
  seqs.assign(numbered.at(-2)!, shown)
  return { eventSeqs: shown.length ? eventSeqsOf(numbered.at(-1)!, shown.length) : [], then: written.slice(written.length - last.length) }
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

/** The seq update of seqStatement (one text for any number of inboxes). */
const takeSeqs = textTemplate<'tenantId' | 'ids' | 'counts'>(
  (v) =>
    sql`with locked as materialized (select id from ${inboxes} where tenant_id = ${v('tenantId')}::uuid and id = any(${v('ids')}::uuid[]) order by id for update)
        update ${inboxes} i set last_seq = i.last_seq + v.n
        from locked l join unnest(${v('ids')}::uuid[], ${v('counts')}::int[]) as v(id, n) on v.id = l.id
        where i.tenant_id = ${v('tenantId')}::uuid and i.id = l.id returning i.id, i.last_seq`,
)

/**
 * Takes the next arrival numbers of the inboxes (one per entry, in order), locking the inbox rows
 * in id order until commit: the commit order is the seq order, which waits rely on.
 */
function seqStatement(tenantId: string, inboxIds: string[]): { statement: SQLWrapper | false; assign(rows: Record<string, unknown>[], shown: Visible[]): void } {
  const counts = new Map<string, number>()
  for (const id of inboxIds) counts.set(id, (counts.get(id) ?? 0) + 1)
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : 1))
  const ids = sorted.map(([id]) => id)
  const statement = sorted.length > 0 && takeSeqs({ tenantId, ids, counts: sorted.map(([, n]) => n) })
  return {
    statement,
    assign(rows, shown) {
      const next = new Map<string, number>()
      for (const r of rows) next.set(r.id as string, Number(r.last_seq) - counts.get(r.id as string)! + 1)
      for (const v of shown) {
        const seq = next.get(v.row.inboxId)
        if (seq === undefined) throw new Error(`inbox ${v.row.inboxId} is gone`)
        v.row.seq = seq
        next.set(v.row.inboxId, seq + 1)
      }
    },
  }
}
