// Search inside an inbox over the blind index (crypto/blind-index.ts): the words of a message are
// hashed with the tenant's key when it is stored (received or sent), a query's words the same way,
// and Postgres finds the messages holding every hash (GIN, through mailroom_search_messages: see
// migration 0023 for why a function). Whole words only, no substrings: the index holds hashes of
// whole normalised words and nothing in between.
import { and, eq, inArray, sql } from 'drizzle-orm'
import { rawRows, type Tx } from '../db/client.js'
import { ownRows } from '../db/scope.js'
import type { Cipher } from '../crypto/service.js'
import { addressWords, wordsOf } from '../crypto/blind-index.js'
import { encodeCursor, type CursorPosition } from '../lib/cursor.js'
import { ServiceError } from '../errors.js'
import { messages, messageSearch, type MessageRow, type StoredAddress } from './tables.js'
import { attachmentsOf, previewOf } from './service.js'

/** What of a message is searchable. */
export interface Searchable {
  subject: string | null
  text: string | null
  html: string | null
  from: StoredAddress | null
  to: StoredAddress[]
  cc: StoredAddress[]
  replyTo?: StoredAddress[]
  /** Their names are searchable (a parsed message's or a draft's attachments, as they are). */
  attachments?: { filename?: string | null }[]
}

/** The words of a message, most telling first (subject, people, attachment names, then the body). */
export function* searchableWords(m: Searchable): Generator<string> {
  yield* wordsOf(m.subject)
  for (const a of [m.from, ...m.to, ...m.cc, ...(m.replyTo ?? [])]) {
    if (!a) continue
    yield* addressWords(a.address)
    yield* wordsOf(a.name)
  }
  for (const a of m.attachments ?? []) yield* wordsOf(a.filename)
  // Without a text part, the words of the html (tags and entities dropped as for the preview).
  yield* wordsOf(m.text ?? (m.html ? previewOf(null, m.html.slice(0, 1024 * 1024), Number.MAX_SAFE_INTEGER) : null))
}

/** The blind-index row of a message (null when it has no words). */
export function searchRow(cipher: Cipher, m: Pick<MessageRow, 'tenantId' | 'id' | 'inboxId'>, s: Searchable) {
  const terms = cipher.blindTerms(m.inboxId, searchableWords(s))
  return terms.length > 0 ? { tenantId: m.tenantId, messageId: m.id, inboxId: m.inboxId, terms } : null
}

export type SearchRow = NonNullable<ReturnType<typeof searchRow>>

export interface SearchFilters {
  from?: string | undefined
  to?: string | undefined
  since?: string | undefined
  until?: string | undefined
  label?: string | undefined
  unread?: boolean | undefined
}

/** Words a query may hold at most. */
export const MAX_QUERY_WORDS = 16

/** The query's words, as the index would hold them (an error when it has none). */
export function queryWords(q: string): string[] {
  const words = [...new Set(wordsOf(q, 2000))]
  if (words.length === 0) throw new ServiceError('validation_error', 'q: no word to search for (letters or digits)', [{ path: 'query.q', message: 'no searchable word' }])
  if (words.length > MAX_QUERY_WORDS) throw new ServiceError('validation_error', `q: at most ${MAX_QUERY_WORDS} words`, [{ path: 'query.q', message: 'too many words' }])
  return words
}

/**
 * Messages of the inbox holding every word of `q`, newest first, keyset-paginated on
 * (received_at, id) like lists. Quarantined and hidden mail never matches.
 */
export async function searchMessages(tx: Tx, cipher: Cipher, inboxId: string, q: string, f: SearchFilters, limit: number, after: CursorPosition | null) {
  const terms = cipher.blindTerms(inboxId, queryWords(q))
  // An `until` copied from the API (milliseconds) covers its whole millisecond, as in lists.
  const until = f.until ? new Date(new Date(f.until).getTime() + 1).toISOString() : null
  const afterAt = after ? sql`(timestamptz 'epoch' + ${after.at}::bigint * interval '1 microsecond')` : sql`null::timestamptz`
  const hits = await rawRows<{ id: string; at: string }>(
    tx,
    sql`select id, (extract(epoch from received_at) * 1000000)::bigint::text as at
        from mailroom_search_messages(${inboxId}::uuid, ${`{${terms.join(',')}}`}::bigint[], ${f.from?.toLowerCase() ?? null}::text,
          ${f.to?.toLowerCase() ?? null}::text, ${f.since ?? null}::timestamptz, ${until}::timestamptz, ${f.label ?? null}::text,
          ${f.unread ?? null}::boolean, ${afterAt}, ${after?.id ?? null}::uuid, ${limit + 1}::int)`,
  )
  const more = hits.length > limit
  const page = hits.slice(0, limit)
  const last = page[page.length - 1]
  // The rows themselves are read as the caller, under row-level security.
  const byId = new Map<string, MessageRow>()
  if (page.length > 0) {
    const rows = await tx.select().from(messages).where(and(ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId), inArray(messages.id, page.map((h) => h.id))))
    for (const r of rows) byId.set(r.id, r)
  }
  const rows = page.flatMap((h) => byId.get(h.id) ?? [])
  return { rows, atts: await attachmentsOf(tx, rows.map((m) => m.id)), nextCursor: more && last ? encodeCursor({ at: last.at, id: last.id }) : null }
}

export { messageSearch }
