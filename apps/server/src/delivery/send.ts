// The send path (send, reply, forward): validate -> sending paused? -> compose -> size -> limits,
// decided atomically in the same transaction that stores the message and its outbox rows. The
// sender's copy is stored parsed (no parse job) and threaded with the messages it refers to.
import { createHash } from 'node:crypto'
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { ForwardRequest, ReplyRequest, SendRequest, SentMessage } from '@mailroom/contract'
import { pgErrorCode, pgErrorMessage, type Tx } from '../db/client.js'
import { ownRows, withTenant, type TenantScope } from '../db/scope.js'
import type { Cipher } from '../crypto/service.js'
import type { Deps } from '../deps.js'
import { ServiceError, notFound } from '../errors.js'
import { newUuid } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import type { InboxRow } from '../inboxes/tables.js'
import { effectiveLimits } from '../tenancy/service.js'
import { consume } from '../limits/service.js'
import { appendEvent } from '../events/service.js'
import { countSent, reserveStorage, snapshotStorage, utcDay } from '../usage/service.js'
import { outboundRefused } from '../rules/service.js'
import { attachments, messages, messageSearch, rawMessages, type MessageRow } from '../messages/tables.js'
import { searchRow } from '../messages/search.js'
import { stripSubjectPrefixes, threadOf } from '../messages/threading.js'
import type { ParsedMessage } from '../messages/parser.js'
import { attachmentsOf, ctx, decodedAttachment, getMessage, getRaw, previewOf, summaryToWire } from '../messages/service.js'
import {
  checkHeaderValue,
  checkRecipientCount,
  compose,
  DraftErrors,
  headersOf,
  newMessageIdHeader,
  parseAttachments,
  parseHeaders,
  parseRecipients,
  uniqueRecipients,
  type Address,
  type Draft,
} from './compose.js'
import { outbox, sendingStates, type OutboxRow } from './tables.js'
import { suppressedAmong } from '../suppressions/service.js'
import { effectivePolicies } from '../policies/service.js'
import { firstContacts, holdForApproval, holdReasons, offPlatformRecipients } from '../approvals/service.js'
import type { TenantLimits } from '@mailroom/contract'
import { recordContacts } from '../contacts/record.js'
import { aggregateStatus, deliveryToWire, notifyTenant } from './status.js'

export type SendKind =
  | { type: 'send'; body: SendRequest }
  | { type: 'reply'; messageId: string; body: ReplyRequest }
  | { type: 'forward'; messageId: string; body: ForwardRequest }

/** What the send path answered: the stored message, and whether an approval policy held it. */
export interface SendOutcome {
  sent: SentMessage
  held: boolean
}

export async function sendMessage(
  deps: Deps,
  scope: TenantScope,
  inboxId: string,
  kind: SendKind,
  /** Runs first in the send's transaction (sending a draft removes it there: sent at most once). */
  first?: (tx: Tx) => Promise<void>,
): Promise<SendOutcome> {
  const forwarded = await parseForwarded(deps, scope, inboxId, kind)
  const sendAt = sendAtOf(deps, kind.body.sendAt)
  // Postgres decides the approval policy again for every outbox row an agent's send writes (the
  // trigger of migration 0040). A person who changed the policy after this send read it makes that
  // check refuse what this send let by: the send is made once more, from the start, under the
  // policy now in force (held, most likely). Nothing of the first attempt was kept.
  const attempt = () => withTenant(deps.database, scope, sendIn)
  const out = await attempt().catch((err: unknown) => {
    if (!scope.inboxId || !policyChangedUnder(err)) throw err
    return attempt()
  })
  if (out.queued > 0 && !sendAt) deps.delivery?.kick()
  return { sent: out.sent, held: out.held }

  async function sendIn(tx: Tx) {
    const inbox = await getInbox(tx, inboxId)
    if (!inbox) throw notFound('inbox')
    const cipher = await deps.crypto.cipher(tx, scope.tenantId)
    const draft = await buildDraft(tx, cipher, deps, inbox, kind, forwarded)
    const recipients = uniqueRecipients(draft)
    // An agent's mail (an inbox key's) under an approval policy may wait for a person. Which
    // recipients are off the platform is read before this transaction writes anything: the route
    // lookup runs as another role, and Citus lets no other role read what a transaction modified.
    const policies = scope.inboxId ? await effectivePolicies(tx, scope.tenantId, inbox) : null
    const offPlatform = policies ? await offPlatformRecipients(tx, policies.outboundApproval, recipients) : []
    if (first) await first(tx)

    const [state] = await tx.select().from(sendingStates).where(eq(sendingStates.tenantId, scope.tenantId))
    if (state?.paused) throw new ServiceError('sending_paused', `sending is paused for this tenant: ${state.pausedReason ?? 'no reason given'}`)

    const raw = await compose(draft)
    const limits = await effectiveLimits(tx, scope.tenantId)
    const maxBytes = Math.min(deps.config.maxMessageBytes, limits.maxMessageBytes ?? Infinity)
    if (raw.length > maxBytes) throw new ServiceError('payload_too_large', `message is ${raw.length} bytes; the limit is ${maxBytes}`)

    // A platform's allow/block lists keep its agents from mailing the world.
    const refused = await outboundRefused(tx, inbox.id, recipients)
    if (refused.length) throw new ServiceError('forbidden', `not allowed to send to ${refused.join(', ')} (the tenant's outbound sender rules)`)

    await consumeSendLimits(tx, deps, scope.tenantId, inbox, limits)
    // First contacts: recipients this inbox has never been in conversation with.
    const known = await firstContacts(tx, inbox.id, recipients)
    await consumeFirstContactLimit(tx, deps, scope.tenantId, inbox, limits, known.fresh.length)
    // The sender's copy is stored mail: the storage quota and usage move with it
    // (in the lock order of usage/service.ts: storage gauges, then daily counters).
    const day = utcDay(deps.clock.now())
    const totals = await reserveStorage(tx, scope.tenantId, [{ inboxId: inbox.id, bytes: raw.length }], raw.length, limits.maxStoredBytes)
    if (!totals) throw new ServiceError('quota_exceeded', 'this tenant is over its storage quota')
    await countSent(tx, scope.tenantId, inbox.id, day)
    await snapshotStorage(tx, scope.tenantId, totals, day)
    if (policies) {
      const reasons = holdReasons(policies.outboundApproval, known, offPlatform)
      if (reasons.length) {
        const held = await holdForApproval(tx, cipher, deps, inbox, draft, raw, { reasons, expiryHours: policies.approvalExpiryHours, sendAt })
        return { sent: held, queued: 0, held: true }
      }
    }
    return { ...(await storeOutbound(tx, cipher, inbox, draft, raw, sendAt)), held: false }
  }
}

/** The outbox's policy check (migration 0040) refused a row: the policy changed under the send. */
const policyChangedUnder = (err: unknown): boolean => pgErrorCode(err) === '42501' && /^an approval policy \(/.test(pgErrorMessage(err) ?? '')

/** A `sendAt` in the future, or null (none given, or already due: sent now). */
function sendAtOf(deps: Deps, value: string | undefined): Date | null {
  if (!value) return null
  const at = new Date(value)
  const now = deps.clock.now()
  if (at.getTime() > now.getTime() + 366 * 86_400_000) throw new ServiceError('validation_error', 'body.sendAt: at most a year ahead', [{ path: 'body.sendAt', message: 'at most a year ahead' }])
  return at.getTime() > now.getTime() ? at : null
}

/**
 * At most N first contacts per day, per inbox and per tenant (the tightest of the inbox's and its
 * tenant chain's). Decided by the atomic counter of limits/service.ts: parallel sends cannot overshoot.
 */
async function consumeFirstContactLimit(tx: Tx, deps: Deps, tenantId: string, inbox: InboxRow, tenantLimits: TenantLimits, fresh: number) {
  if (fresh === 0) return
  const own = inbox.limits?.newRecipientsPerDay
  const tenantCap = tenantLimits.newRecipientsPerDay
  const inboxCap = typeof own === 'number' ? (typeof tenantCap === 'number' ? Math.min(own, tenantCap) : own) : (tenantCap ?? null)
  const now = deps.clock.now()
  const checks: [string, number | null | undefined, 'tenant' | 'inbox'][] = [
    ['first:tenant:day', tenantCap, 'tenant'],
    [`first:inbox:${inbox.id}:day`, inboxCap, 'inbox'],
  ]
  for (const [key, limit, who] of checks) {
    if (typeof limit !== 'number') continue
    const r = await consume(tx, tenantId, key, limit, 86_400, now, fresh)
    if (!r.ok) {
      throw new ServiceError(
        'first_contact_limit',
        `${who} first-contact limit reached (${limit} new recipients per day; this message has ${fresh}); retry in ${r.retryAfter}s, or write to people already in conversation`,
        undefined,
        { 'Retry-After': String(r.retryAfter) },
      )
    }
  }
}

/**
 * A forward of received mail whose attachments are not stored decoded: the original parsed again
 * (in the tenant's turn on the attachment thread), before the send's transaction, so that no
 * connection is held while the parse waits. Null when nothing needs decoding.
 */
async function parseForwarded(deps: Deps, scope: TenantScope, inboxId: string, kind: SendKind): Promise<ParsedMessage | null> {
  if (kind.type !== 'forward' || kind.body.includeAttachments === false) return null
  const raw = await withTenant(deps.database, scope, async (tx) => {
    const original = await getMessage(tx, inboxId, kind.messageId)
    if (!original) return null
    const [undecoded] = await tx
      .select({ id: attachments.id })
      .from(attachments)
      .where(and(ownRows(tx, attachments.tenantId), eq(attachments.messageId, original.id), isNull(attachments.contentEnc)))
      .limit(1)
    return undecoded ? getRaw(tx, await deps.crypto.cipher(tx, scope.tenantId), original.rawId) : null
  })
  return raw ? deps.attachments.parse(scope.tenantId, raw) : null
}

/** Per-tenant and per-inbox, per minute and per day; all or nothing (a 429 rolls back the lot). */
async function consumeSendLimits(tx: Tx, deps: Deps, tenantId: string, inbox: InboxRow, tenantLimits: { sendPerMinute?: number | null; sendPerDay?: number | null }) {
  const now = deps.clock.now()
  const own = inbox.limits ?? {}
  const min = (a: number | null | undefined, b: number | null | undefined) =>
    typeof a === 'number' ? (typeof b === 'number' ? Math.min(a, b) : a) : typeof b === 'number' ? b : null
  const checks: [string, number | null, number, 'tenant' | 'inbox'][] = [
    ['send:tenant:min', tenantLimits.sendPerMinute ?? null, 60, 'tenant'],
    ['send:tenant:day', tenantLimits.sendPerDay ?? null, 86_400, 'tenant'],
    [`send:inbox:${inbox.id}:min`, min(own.sendPerMinute, tenantLimits.sendPerMinute), 60, 'inbox'],
    [`send:inbox:${inbox.id}:day`, min(own.sendPerDay, tenantLimits.sendPerDay), 86_400, 'inbox'],
  ]
  for (const [key, limit, window, who] of checks) {
    if (limit === null) continue
    const r = await consume(tx, tenantId, key, limit, window, now)
    if (!r.ok) {
      throw new ServiceError(
        'rate_limited',
        `${who === 'tenant' ? 'tenant' : 'inbox'} sending limit reached (${limit} per ${window === 60 ? 'minute' : 'day'}); retry in ${r.retryAfter}s`,
        undefined,
        { 'Retry-After': String(r.retryAfter) },
      )
    }
  }
}

async function buildDraft(tx: Tx, cipher: Cipher, deps: Deps, inbox: InboxRow, kind: SendKind, forwarded: ParsedMessage | null): Promise<Draft> {
  const errors = new DraftErrors()
  const body = kind.body
  const from: Address = { address: inbox.address, name: inbox.displayName }
  let to = parseRecipients(body.to, 'body.to', errors)
  const cc = parseRecipients(body.cc, 'body.cc', errors)
  const bcc = parseRecipients(body.bcc, 'body.bcc', errors)
  const replyTo = parseRecipients(body.replyTo, 'body.replyTo', errors)
  const headers = parseHeaders(body.headers, errors)
  const atts = parseAttachments(body.attachments, errors)
  if (body.subject !== undefined) checkHeaderValue(body.subject, 'body.subject', errors)
  let subject = body.subject ?? ''
  let text = body.text ?? null
  let html = body.html ?? null
  let inReplyTo: string | null = null
  let references: string[] = []

  if (kind.type !== 'send') {
    const original = await getMessage(tx, inbox.id, kind.messageId)
    if (!original) throw notFound('message')
    const origSubject = cipher.openNullable(ctx.subject(original.id), original.subjectEnc) ?? ''
    if (original.messageIdHeader) {
      references = [...original.references, original.messageIdHeader].slice(-30)
    }
    if (kind.type === 'reply') {
      inReplyTo = original.messageIdHeader
      if (body.subject === undefined) subject = /^re\s*:/i.test(origSubject) ? origSubject : `Re: ${stripSubjectPrefixes(origSubject)}`
      const a = original.addresses
      const base: Address[] =
        original.direction === 'outbound'
          ? (a?.to ?? []).map((x) => ({ address: x.address.toLowerCase(), name: x.name }))
          : (a?.replyTo?.length ? a.replyTo : a?.from ? [a.from] : original.fromAddress ? [{ address: original.fromAddress, name: null }] : []).map((x) => ({
              address: x.address.toLowerCase(),
              name: x.name,
            }))
      const mine = inbox.address.toLowerCase()
      const seen = new Set(to.map((x) => x.address))
      const add = (list: Address[], x: Address) => {
        if (x.address === mine || seen.has(x.address)) return
        seen.add(x.address)
        list.push(x)
      }
      const replyTo: Address[] = []
      for (const x of base) add(replyTo, x)
      to = [...replyTo, ...to]
      if ((kind.body as ReplyRequest).replyAll) {
        for (const x of a?.to ?? []) add(to, { address: x.address.toLowerCase(), name: x.name })
        for (const x of a?.cc ?? []) add(cc, { address: x.address.toLowerCase(), name: x.name })
      }
      if (to.length === 0 && cc.length === 0) errors.add('body.to', 'the original message has no address to reply to: give `to`')
    } else {
      if (body.subject === undefined) subject = `Fwd: ${stripSubjectPrefixes(origSubject)}`
      const a = original.addresses
      const fmt = (x: { address: string; name: string | null } | null | undefined) => (x ? (x.name ? `${x.name} <${x.address}>` : x.address) : '')
      const header = [
        '---------- Forwarded message ---------',
        `From: ${fmt(a?.from ?? (original.fromAddress ? { address: original.fromAddress, name: null } : null))}`,
        `Date: ${(original.date ?? original.receivedAt).toUTCString()}`,
        `Subject: ${origSubject}`,
        `To: ${(a?.to ?? []).map(fmt).join(', ')}`,
      ]
      const origText = cipher.openNullable(ctx.text(original.id), original.textEnc)
      const origHtml = cipher.openNullable(ctx.html(original.id), original.htmlEnc)
      text = `${text ?? ''}\n\n${header.join('\n')}\n\n${origText ?? ''}`.replace(/^\n+/, '')
      if (origHtml || html) {
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
        html = `${html ?? (body.text ? `<p>${esc(body.text)}</p>` : '')}<br><div>${header.map(esc).join('<br>')}</div><br>${origHtml ?? `<pre>${esc(origText ?? '')}</pre>`}`
      }
      if ((kind.body as ForwardRequest).includeAttachments !== false) {
        const metas = (await attachmentsOf(tx, [original.id])).get(original.id) ?? []
        const rows = metas.length ? await tx.select().from(attachments).where(and(ownRows(tx, attachments.tenantId), inArray(attachments.id, metas.map((m) => m.id)))).orderBy(asc(attachments.position)) : []
        for (const r of rows) {
          atts.push({
            filename: r.filename ?? 'attachment',
            // Received attachments are not stored decoded: parseForwarded() parsed the original.
            content: r.contentEnc ? cipher.open(ctx.attachment(r.id), r.contentEnc) : decodedAttachment(forwarded, r),
            contentType: r.contentType,
            contentId: r.contentId,
            inline: r.inline,
          })
        }
      }
    }
  }
  const draft: Draft = {
    from,
    to,
    cc,
    bcc,
    replyTo,
    subject,
    text,
    html,
    attachments: atts,
    headers,
    inReplyTo,
    references,
    messageId: newMessageIdHeader(inbox.address.split('@')[1] ?? deps.config.domain),
    date: deps.clock.now(),
  }
  checkRecipientCount(draft, errors)
  errors.throwIfAny()
  return draft
}

/** Stores the sender's copy (raw, message, attachments, thread) and one outbox row per recipient. */
async function storeOutbound(tx: Tx, cipher: Cipher, inbox: InboxRow, d: Draft, raw: Buffer, sendAt: Date | null): Promise<{ sent: SentMessage; queued: number }> {
  const id = newUuid()
  const recipients = uniqueRecipients(d)
  const plan = await planDeliveries(tx, inbox, id, recipients, sendAt)
  const row = await storeSentCopy(tx, cipher, inbox, id, d, raw, plan.status)
  return queueDeliveries(tx, cipher, row, plan.rows)
}

/** The outbox rows of a message (suppressed recipients end at once) and the message's status. */
export async function planDeliveries(tx: Tx, inbox: InboxRow, messageId: string, recipients: string[], sendAt: Date | null) {
  const tenantId = inbox.tenantId
  const suppressed = await suppressedAmong(tx, recipients)
  const rows: (typeof outbox.$inferInsert)[] = recipients.map((r) => {
    const s = suppressed.get(r)
    return {
      tenantId,
      id: newUuid(),
      messageId,
      inboxId: inbox.id,
      recipient: r,
      status: s ? 'suppressed' : 'queued',
      lastError: s ? `address is on the suppression list (${s.reason})` : null,
      finishedAt: s ? sql`now()` : null,
      // A scheduled send waits in the outbox: delivery workers claim it when it is due.
      ...(sendAt && !s ? { nextAttemptAt: sendAt } : {}),
    } as typeof outbox.$inferInsert
  })
  const status: string = aggregateStatus(rows.map((r) => r.status!))
  return { rows, status: sendAt && status === 'queued' ? 'scheduled' : status }
}

/** Stores the sender's copy: raw bytes, the message row (with `status`), its attachments and thread. */
export async function storeSentCopy(tx: Tx, cipher: Cipher, inbox: InboxRow, id: string, d: Draft, raw: Buffer, status: string): Promise<MessageRow> {
  const tenantId = inbox.tenantId
  const rawId = newUuid()
  await tx.insert(rawMessages).values({
    tenantId,
    id: rawId,
    dataEnc: cipher.seal(ctx.raw(rawId), raw),
    size: raw.length,
    sha256: createHash('sha256').update(raw).digest('hex'),
    mailFrom: inbox.address,
  })
  const threadId = await threadOf(tx, cipher, tenantId, { inboxId: inbox.id, h: { messageId: null, inReplyTo: d.inReplyTo, references: d.references, subject: d.subject } })
  const recipients = uniqueRecipients(d)
  const [row] = await tx
    .insert(messages)
    .values({
      tenantId,
      id,
      inboxId: inbox.id,
      rawId,
      threadId,
      direction: 'outbound',
      status,
      parseStatus: 'parsed',
      fromAddress: d.from.address,
      toAddresses: recipients,
      addresses: { from: d.from, to: d.to, cc: d.cc, replyTo: d.replyTo },
      messageIdHeader: d.messageId,
      inReplyTo: d.inReplyTo,
      references: d.references,
      subjectEnc: cipher.sealNullable(ctx.subject(id), d.subject),
      textEnc: cipher.sealNullable(ctx.text(id), d.text),
      htmlEnc: cipher.sealNullable(ctx.html(id), d.html),
      headersEnc: cipher.seal(ctx.headers(id), JSON.stringify(headersOf(raw))),
      previewEnc: cipher.sealNullable(ctx.preview(id), previewOf(d.text, d.html)),
      date: d.date,
      size: raw.length,
      hasAttachments: d.attachments.length > 0,
    })
    .returning()
  if (d.attachments.length) {
    await tx.insert(attachments).values(
      d.attachments.map((a, position) => {
        const attId = newUuid()
        return {
          tenantId,
          id: attId,
          messageId: id,
          inboxId: inbox.id,
          filename: a.filename,
          contentType: a.contentType,
          size: a.content.length,
          contentId: a.contentId,
          inline: a.inline,
          contentEnc: cipher.seal(ctx.attachment(attId), a.content),
          position,
        }
      }),
    )
  }
  // Its words, as keyed hashes, for search (sent mail is searchable too).
  const search = searchRow(cipher, { tenantId, id, inboxId: inbox.id }, d)
  if (search) await tx.insert(messageSearch).values(search)
  return row as MessageRow
}

/**
 * Hands a stored message to delivery: its outbox rows, its recipients recorded as contacts, the
 * `message.queued` (and `message.suppressed`) events. Used by a direct send and by an approval.
 */
export async function queueDeliveries(tx: Tx, cipher: Cipher, row: MessageRow, rows: (typeof outbox.$inferInsert)[]): Promise<{ sent: SentMessage; queued: number }> {
  const { tenantId, id, inboxId } = row
  const stored: OutboxRow[] = rows.length ? await tx.insert(outbox).values(rows).returning() : []
  const atts = (await attachmentsOf(tx, [id])).get(id) ?? []
  const summary = summaryToWire(row, atts, cipher)
  // Its recipients become (or stay) contacts of the inbox: one statement, before the event counter.
  const touched = recordContacts(tenantId, stored.map((r) => ({ inboxId, address: r.recipient, at: row.receivedAt, kind: 'sent' as const })))
  if (touched) await tx.execute(touched)
  await appendEvent(tx, cipher, tenantId, 'message.queued', inboxId, { message: summary })
  const supp = stored.filter((r) => r.status === 'suppressed')
  if (supp.length) {
    await appendEvent(tx, cipher, tenantId, 'message.suppressed', inboxId, {
      message: { id: summary.id, inboxId: summary.inboxId, status: row.status },
      recipients: supp.map((r) => r.recipient),
    })
  }
  await notifyTenant(tx, tenantId, inboxId)
  return { sent: { ...summary, deliveries: stored.map(deliveryToWire) }, queued: stored.length - supp.length }
}
