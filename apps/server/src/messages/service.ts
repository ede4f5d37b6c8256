// Reading mail: wire shapes (decrypting content with the tenant's key), lists with filters,
// threads, raw bytes, attachments, deletion.
import { risksUpTo } from '../policies/service.js'
import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL, or, isNull } from 'drizzle-orm'
import { type AttachmentInfo, type Message, type MessageSummary, type Thread, type Security, type Risk } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import { ownRows, rebindTenant } from '../db/scope.js'
import type { Cipher } from '../crypto/service.js'
import { toPublicId } from '../lib/ids.js'
import { after as afterPos, encodeCursor, microsOf, pageOf, type CursorPosition } from '../lib/cursor.js'
import { newestFirst } from '../db/keyset.js'
import { attachments, messages, rawMessages, threads, type AttachmentRow, type MessageRow, type ThreadRow } from './tables.js'
import { addStoredBytes, utcDay } from '../usage/service.js'
import type { ParsedMessage } from './parser.js'

/** Where each encrypted column's blob belongs: binds ciphertext to its row. */
export const ctx = {
  raw: (rawId: string) => `raw_messages.data:${rawId}`,
  subject: (id: string) => `messages.subject:${id}`,
  text: (id: string) => `messages.text:${id}`,
  html: (id: string) => `messages.html:${id}`,
  headers: (id: string) => `messages.headers:${id}`,
  preview: (id: string) => `messages.preview:${id}`,
  security: (id: string) => `messages.security:${id}`,
  attachment: (id: string) => `attachments.content:${id}`,
  threadSubject: (id: string) => `threads.subject:${id}`,
  event: (seq: number) => `events.data:${seq}`,
}

const PREVIEW_CHARS = 200

export function previewOf(text: string | null, html: string | null, chars = PREVIEW_CHARS): string | null {
  const source =
    text ??
    (html
      ? html
          .replace(/<(style|script)[\s\S]*?<\/\1>/gi, ' ')
          .replace(/<[^>]+>/g, ' ')
          .replace(/&nbsp;/g, ' ')
          .replace(/&amp;/g, '&')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
      : null)
  if (source === null) return null
  return collapsedHead(source, chars)
}

/**
 * The first `chars` characters of `source` with its whitespace runs as single spaces, trimmed:
 * collapsed from a head of the source just long enough, not from all of it (a message's text is
 * thousands of characters, its preview 200). A head's collapsed form begins every longer one's, so
 * once it holds more than `chars` characters, those are the answer.
 */
function collapsedHead(source: string, chars: number): string {
  for (let n = 2 * chars + 64; n < source.length; n *= 4) {
    const head = source.slice(0, n).replace(/\s+/g, ' ').trimStart()
    if (head.length > chars) return head.slice(0, chars)
  }
  return source.replace(/\s+/g, ' ').trim().slice(0, chars)
}

function attachmentToWire(a: Pick<AttachmentRow, 'id' | 'filename' | 'contentType' | 'size' | 'contentId' | 'inline'>): AttachmentInfo {
  return { id: toPublicId('attachment', a.id), filename: a.filename, contentType: a.contentType, size: a.size, contentId: a.contentId, inline: a.inline }
}

export type AttachmentMeta = Pick<AttachmentRow, 'id' | 'messageId' | 'filename' | 'contentType' | 'size' | 'contentId' | 'inline'>

export function summaryToWire(m: MessageRow, atts: AttachmentMeta[], cipher: Cipher): MessageSummary {
  return Object.assign(summaryFields(m, atts, cipher), { preview: cipher.openNullable(ctx.preview(m.id), m.previewEnc) })
}

/** What a message's summary and the message itself both show (the summary adds its preview). */
function summaryFields(m: MessageRow, atts: AttachmentMeta[], cipher: Cipher): Omit<MessageSummary, 'preview'> {
  const a = m.addresses
  return {
    id: toPublicId('message', m.id),
    inboxId: toPublicId('inbox', m.inboxId),
    threadId: m.threadId ? toPublicId('thread', m.threadId) : null,
    direction: m.direction,
    status: m.status as MessageSummary['status'],
    from: a?.from ?? (m.fromAddress ? { address: m.fromAddress, name: null } : null),
    to: a?.to ?? [],
    cc: a?.cc ?? [],
    subject: cipher.openNullable(ctx.subject(m.id), m.subjectEnc),
    date: m.date?.toISOString() ?? null,
    messageId: m.messageIdHeader,
    attachments: atts.map(attachmentToWire),
    size: m.size,
    parseStatus: m.parseStatus,
    security: securityOf(m, cipher),
    seenAt: m.seenAt?.toISOString() ?? null,
    labels: m.labels ?? [],
    receivedAt: m.receivedAt.toISOString(),
  }
}

/** The message's risk verdict (sealed in its row), with the quarantine as it stands now. */
export function securityOf(m: Pick<MessageRow, 'id' | 'securityEnc' | 'quarantined'>, cipher: Cipher): Security | null {
  const json = cipher.openNullable(ctx.security(m.id), m.securityEnc)
  return json ? Object.assign(JSON.parse(json) as Security, { quarantined: m.quarantined }) : null
}

export function messageToWire(m: MessageRow, atts: AttachmentMeta[], cipher: Cipher): Message {
  const headersJson = cipher.openNullable(ctx.headers(m.id), m.headersEnc)
  // Added to the summary's own object (as summaryToWire adds its preview), not spread into a new one:
  // V8 (Node 20) makes a new hidden class for every property that follows a spread, at every call.
  return Object.assign(summaryFields(m, atts, cipher), {
    replyTo: m.addresses?.replyTo ?? [],
    inReplyTo: m.inReplyTo,
    references: m.references,
    text: cipher.openNullable(ctx.text(m.id), m.textEnc),
    html: cipher.openNullable(ctx.html(m.id), m.htmlEnc),
    headers: headersJson ? (JSON.parse(headersJson) as Message['headers']) : [],
    authentication: (m.auth as Message['authentication']) ?? null,
    parseError: m.parseError,
  })
}

const attachmentMeta = {
  id: attachments.id,
  messageId: attachments.messageId,
  filename: attachments.filename,
  contentType: attachments.contentType,
  size: attachments.size,
  contentId: attachments.contentId,
  inline: attachments.inline,
}

/**
 * The attachments of the messages (of the transaction's tenant), by message. The read names the
 * tenant: on Citus it goes to the tenant's shard, not to every shard.
 */
export async function attachmentsOf(tx: Tx, messageIds: string[]): Promise<Map<string, AttachmentMeta[]>> {
  const out = new Map<string, AttachmentMeta[]>()
  if (messageIds.length === 0) return out
  const rows = await tx
    .select(attachmentMeta)
    .from(attachments)
    .where(and(ownRows(tx, attachments.tenantId), inArray(attachments.messageId, messageIds)))
    .orderBy(asc(attachments.position))
  for (const r of rows) {
    const list = out.get(r.messageId) ?? []
    list.push(r)
    out.set(r.messageId, list)
  }
  return out
}

export async function getMessage(tx: Tx, inboxId: string, id: string): Promise<MessageRow | null> {
  const [row] = await tx.select().from(messages).where(and(ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId), eq(messages.id, id)))
  return row ?? null
}

export interface ListFilters {
  from?: string | undefined
  to?: string | undefined
  subject?: string | undefined
  since?: string | undefined
  until?: string | undefined
  hasAttachments?: boolean | undefined
  threadId?: string | null | undefined
  direction?: 'inbound' | 'outbound' | undefined
  includeHidden?: boolean | undefined
  /** true: only quarantined mail; otherwise quarantined mail is left out. */
  quarantined?: boolean | undefined
  maxRisk?: Risk | undefined
  label?: string | undefined
  unread?: boolean | undefined
}

/** Received mail not yet marked read (sent mail is never unread); the partial index's predicate. */
export const unreadSql = sql`(${messages.seenAt} is null and ${messages.direction} = 'inbound')`

/** Rows scanned at most per list request for the filters no index serves (to, subject). */
const MAX_SCAN = 2000
/** Rows read per round trip while scanning for those filters. */
const SCAN_WINDOW = 500

/**
 * Newest first, keyset-paginated on (received_at, id). Filters with an index to serve them run in
 * SQL (inbox, from, since/until, thread, and the cheap flags). `to` (an array, which no index can
 * serve under RLS) and `subject` (encrypted) scan windows of the inbox, at most `maxScan` rows per
 * request: Postgres checks `to` on each window, this function the subject. A page may then come
 * back short, with a cursor to scan on from. The rows picked are read whole at the end, at once.
 */
export async function listMessages(
  tx: Tx,
  cipher: Cipher,
  inboxId: string,
  f: ListFilters,
  limit: number,
  after: CursorPosition | null,
  opts: { maxScan?: number } = {},
) {
  const where: (SQL | undefined)[] = [ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId)]
  if (f.from) where.push(eq(messages.fromAddress, f.from.toLowerCase()))
  if (f.since) where.push(gte(messages.receivedAt, new Date(f.since)))
  // receivedAt is shown to the millisecond but stored to the microsecond: an `until` copied from the
  // API must still include that message, so it covers its whole millisecond.
  if (f.until) where.push(lt(messages.receivedAt, new Date(new Date(f.until).getTime() + 1)))
  if (f.hasAttachments !== undefined) where.push(eq(messages.hasAttachments, f.hasAttachments))
  if (f.threadId !== undefined) where.push(f.threadId === null ? sql`false` : eq(messages.threadId, f.threadId))
  if (f.direction) where.push(eq(messages.direction, f.direction))
  if (!f.includeHidden) where.push(eq(messages.hidden, false))
  where.push(eq(messages.quarantined, f.quarantined === true))
  // Mail without a verdict (sent mail, mail that could not be parsed) passes a risk filter.
  if (f.maxRisk) where.push(or(isNull(messages.risk), inArray(messages.risk, risksUpTo(f.maxRisk))))
  if (f.label) where.push(sql`${messages.labels} @> array[${f.label}]::text[]`)
  if (f.unread === true) where.push(unreadSql)
  if (f.unread === false) where.push(sql`not ${unreadSql}`)
  const to = f.to?.toLowerCase()
  const needle = f.subject?.toLowerCase()

  if (!to && !needle) {
    const batch = await tx
      .select({ row: messages, at: microsOf(messages.receivedAt) })
      .from(messages)
      .where(and(...where, afterPos(messages.receivedAt, messages.id, after)))
      .orderBy(desc(messages.receivedAt), desc(messages.id))
      .limit(limit + 1)
    const page = pageOf(
      batch.map((b) => ({ row: b.row, at: b.at, id: b.row.id })),
      limit,
    )
    const rows = page.items.map((p) => p.row)
    return { rows, atts: await attachmentsOf(tx, rows.map((m) => m.id)), nextCursor: page.nextCursor }
  }

  const maxScan = opts.maxScan ?? MAX_SCAN
  const picked: { at: string; id: string }[] = []
  let position = after
  let scanned = 0
  let more = true
  while (more && picked.length <= limit && scanned < maxScan) {
    const size = Math.min(SCAN_WINDOW, maxScan - scanned)
    // One window, newest first: Postgres checks `to` on it and sends back the rows that pass, plus
    // the window's last row (where the next window starts) and the window's size.
    const window = await rawRows<{ id: string; at: string; subject_enc: Buffer | null; hit: boolean; last: boolean; n: string | number }>(
      tx,
      sql`select id, at, subject_enc, hit, last, n from (
            select w.id, w.received_at, ${microsOf(sql`w.received_at`)} as at, w.subject_enc,
                   ${to ? sql`${to} = any(w.to_addresses)` : sql`true`} as hit,
                   row_number() over (order by w.received_at desc, w.id desc) = count(*) over () as last,
                   count(*) over () as n
            from (select ${messages.id}, ${messages.receivedAt}, ${messages.toAddresses}, ${messages.subjectEnc} from ${messages}
                  where ${and(...where, afterPos(messages.receivedAt, messages.id, position))}
                  order by ${messages.receivedAt} desc, ${messages.id} desc limit ${size}) w
          ) x where hit or last
          order by received_at desc, id desc`,
    )
    const n = Number(window[0]?.n ?? 0)
    scanned += n
    more = n === size
    for (const w of window) {
      position = { at: w.at, id: w.id }
      if (!w.hit) continue
      if (needle && !(cipher.openNullable(ctx.subject(w.id), w.subject_enc) ?? '').toLowerCase().includes(needle)) continue
      picked.push({ at: w.at, id: w.id })
      if (picked.length > limit) break
    }
  }
  const page = pageOf(picked, limit)
  // Bounded work per request: with the scan cut short, hand back what was found and a cursor to
  // scan on from (the last row read).
  const nextCursor = page.nextCursor ?? (more && position ? encodeCursor(position) : null)
  const byId = new Map<string, MessageRow>()
  if (page.items.length > 0) {
    const full = await tx.select().from(messages).where(and(ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId), inArray(messages.id, page.items.map((p) => p.id))))
    for (const m of full) byId.set(m.id, m)
  }
  const rows = page.items.flatMap((p) => byId.get(p.id) ?? [])
  return { rows, atts: await attachmentsOf(tx, rows.map((m) => m.id)), nextCursor }
}

export async function getRaw(tx: Tx, cipher: Cipher, rawId: string): Promise<Buffer | null> {
  const [row] = await tx.select({ dataEnc: rawMessages.dataEnc }).from(rawMessages).where(and(ownRows(tx, rawMessages.tenantId), eq(rawMessages.id, rawId)))
  return row ? cipher.open(ctx.raw(rawId), row.dataEnc) : null
}

/** An attachment row with its bytes as stored, or (not stored) the raw message they are decoded from. */
export interface AttachmentSource {
  row: AttachmentRow
  stored: Buffer | null
  raw: Buffer | null
}

export async function getAttachment(tx: Tx, cipher: Cipher, m: Pick<MessageRow, 'id' | 'rawId'>, id: string): Promise<AttachmentSource | null> {
  const [row] = await tx.select().from(attachments).where(and(ownRows(tx, attachments.tenantId), eq(attachments.messageId, m.id), eq(attachments.id, id)))
  if (!row) return null
  return attachmentSource(tx, cipher, row, m.rawId)
}

async function attachmentSource(tx: Tx, cipher: Cipher, row: AttachmentRow, rawId: string): Promise<AttachmentSource> {
  if (row.contentEnc) return { row, stored: cipher.open(ctx.attachment(row.id), row.contentEnc), raw: null }
  return { row, stored: null, raw: await getRaw(tx, cipher, rawId) }
}

/** The raw message no longer yields the attachment its row describes (the parser changed, or the data did). */
export class AttachmentUnavailableError extends Error {
  constructor(readonly attachmentId: string) {
    super('the attachment could not be decoded again from the stored message')
  }
}

/** The bytes of the attachment a row describes, from its message's parse (checked, or an error). */
export function decodedAttachment(parsed: ParsedMessage | null, row: AttachmentRow): Buffer {
  const a = parsed?.attachments[row.position]
  if (!a?.content || a.size !== row.size || (row.checksum !== null && a.checksum !== row.checksum)) {
    throw new AttachmentUnavailableError(row.id)
  }
  return Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength)
}

/** Deletes a message (attachments by cascade) and its raw bytes once no other copy uses them. */
/** Deletes a message (and its raw bytes once no copy uses them); `now` dates the storage change. */
export async function deleteMessage(tx: Tx, m: MessageRow, now: Date): Promise<void> {
  await tx.delete(messages).where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id)))
  // Copies in other inboxes of the tenant are invisible to an inbox-scoped request, and so is the
  // raw row once its last visible copy is gone: decide about the raw in the tenant's scope.
  const [scope] = await rawRows<{ inbox_id: string }>(tx, sql`select current_setting('app.inbox_id', true) as inbox_id`)
  if (scope?.inbox_id) await rebindTenant(tx, { tenantId: m.tenantId })
  const [other] = await tx.select({ id: messages.id }).from(messages).where(and(eq(messages.tenantId, m.tenantId), eq(messages.rawId, m.rawId))).limit(1)
  if (!other) await tx.delete(rawMessages).where(and(eq(rawMessages.tenantId, m.tenantId), eq(rawMessages.id, m.rawId)))
  // The tenant stores the raw bytes once, however many of its inboxes got them.
  await addStoredBytes(tx, m.tenantId, [{ inboxId: m.inboxId, bytes: -m.size }], other ? 0 : -m.size, utcDay(now), null)
  if (scope?.inbox_id) await rebindTenant(tx, { tenantId: m.tenantId, inboxId: scope.inbox_id })
  if (m.threadId) {
    await tx
      .update(threads)
      .set({ messageCount: sql`greatest(${threads.messageCount} - 1, 0)` })
      .where(and(eq(threads.tenantId, m.tenantId), eq(threads.id, m.threadId)))
  }
}

export function threadToWire(t: ThreadRow, cipher: Cipher, unread: boolean): Thread {
  return {
    id: toPublicId('thread', t.id),
    inboxId: toPublicId('inbox', t.inboxId),
    subject: cipher.openNullable(ctx.threadSubject(t.id), t.subjectEnc),
    messageCount: t.messageCount,
    unread,
    lastMessageAt: t.lastMessageAt.toISOString(),
    createdAt: t.createdAt.toISOString(),
  }
}

export async function listThreads(tx: Tx, inboxId: string, limit: number, after: CursorPosition | null) {
  return newestFirst(tx, threads, { limit, after, by: threads.lastMessageAt, where: and(eq(threads.inboxId, inboxId), gt(threads.messageCount, 0)) })
}

/**
 * Of these threads (all of one tenant), those holding unread mail the agent sees (one indexed probe
 * per thread). The sub-query names its tenant: Citus then plans the whole statement on that
 * tenant's shard (a correlated sub-query over a list that is no table it refuses otherwise).
 */
export async function unreadThreads(tx: Tx, threads: readonly { id: string; tenantId: string }[]): Promise<Set<string>> {
  if (threads.length === 0) return new Set()
  const tenantId = threads[0]!.tenantId
  if (threads.some((t) => t.tenantId !== tenantId)) throw new Error('unreadThreads: threads of one tenant only')
  const rows = await rawRows<{ thread_id: string }>(
    tx,
    sql`select t.id as thread_id from unnest(${`{${threads.map((t) => t.id).join(',')}}`}::uuid[]) as t(id)
        where exists (select 1 from ${messages} m where m.tenant_id = ${tenantId} and m.thread_id = t.id and m.seen_at is null
                      and m.direction = 'inbound' and not m.quarantined and not m.hidden)`,
  )
  return new Set(rows.map((r) => r.thread_id))
}

export async function getThread(tx: Tx, inboxId: string, id: string) {
  const [t] = await tx.select().from(threads).where(and(ownRows(tx, threads.tenantId), eq(threads.inboxId, inboxId), eq(threads.id, id)))
  if (!t) return null
  const rows = await tx.select().from(messages).where(and(eq(messages.tenantId, t.tenantId), eq(messages.threadId, id))).orderBy(asc(messages.receivedAt), asc(messages.id)).limit(500)
  return { thread: t, messages: rows, atts: await attachmentsOf(tx, rows.map((m) => m.id)) }
}
