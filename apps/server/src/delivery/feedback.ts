// Mail that comes back about mail we sent: delivery status notifications (RFC 3464,
// multipart/report; report-type=delivery-status) and abuse complaints (ARF, RFC 5965,
// report-type=feedback-report) arriving at a tenant's inbox. Matched to the original outbound
// message by the Message-ID in the report's copy of it (message/rfc822 or text/rfc822-headers),
// then: a failed 5.x.x recipient bounces that delivery (suppressed, counted, `message.bounced`); a
// complaint is recorded (suppressed, counted, may pause the tenant). The report parts are read from
// the raw MIME here: mailparser folds message/delivery-status and inline message/rfc822 parts into
// the text body rather than giving them as attachments. Anything unexpected: the report is stored
// like any message and not acted on.
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { EventType } from '@mailroom/contract'
import type { Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import type { Logger } from '../lib/log.js'
import { toPublicId } from '../lib/ids.js'
import { appendEvent } from '../events/service.js'
import { messages, type MessageRow } from '../messages/tables.js'
import type { ParsedMessage } from '../messages/parser.js'
import { outbox, type OutboxRow } from './tables.js'
import { aggregateStatus, notifyTenant } from './status.js'
import { judge, recordComplaint, type ReputationOptions } from './reputation.js'
import { suppress } from '../suppressions/service.js'

type Fields = Map<string, string>

export interface DsnRecipient {
  originalRecipient: string | null
  finalRecipient: string | null
  action: string
  status: string
  diagnostic: string | null
}

export type Report =
  | { kind: 'dsn'; originalMessageId: string | null; originalTo: string[]; recipients: DsnRecipient[] }
  | { kind: 'complaint'; feedbackType: string; originalMessageId: string | null; originalTo: string[]; originalRcptTo: string | null }

interface Entity {
  headers: Fields
  body: string
}

const MAX_REPORT_BYTES = 2 * 1024 * 1024

/** Unfolded header fields of a block, names lower-cased, first occurrence wins. */
function fieldsOf(block: string): Fields {
  const out: Fields = new Map()
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ')
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i).trim().toLowerCase()
    if (!out.has(name)) out.set(name, line.slice(i + 1).trim())
  }
  return out
}

function entityOf(text: string): Entity {
  const m = /\r?\n\r?\n/.exec(text)
  if (!m) return { headers: fieldsOf(text), body: '' }
  return { headers: fieldsOf(text.slice(0, m.index)), body: text.slice(m.index + m[0].length) }
}

function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = (value ?? 'text/plain').split(';')
  const params: Record<string, string> = {}
  for (const m of rest.join(';').matchAll(/([\w.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]+))/g)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? ''
  return { type: type.trim().toLowerCase(), params }
}

function decode(e: Entity): string {
  const cte = (e.headers.get('content-transfer-encoding') ?? '').toLowerCase()
  if (cte === 'base64') return Buffer.from(e.body.replace(/\s+/g, ''), 'base64').toString('latin1')
  if (cte === 'quoted-printable') return e.body.replace(/=\r?\n/g, '').replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
  return e.body
}

function partsOf(body: string, boundary: string): Entity[] {
  const parts: string[] = []
  let current: string[] | null = null
  for (const line of body.split(/\r?\n/)) {
    const t = line.trimEnd()
    if (t === `--${boundary}--`) break
    if (t === `--${boundary}`) {
      if (current) parts.push(current.join('\r\n'))
      current = []
      continue
    }
    current?.push(line)
  }
  if (current) parts.push(current.join('\r\n'))
  return parts.map(entityOf)
}

const messageIdIn = (v: string | undefined) => v?.match(/<[^<>\s]+>/)?.[0] ?? null

/** `rfc822; a@b.example` / `<a@b.example>` -> `a@b.example` */
function addressIn(v: string | undefined): string | null {
  if (!v) return null
  const a = v.slice(v.indexOf(';') + 1).trim().replace(/^<|>$/g, '').trim().toLowerCase()
  return /^[^\s@<>]+@[^\s@<>]+$/.test(a) ? a : null
}

const addressesIn = (v: string | undefined) => [...(v ?? '').toLowerCase().matchAll(/[^\s<>,;:"()]+@[^\s<>,;:"()]+/g)].map((m) => m[0])

/** The report carried by a multipart/report message, or null when it is none (or not one we read). */
export function parseReport(raw: Buffer): Report | null {
  if (raw.length > MAX_REPORT_BYTES) return null
  const top = entityOf(raw.toString('latin1'))
  const ct = contentType(top.headers.get('content-type'))
  if (ct.type !== 'multipart/report' || !ct.params.boundary) return null
  const reportType = (ct.params['report-type'] ?? '').toLowerCase()
  const parts = partsOf(top.body, ct.params.boundary).map((p) => ({ ...p, type: contentType(p.headers.get('content-type')).type }))
  const original = parts.find((p) => ['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers'].includes(p.type))
  const originalHeaders = original ? entityOf(decode(original)).headers : new Map<string, string>()
  const originalTo = [...addressesIn(originalHeaders.get('to')), ...addressesIn(originalHeaders.get('cc'))]

  if (reportType === 'delivery-status') {
    const part = parts.find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status')
    if (!part) return null
    const blocks = decode(part)
      .split(/\r?\n[ \t]*\r?\n/)
      .map((b) => b.trim())
      .filter(Boolean)
      .map(fieldsOf)
    const perMessage = blocks[0] ?? new Map<string, string>()
    const recipients = blocks
      .slice(1)
      .filter((f) => f.has('action') || f.has('final-recipient'))
      .map((f) => ({
        originalRecipient: addressIn(f.get('original-recipient')),
        finalRecipient: addressIn(f.get('final-recipient')),
        action: (f.get('action') ?? '').toLowerCase().split(/\s/)[0] ?? '',
        status: (f.get('status') ?? '').split(/\s/)[0] ?? '',
        diagnostic: f.get('diagnostic-code') ?? null,
      }))
    const originalMessageId =
      messageIdIn(originalHeaders.get('message-id')) ?? messageIdIn(perMessage.get('original-message-id') ?? perMessage.get('x-original-message-id'))
    return { kind: 'dsn', originalMessageId, originalTo, recipients }
  }
  if (reportType === 'feedback-report') {
    const part = parts.find((p) => p.type === 'message/feedback-report')
    if (!part) return null
    const f = fieldsOf(decode(part))
    return {
      kind: 'complaint',
      feedbackType: (f.get('feedback-type') ?? '').toLowerCase(),
      originalMessageId: messageIdIn(originalHeaders.get('message-id')) ?? messageIdIn(f.get('original-message-id')),
      originalTo,
      originalRcptTo: addressIn(f.get('original-rcpt-to')),
    }
  }
  return null
}

/** The external deliveries of the outbound message with this Message-ID (this inbox's first). */
async function deliveriesOfOriginal(tx: Tx, tenantId: string, inboxId: string, messageId: string): Promise<OutboxRow[]> {
  const originals = await tx
    .select({ id: messages.id, inboxId: messages.inboxId })
    .from(messages)
    .where(and(eq(messages.tenantId, tenantId), eq(messages.direction, 'outbound'), eq(messages.messageIdHeader, messageId)))
  if (!originals.length) return []
  const mine = originals.filter((m) => m.inboxId === inboxId)
  const ids = (mine.length ? mine : originals).map((m) => m.id)
  return tx
    .select()
    .from(outbox)
    .where(and(eq(outbox.tenantId, tenantId), inArray(outbox.messageId, ids), eq(outbox.route, 'external')))
}

/** The delivery a report names: by one of the candidate addresses, else the only one there is. */
function pick(rows: OutboxRow[], candidates: (string | null)[]): OutboxRow | null {
  for (const c of candidates) {
    const hit = c ? rows.find((r) => r.recipient.toLowerCase() === c) : undefined
    if (hit) return hit
  }
  return rows.length === 1 ? rows[0]! : null
}

async function bounceAsync(tx: Tx, cipher: Cipher, tenantId: string, row: OutboxRow, detail: string, reputation: ReputationOptions) {
  // Serialise with the delivery workers on the message row, as they do.
  await tx.select({ id: messages.id }).from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.id, row.messageId))).for('update')
  const moved = await tx
    .update(outbox)
    .set({ status: 'bounced', lastError: detail.slice(0, 1000), updatedAt: sql`now()` })
    .where(and(eq(outbox.tenantId, tenantId), eq(outbox.id, row.id), eq(outbox.status, 'sent')))
    .returning({ id: outbox.id })
  if (!moved.length) return false
  await suppress(tx, tenantId, row.recipient, 'hard_bounce', detail)
  const statuses = (await tx.select({ status: outbox.status }).from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.messageId, row.messageId)))).map((r) => r.status)
  const status = aggregateStatus(statuses)
  await tx.update(messages).set({ status, updatedAt: sql`now()` }).where(and(eq(messages.tenantId, tenantId), eq(messages.id, row.messageId)))
  await appendEvent(tx, cipher, tenantId, 'message.bounced' as EventType, row.inboxId, {
    message: { id: toPublicId('message', row.messageId), inboxId: toPublicId('inbox', row.inboxId), status },
    recipient: row.recipient,
    route: 'external',
    attempts: row.attempts,
    detail,
    async: true,
  })
  await judge(tx, cipher, tenantId, reputation)
  await notifyTenant(tx, tenantId, row.inboxId)
  return true
}

/** Only multipart/report messages can be bounce or complaint reports (ingest skips the hook for others). */
export function mayBeFeedback(parsed: ParsedMessage): boolean {
  const ct = parsed.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? ''
  return /multipart\/report/i.test(ct)
}

/**
 * Ingest's onParsed hook: acts on a bounce or complaint report that arrived at one of the tenant's
 * inboxes. Runs inside the ingest commit (in a savepoint): a throw leaves the report stored, unacted.
 */
export async function handleFeedback(
  tx: Tx,
  cipher: Cipher,
  tenantId: string,
  row: MessageRow,
  parsed: ParsedMessage,
  raw: Buffer,
  o: { reputation: ReputationOptions; log: Logger },
): Promise<void> {
  if (!mayBeFeedback(parsed)) return
  const report = parseReport(raw)
  if (!report?.originalMessageId) return
  const rows = await deliveriesOfOriginal(tx, tenantId, row.inboxId, report.originalMessageId)
  if (!rows.length) return

  if (report.kind === 'dsn') {
    for (const r of report.recipients) {
      if (r.action !== 'failed' || !/^5\.\d{1,3}\.\d{1,3}$/.test(r.status)) continue
      const target = pick(rows, [r.originalRecipient, r.finalRecipient])
      if (!target) continue
      const detail = `bounced after acceptance: ${r.status}${r.diagnostic ? ` (${r.diagnostic})` : ''}`
      if (await bounceAsync(tx, cipher, tenantId, target, detail, o.reputation)) {
        o.log.info('async bounce recorded', { tenantId, recipient: target.recipient, status: r.status })
      }
    }
    return
  }
  if (report.feedbackType === 'not-spam') return
  const target = pick(rows, [report.originalRcptTo, ...report.originalTo])
  if (!target) return
  const paused = await recordComplaint(tx, cipher, tenantId, target.recipient, o.reputation)
  o.log.info('complaint recorded', { tenantId, recipient: target.recipient, feedbackType: report.feedbackType, paused })
}
