// Threads, for received and sent mail alike: a message joins the thread of a message it refers to
// (In-Reply-To, then References), else the thread of a stored message that refers to it (a reply
// that arrived before its original), else it starts one. Both lookups go through indexes, so their
// cost follows the matches, not the size of the inboxes, whatever the statistics the plan was made
// with (below); array parameters keep one statement text whatever the batch holds (one prepared
// statement each).
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Tx } from '../db/client.js'
import { pipelined, textTemplate } from '../db/pipeline.js'
import { bulkInsert } from '../db/bulk.js'
import type { Cipher } from '../crypto/service.js'
import { newUuid } from '../lib/ids.js'
import { ctx } from './service.js'
import { messageRefs, messages, threads } from './tables.js'

/** The headers threading reads (a parsed message has them all). */
export interface ThreadHeaders {
  messageId: string | null
  inReplyTo: string | null
  references: string[]
  subject: string | null
}

export interface ThreadEntry {
  inboxId: string
  h: ThreadHeaders
}

/** The ids a message refers to: In-Reply-To and the last 50 References (more cost rows, not threads). */
export const refsOf = (h: ThreadHeaders) => [...new Set([h.inReplyTo, ...h.references].filter((r): r is string => !!r))].slice(-50)

/** "Re: Fwd: AW: x" -> "x": the subject a thread is named by. */
export const stripSubjectPrefixes = (s: string) => s.replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, '')

const threadKey = (inboxId: string, id: string) => `${inboxId} ${id}`

export interface ThreadLookups {
  /** inbox + Message-ID of a stored message -> its thread */
  referred: Map<string, string>
  /** inbox + an id a stored message refers to -> that message's thread (a reply may arrive first) */
  referring: Map<string, string>
}

/**
 * The two lookups, as statements to pipeline: stored messages the entries refer to, and those that
 * refer to them. `joins`: both as plain joins, for Citus (which pushes down no fenced LATERAL
 * subquery) and for a statement planned with its values; otherwise pair by pair, fenced, as a
 * cached generic plan needs (below).
 */
export function threadLookups(tenantId: string, list: ThreadEntry[], joins: boolean): { referred: SQLWrapper | null; referring: SQLWrapper | null } {
  // (inbox, Message-ID referred to), looked up on messages_inbox_msgid_idx.
  const referred = pairsOf(list.flatMap(({ inboxId, h }) => refsOf(h).map((r): [string, string] => [inboxId, r])))
  // (inbox, own Message-ID), looked up on message_refs (migration 0014).
  const referring = pairsOf(list.flatMap(({ inboxId, h }) => (h.messageId ? [[inboxId, h.messageId] as [string, string]] : [])))
  return {
    referred: referred && (joins ? referredJoinText({ tenantId, ...referred }) : referredText(referred)),
    referring: referring && (joins ? referringJoinText({ tenantId, ...referring }) : referringText(referring)),
  }
}

/** Distinct (inbox, Message-ID) pairs as the two arrays of a table `q(inbox_id, ref)`; null when there are none. */
function pairsOf(pairs: [string, string][]): Record<'inboxIds' | 'refs', string[]> | null {
  const distinct = [...new Map(pairs.map(([inboxId, ref]) => [threadKey(inboxId, ref), [inboxId, ref] as const])).values()]
  if (distinct.length === 0) return null
  return { inboxIds: distinct.map(([i]) => i), refs: distinct.map(([, r]) => r) }
}
const pairs = (v: (name: 'inboxIds' | 'refs') => SQL) => sql`unnest(${v('inboxIds')}::uuid[], ${v('refs')}::text[]) as q(inbox_id, ref)`
// Each pair looked up on its index, one at a time: the subquery is LATERAL and fenced (OFFSET 0), so
// no plan can read the tenant's messages or references as a whole and join the pairs to them. As
// plain joins, a plan made while the tables were small (a generic plan, cached for the connection's
// life: messages/ingest/group-commit.ts) read every row of the tenant on each batch, with a seq scan
// and a nested loop or a hash join, slower as the tables grew until their next ANALYZE: the ingest
// bench's batch read went from 1.7 to 8.8 ms over three rounds (bench/README, 2026-12-05 midday).
// Inside the fence, the index is the ingest transaction's (enable_seqscan off: db/scope.ts).
const referredText = textTemplate<'inboxIds' | 'refs'>(
  (v) => sql`select m.inbox_id, m.message_id_header, m.thread_id from ${pairs(v)}
            cross join lateral (select m.inbox_id, m.message_id_header, m.thread_id from ${messages} m
              where m.inbox_id = q.inbox_id and m.message_id_header = q.ref and m.thread_id is not null offset 0) m`,
)
const referringText = textTemplate<'inboxIds' | 'refs'>(
  (v) => sql`select m.inbox_id, m.in_reply_to, m."references", m.thread_id from ${pairs(v)}
            cross join lateral (select r.tenant_id, r.message_id from ${messageRefs} r where r.inbox_id = q.inbox_id and r.ref = q.ref offset 0) r
            join ${messages} m on m.tenant_id = r.tenant_id and m.id = r.message_id
            where m.thread_id is not null`,
)
// The plain joins: on Citus, whose planner pushes down no LATERAL subquery with an OFFSET that refers
// to the outer query, and where every statement is planned with its values (no generic plans:
// db/migrate.ts); and for a send (threadOf), planned with its values on any database. They name the
// tenant, so that Citus runs them on its shard alone (db/scope.ts ownRows).
const referredJoinText = textTemplate<'tenantId' | 'inboxIds' | 'refs'>(
  (v) => sql`select m.inbox_id, m.message_id_header, m.thread_id from ${pairs(v)}
            join ${messages} m on m.tenant_id = ${v('tenantId')}::uuid and m.inbox_id = q.inbox_id and m.message_id_header = q.ref
            where m.thread_id is not null`,
)
const referringJoinText = textTemplate<'tenantId' | 'inboxIds' | 'refs'>(
  (v) => sql`select m.inbox_id, m.in_reply_to, m."references", m.thread_id from ${pairs(v)}
            join ${messageRefs} r on r.tenant_id = ${v('tenantId')}::uuid and r.inbox_id = q.inbox_id and r.ref = q.ref
            join ${messages} m on m.tenant_id = r.tenant_id and m.id = r.message_id
            where m.thread_id is not null`,
)

/** The rows the two lookups returned, as maps. */
export function readThreadLookups(refHits: Record<string, unknown>[], idHits: Record<string, unknown>[]): ThreadLookups {
  const referred = new Map<string, string>()
  const referring = new Map<string, string>()
  for (const h of refHits) {
    const k = threadKey(h.inbox_id as string, h.message_id_header as string)
    if (!referred.has(k)) referred.set(k, h.thread_id as string)
  }
  for (const h of idHits) {
    for (const r of [h.in_reply_to as string | null, ...((h.references as string[] | null) ?? [])]) {
      const k = r ? threadKey(h.inbox_id as string, r) : null
      if (k && !referring.has(k)) referring.set(k, h.thread_id as string)
    }
  }
  return { referred, referring }
}

export interface ThreadPlan {
  /** The thread of each entry, in order (null for an entry without headers: an unparsed message). */
  threadIds: (string | null)[]
  added: Map<string, { inboxId: string; subject: string | null; count: number }>
  grown: Map<string, number>
}

/**
 * The thread of each entry in its inbox, in order: the thread of any message it refers to (stored
 * or earlier in the list), else of a message that refers to it, else a new one.
 */
export function planThreads(entries: (ThreadEntry | null)[], { referred, referring }: ThreadLookups): ThreadPlan {
  const added = new Map<string, { inboxId: string; subject: string | null; count: number }>()
  const grown = new Map<string, number>()
  const threadIds = entries.map((e) => {
    if (!e) return null
    const { inboxId, h } = e
    const refs = refsOf(h)
    let threadId: string | undefined
    for (const r of refs) if (!threadId) threadId = referred.get(threadKey(inboxId, r))
    if (!threadId && h.messageId) threadId = referring.get(threadKey(inboxId, h.messageId))
    if (threadId) {
      const fresh = added.get(threadId)
      if (fresh) fresh.count++
      else grown.set(threadId, (grown.get(threadId) ?? 0) + 1)
    } else {
      threadId = newUuid()
      added.set(threadId, { inboxId, subject: h.subject === null ? null : stripSubjectPrefixes(h.subject) || null, count: 1 })
    }
    // Later entries in the list find this one as if it were stored.
    if (h.messageId && !referred.has(threadKey(inboxId, h.messageId))) referred.set(threadKey(inboxId, h.messageId), threadId)
    for (const r of refs) if (!referring.has(threadKey(inboxId, r))) referring.set(threadKey(inboxId, r), threadId)
    return threadId
  })
  return { threadIds, added, grown }
}

/** The grown threads' counts (one text for any number of threads: db/pipeline.ts textTemplate). */
const growThreads = textTemplate<'tenantId' | 'ids' | 'counts'>(
  (v) =>
    sql`update ${threads} t set message_count = t.message_count + v.n, last_message_at = greatest(t.last_message_at, now())
        from unnest(${v('ids')}::uuid[], ${v('counts')}::int[]) as v(id, n)
        where t.tenant_id = ${v('tenantId')}::uuid and t.id = v.id`,
)

/** New threads, and the grown ones' counts (in id order: the lock order), as statements. */
export function threadWrites(cipher: Cipher, tenantId: string, { added, grown }: ThreadPlan): (SQLWrapper | false)[] {
  const counts = [...grown].sort(([a], [b]) => (a < b ? -1 : 1))
  return [
    added.size > 0 &&
      bulkInsert(
        threads,
        [...added].map(([id, t]) => ({ tenantId, id, inboxId: t.inboxId, subjectEnc: cipher.sealNullable(ctx.threadSubject(id), t.subject), messageCount: t.count })),
      ),
    counts.length > 0 && growThreads({ tenantId, ids: counts.map(([id]) => id), counts: counts.map(([, n]) => n) }),
  ]
}

/**
 * The thread of one new message (a send), placed and written now. Only what it refers to places it:
 * nothing stored can refer to a Message-ID not yet sent, so there is no second lookup. A send's
 * transaction forces no generic plans, and it runs on Citus as well: the plain join.
 */
export async function threadOf(tx: Tx, cipher: Cipher, tenantId: string, entry: ThreadEntry & { h: { messageId: null } }): Promise<string> {
  const lookup = threadLookups(tenantId, [entry], true)
  const [refHits, idHits] = await pipelined(tx, [lookup.referred, lookup.referring])
  const plan = planThreads([entry], readThreadLookups(refHits!, idHits!))
  await pipelined(tx, threadWrites(cipher, tenantId, plan))
  return plan.threadIds[0]!
}
