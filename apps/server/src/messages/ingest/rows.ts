// The rows a received message becomes: its content sealed with the tenant's key (each value bound to
// its row and column), its attachment rows (metadata; the bytes stay in the raw copy unless the
// message was large), and their insertion in one round trip.
import type { SQLWrapper } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { chained, pipelined } from '../../db/pipeline.js'
import { bulkInsert } from '../../db/bulk.js'
import type { Cipher } from '../../crypto/service.js'
import { newUuid } from '../../lib/ids.js'
import { ctx, previewOf } from '../service.js'
import { attachments, messages, messageSearch, type MessageRow } from '../tables.js'
import { searchRow } from '../search.js'
import type { Analysis, AttachmentInsert, Visible } from './types.js'

/** A message row as inserted before parsing (the columns' defaults, in memory). */
export function emptyRow(base: Pick<MessageRow, 'tenantId' | 'id' | 'inboxId' | 'rawId' | 'direction' | 'status' | 'size' | 'toAddresses' | 'hidden'>, now: Date): MessageRow {
  // Every column written out, base's too: an object spread followed by new properties makes V8 (Node
  // 20) build a fresh hidden class for each one at every call (about 60 µs and 36 KB a row here,
  // against well under a microsecond for this literal; bench/README, 2026-12-05 (late night)).
  return {
    tenantId: base.tenantId,
    id: base.id,
    inboxId: base.inboxId,
    rawId: base.rawId,
    direction: base.direction,
    status: base.status,
    size: base.size,
    toAddresses: base.toAddresses,
    hidden: base.hidden,
    threadId: null,
    seq: null,
    parseStatus: 'pending',
    parseError: null,
    fromAddress: null,
    addresses: null,
    messageIdHeader: null,
    inReplyTo: null,
    references: [],
    subjectEnc: null,
    textEnc: null,
    htmlEnc: null,
    headersEnc: null,
    previewEnc: null,
    date: null,
    hasAttachments: false,
    auth: null,
    risk: null,
    injectionScore: null,
    securityEnc: null,
    quarantined: false,
    quarantinedAt: null,
    releasedAt: null,
    seenAt: null,
    labels: [],
    receivedAt: now,
    updatedAt: now,
  }
}

/** The content of one message row as it will be stored (encrypted), and its attachment rows. */
export function prepare(cipher: Cipher, m: MessageRow, a: Analysis): Visible {
  const p = a.parsed
  const auth = a.auth ? { spf: a.auth.spf, dkim: a.auth.dkim, dmarc: a.auth.dmarc } : null
  if (!p) return { row: { ...m, parseStatus: 'failed', parseError: a.parseError ?? 'unparseable', auth }, analysis: a, attachments: [], search: null }
  const atts = p.attachments.map((x, position) => {
    const id = newUuid()
    return {
      tenantId: m.tenantId,
      id,
      messageId: m.id,
      inboxId: m.inboxId,
      filename: x.filename?.slice(0, 500) ?? null,
      contentType: x.contentType.slice(0, 200),
      size: x.size,
      contentId: x.contentId?.slice(0, 500) ?? null,
      inline: x.inline,
      contentEnc: x.content ? cipher.seal(ctx.attachment(id), Buffer.from(x.content.buffer, x.content.byteOffset, x.content.byteLength)) : null,
      checksum: x.checksum || null,
      position,
    }
  })
  const row: MessageRow = {
    ...m,
    parseStatus: 'parsed',
    parseError: null,
    fromAddress: p.from?.address ?? null,
    toAddresses: [...new Set([...m.toAddresses, ...p.to.map((x) => x.address), ...p.cc.map((x) => x.address)])],
    addresses: { from: p.from, to: p.to, cc: p.cc, replyTo: p.replyTo },
    messageIdHeader: p.messageId,
    inReplyTo: p.inReplyTo,
    references: p.references,
    subjectEnc: cipher.sealNullable(ctx.subject(m.id), p.subject),
    textEnc: cipher.sealNullable(ctx.text(m.id), p.text),
    htmlEnc: cipher.sealNullable(ctx.html(m.id), p.html),
    headersEnc: cipher.seal(ctx.headers(m.id), JSON.stringify(p.headers)),
    previewEnc: cipher.sealNullable(ctx.preview(m.id), previewOf(p.text, p.html)),
    date: p.date ? new Date(p.date) : null,
    hasAttachments: atts.length > 0,
    auth,
  }
  const search = searchRow(cipher, m, p)
  return { row, analysis: a, attachments: atts, search }
}

/**
 * Inserts parsed rows with their attachments, search terms and (when given) the raw copies they
 * refer to, in one statement; received_at is each row's own insertion time, distinct within a batch
 * and as close to the commit as the transaction allows.
 */
export async function insertVisible(tx: Tx, visible: Visible[], citus: boolean, raws: SQLWrapper | null = null): Promise<MessageRow[]> {
  const write = visibleInsert(visible, citus, raws)
  return write.rows(await pipelined(tx, write.statements))
}

/**
 * The statements of insertVisible, and what makes the stored rows of their answers. `seqBack`: the
 * seq of each shown row is not known yet and is taken in the same pipeline by the inbox counter's
 * UPDATE (sequence.ts) that runs before it: each row's seq is then its inbox's counter as that
 * UPDATE left it, less `seqBack[i]` (the rows of its inbox after it in this batch); null for rows
 * without one. The stored seq must equal what the caller assigns in memory, or the transaction fails.
 */
export function visibleInsert(
  visible: Visible[],
  citus: boolean,
  raws: SQLWrapper | null,
  seqBack?: (number | null)[],
): { statements: SQLWrapper[]; rows(results: Record<string, unknown>[][]): MessageRow[] } {
  const atts = visible.flatMap((v) => v.attachments)
  const search = visible.flatMap((v) => (v.search ? [v.search] : []))
  // One statement (the raw copies, attachments and search terms as WITH queries of the messages'
  // INSERT, whose rows it returns); on Citus one each, in this order.
  const write = chained(
    [
      raws,
      bulkInsert(
        messages,
        visible.map((v) => v.row),
        {
          extra: [
            { name: 'received_at', expr: 'clock_timestamp()' },
            { name: 'updated_at', expr: 'clock_timestamp()' },
            ...(seqBack ? [{ name: 'seq', expr: '(select i.last_seq from inboxes i where i.tenant_id = x.tenant_id and i.id = x.inbox_id) - x.seq_back' }] : []),
          ],
          ...(seqBack ? { inputs: [{ name: 'seq_back', type: 'bigint', of: (i: number) => seqBack[i] ?? null }] } : {}),
          // Immutable (Citus allows nothing else in a multi-row INSERT's RETURNING): the same instant.
          returning: "id, seq, (extract(epoch from received_at at time zone 'UTC') * 1000)::float8 as ms",
        },
      ),
      atts.length > 0 && bulkInsert(attachments, atts),
      search.length > 0 && bulkInsert(messageSearch, search),
    ],
    1,
    citus,
  )
  return {
    statements: write.statements,
    rows(results) {
      const stored = new Map(write.rowsOf(results).map((t) => [t.id as string, t]))
      return visible.map(({ row }) => {
        const t = stored.get(row.id)!
        const seq = t.seq == null ? null : Number(t.seq)
        if (seq !== row.seq) throw new Error(`message ${row.id}: stored with seq ${seq}, numbered ${row.seq}`)
        const at = new Date(Number(t.ms))
        return { ...row, receivedAt: at, updatedAt: at }
      })
    },
  }
}

/** An attachment row as the message summary shows it. */
export const attachmentMeta = (a: AttachmentInsert) => ({
  id: a.id,
  messageId: a.messageId,
  filename: a.filename ?? null,
  contentType: a.contentType,
  size: a.size,
  contentId: a.contentId ?? null,
  inline: a.inline ?? false,
})
