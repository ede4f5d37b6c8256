// Human approval of what agents send. Under an approval policy (policies/service.ts), mail an inbox
// key sends is stored like any sent mail (sealed, visible to the agent as its own message with status
// `pending_approval`) but gets no outbox rows: no delivery worker can claim it. Only a tenant key of
// the inbox's tenant or an ancestor (acting in it with Mailroom-Tenant) approves it, optionally
// editing subject and body first, or rejects it; nobody deciding in time expires it. Every decision
// is an event (webhooks, streams) and an audit entry naming the key.
import { createHash } from 'node:crypto'
import { and, asc, eq, gt, inArray, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Approval, ApprovalInfo, ApproveRequest, EffectivePolicies, SentMessage } from '@mailroom/contract'
import { rawRows, type Database, type Tx } from '../db/client.js'
import { ownRows, subtreeRows, withTenant, withoutTenant } from '../db/scope.js'
import type { Cipher } from '../crypto/service.js'
import type { Deps } from '../deps.js'
import { ServiceError, notFound } from '../errors.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import type { Clock } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { appendEvent } from '../events/service.js'
import { audit, SYSTEM, type Actor } from '../audit/service.js'
import { getInbox } from '../inboxes/service.js'
import type { InboxRow } from '../inboxes/tables.js'
import { contacts } from '../contacts/tables.js'
import { attachments, messages, messageSearch, rawMessages, type MessageRow } from '../messages/tables.js'
import { searchRow } from '../messages/search.js'
import { attachmentsOf, ctx, previewOf, summaryToWire } from '../messages/service.js'
import { compose, headersOf, type Draft } from '../delivery/compose.js'
import { planDeliveries, queueDeliveries, storeSentCopy } from '../delivery/send.js'
import { deliveryToWire, notifyTenant } from '../delivery/status.js'
import { outbox } from '../delivery/tables.js'
import { encodeCursor, microsOf } from '../lib/cursor.js'
import { approvals, type ApprovalRow } from './tables.js'

const HOUR_MS = 3_600_000
const draftCtx = (messageId: string) => `approvals.draft:${messageId}`
const originalCtx = (messageId: string) => `approvals.original:${messageId}`

/** Who a send's recipients are to this inbox (firstContacts). */
export interface FirstContacts {
  /** Never in conversation with: no mail sent to them, no verified mail received from them. */
  fresh: string[]
  /** Of those, the ones whose mail reached the inbox unverified (a forged or unauthenticated From, quarantined, hidden). */
  unverified: string[]
}

/**
 * The recipients this inbox has never been in conversation with: it sent them no mail and received
 * none from them that was verified (contacts/tables.ts `verified_received_count`).
 */
export async function firstContacts(tx: Tx, inboxId: string, recipients: string[]): Promise<FirstContacts> {
  if (recipients.length === 0) return { fresh: [], unverified: [] }
  const known = await tx
    .select({ address: contacts.address, receivedCount: contacts.receivedCount, verifiedReceivedCount: contacts.verifiedReceivedCount, sentCount: contacts.sentCount })
    .from(contacts)
    .where(and(ownRows(tx, contacts.tenantId), eq(contacts.inboxId, inboxId), inArray(contacts.address, recipients), or(gt(contacts.receivedCount, 0), gt(contacts.sentCount, 0))))
  const inConversation = new Set(known.filter((k) => k.verifiedReceivedCount > 0 || k.sentCount > 0).map((k) => k.address))
  const heardFrom = new Set(known.filter((k) => k.receivedCount > 0).map((k) => k.address))
  const fresh = recipients.filter((r) => !inConversation.has(r))
  return { fresh, unverified: fresh.filter((r) => heardFrom.has(r)) }
}

/**
 * The recipients off the platform (no inbox of this deployment answers to them: mailroom_route),
 * when the policies in force hold such mail (`external`, not already covered by `all`); else none.
 * Call it before the transaction writes: on Citus the lookup's role may not read placements this
 * transaction modified.
 */
export async function offPlatformRecipients(tx: Tx, modes: EffectivePolicies['outboundApproval'], recipients: string[]): Promise<string[]> {
  if (!modes.includes('external') || modes.includes('all') || recipients.length === 0) return []
  const rows = await rawRows<{ address: string }>(
    tx,
    sql`select q.address from unnest(${sql.param(recipients)}::text[]) as q(address) where not exists (select 1 from mailroom_route(q.address))`,
  )
  return rows.map((r) => r.address)
}

/** Why the policies in force hold this message (empty: they do not). */
export function holdReasons(modes: EffectivePolicies['outboundApproval'], first: FirstContacts, offPlatform: string[]): string[] {
  if (modes.length === 0) return []
  if (modes.includes('all')) return ['policy `all`: every message an agent sends waits for approval']
  const reasons: string[] = []
  if (modes.includes('first_contact') && first.fresh.length) {
    const unverified = first.unverified.length
      ? ` (mail from ${first.unverified.join(', ')} reached the inbox, but none with a verified sender that was not quarantined or hidden)`
      : ''
    reasons.push(`policy \`first_contact\`: never in conversation with ${first.fresh.join(', ')}${unverified}`)
  }
  if (modes.includes('external') && offPlatform.length) {
    reasons.push(`policy \`external\`: ${offPlatform.join(', ')} ${offPlatform.length === 1 ? 'is' : 'are'} off the platform`)
  }
  return reasons
}

interface StoredDraft extends Omit<Draft, 'attachments' | 'date'> {
  date: string
  attachments: Omit<Draft['attachments'][number], 'content'>[]
}

/** Stores a held message: the sender's copy (status `pending_approval`), no outbox rows, its approval. */
export async function holdForApproval(
  tx: Tx,
  cipher: Cipher,
  deps: Pick<Deps, 'clock'>,
  inbox: InboxRow,
  d: Draft,
  raw: Buffer,
  o: { reasons: string[]; expiryHours: number; sendAt: Date | null },
): Promise<SentMessage> {
  const id = newUuid()
  const row = await storeSentCopy(tx, cipher, inbox, id, d, raw, 'pending_approval')
  const now = deps.clock.now()
  const stored: StoredDraft = { ...d, date: d.date.toISOString(), attachments: d.attachments.map(({ content: _c, ...a }) => a) }
  const [approval] = await tx
    .insert(approvals)
    .values({
      tenantId: inbox.tenantId,
      messageId: id,
      inboxId: inbox.id,
      reasons: o.reasons,
      requestedAt: now,
      expiresAt: new Date(now.getTime() + o.expiryHours * HOUR_MS),
      sendAt: o.sendAt,
      draftEnc: cipher.seal(draftCtx(id), JSON.stringify(stored)),
    })
    .returning()
  const atts = (await attachmentsOf(tx, [id])).get(id) ?? []
  const summary = summaryToWire(row, atts, cipher)
  const info = approvalInfo(approval!)
  await appendEvent(tx, cipher, inbox.tenantId, 'message.approval_requested', inbox.id, { message: summary, approval: info, recipients: row.toAddresses })
  await notifyTenant(tx, inbox.tenantId, inbox.id)
  return { ...summary, deliveries: [], approval: info }
}

export const approvalInfo = (a: ApprovalRow): ApprovalInfo => ({ status: a.status, reasons: a.reasons, expiresAt: a.expiresAt.toISOString() })

/** The approval of a message, for the message's answers (null when it was never held). */
export async function approvalOf(tx: Tx, messageId: string): Promise<ApprovalRow | null> {
  const [row] = await tx.select().from(approvals).where(and(ownRows(tx, approvals.tenantId), eq(approvals.messageId, messageId)))
  return row ?? null
}

const actorWire = (a: Actor) => ({
  kind: a.kind,
  tenantId: a.tenantId ? toPublicId('tenant', a.tenantId) : null,
  keyId: a.keyId ? toPublicId('apiKey', a.keyId) : null,
})

/** Locks a message's approval (two people deciding at once decide once) with its message. */
async function lockApproval(tx: Tx, inboxId: string, messageId: string): Promise<{ a: ApprovalRow; m: MessageRow }> {
  const [a] = await tx
    .select()
    .from(approvals)
    .where(and(ownRows(tx, approvals.tenantId), eq(approvals.inboxId, inboxId), eq(approvals.messageId, messageId)))
    .for('update')
  if (!a) {
    const [m] = await tx.select({ id: messages.id }).from(messages).where(and(ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId), eq(messages.id, messageId)))
    if (!m) throw notFound('message')
    throw new ServiceError('conflict', 'this message is not waiting for approval (no approval policy held it)')
  }
  const [m] = await tx.select().from(messages).where(and(eq(messages.tenantId, a.tenantId), eq(messages.id, messageId)))
  return { a, m: m! }
}

export interface Decided {
  sent: SentMessage
  /** Delivery rows were queued by this call (kick the workers). */
  queued: number
  /** It was past its expiry: it has just expired (committed), and the caller answers 409. */
  expired?: boolean
}

/** The answer to approving mail that waited past its expiry (after the expiry is committed). */
export const expiredError = () => new ServiceError('conflict', 'this message waited past its approval expiry and has expired')

/**
 * Approves a held message: optional edits of subject / text / html (the message is composed again;
 * the original is kept sealed, the audit entry says which fields changed), then it goes to the
 * outbox like a direct send. Approving an approved message answers it again and sends nothing.
 */
export async function approveMessage(deps: Deps, tx: Tx, cipher: Cipher, inboxId: string, messageId: string, edits: ApproveRequest, actor: Actor): Promise<Decided> {
  const { a, m } = await lockApproval(tx, inboxId, messageId)
  if (a.status === 'approved') return { sent: await sentOf(tx, cipher, m, a), queued: 0 }
  if (a.status !== 'pending') throw new ServiceError('conflict', `this message was ${a.status}; it cannot be approved`)
  const now = deps.clock.now()
  if (a.expiresAt <= now) {
    const ended = await endApproval(tx, cipher, a, m, 'expired', SYSTEM, null, now)
    return { sent: await sentOf(tx, cipher, ended.m, ended.a), queued: 0, expired: true }
  }
  const inbox = (await getInbox(tx, inboxId))!
  let row = m
  const changed = (['subject', 'text', 'html'] as const).filter((k) => edits[k] !== undefined)
  if (changed.length) row = await applyEdits(tx, cipher, a, m, edits, changed)
  const sendAt = a.sendAt && a.sendAt > now ? a.sendAt : null
  const plan = await planDeliveries(tx, inbox, m.id, row.toAddresses, sendAt)
  const [updated] = await tx.update(messages).set({ status: plan.status, updatedAt: sql`now()` }).where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id))).returning()
  const [decided] = await tx
    .update(approvals)
    .set({ status: 'approved', decidedAt: now, decidedByKind: actorKind(actor), decidedByTenant: actor.tenantId, decidedByKey: actor.keyId, edited: changed.length > 0 })
    .where(and(eq(approvals.tenantId, a.tenantId), eq(approvals.messageId, a.messageId)))
    .returning()
  const atts = (await attachmentsOf(tx, [m.id])).get(m.id) ?? []
  await appendEvent(tx, cipher, a.tenantId, 'message.approved', inboxId, {
    message: summaryToWire(updated!, atts, cipher),
    approvedBy: actorWire(actor),
    edited: changed,
  })
  const out = await queueDeliveries(tx, cipher, updated!, plan.rows)
  await audit(tx, a.tenantId, actor, 'message.approved', { type: 'message', id: toPublicId('message', m.id) }, {
    inboxId: toPublicId('inbox', inboxId),
    recipients: row.toAddresses,
    edited: changed,
  })
  return { sent: { ...out.sent, approval: approvalInfo(decided!) }, queued: out.queued }
}

/** Rejects a held message: it ends `rejected`, never sent. Rejecting a rejected message answers it again. */
export async function rejectMessage(deps: Deps, tx: Tx, cipher: Cipher, inboxId: string, messageId: string, reason: string, actor: Actor): Promise<SentMessage> {
  const { a, m } = await lockApproval(tx, inboxId, messageId)
  if (a.status === 'rejected') return sentOf(tx, cipher, m, a)
  if (a.status !== 'pending') throw new ServiceError('conflict', `this message was ${a.status}; it cannot be rejected`)
  const ended = await endApproval(tx, cipher, a, m, 'rejected', actor, reason, deps.clock.now())
  return sentOf(tx, cipher, ended.m, ended.a)
}

/** Ends a pending approval as rejected or expired: the message's status, the event, the audit entry. */
async function endApproval(tx: Tx, cipher: Cipher, a: ApprovalRow, m: MessageRow, status: 'rejected' | 'expired', actor: Actor, reason: string | null, now: Date) {
  const [updated] = await tx.update(messages).set({ status, updatedAt: sql`now()` }).where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id))).returning()
  const [decided] = await tx
    .update(approvals)
    .set({ status, decidedAt: now, decidedByKind: actorKind(actor), decidedByTenant: actor.tenantId, decidedByKey: actor.keyId, reason })
    .where(and(eq(approvals.tenantId, a.tenantId), eq(approvals.messageId, a.messageId)))
    .returning()
  const atts = (await attachmentsOf(tx, [m.id])).get(m.id) ?? []
  const message = summaryToWire(updated!, atts, cipher)
  await appendEvent(
    tx,
    cipher,
    a.tenantId,
    status === 'rejected' ? 'message.rejected' : 'message.expired',
    m.inboxId,
    status === 'rejected' ? { message, rejectedBy: actorWire(actor), reason } : { message, expiresAt: a.expiresAt.toISOString() },
  )
  await audit(tx, a.tenantId, actor, `message.${status}`, { type: 'message', id: toPublicId('message', m.id) }, {
    inboxId: toPublicId('inbox', m.inboxId),
    recipients: m.toAddresses,
    ...(reason ? { reason } : {}),
  })
  await notifyTenant(tx, a.tenantId, m.inboxId)
  return { a: decided!, m: updated! }
}

const actorKind = (a: Actor): 'tenant' | 'operator' | 'system' => (a.kind === 'inbox' ? 'tenant' : a.kind)

/** The edited message: composed again from the held draft, sealed again; the original kept sealed. */
async function applyEdits(tx: Tx, cipher: Cipher, a: ApprovalRow, m: MessageRow, edits: ApproveRequest, changed: string[]): Promise<MessageRow> {
  const stored = JSON.parse(cipher.open(draftCtx(m.id), a.draftEnc).toString('utf8')) as StoredDraft
  const attRows = await tx.select().from(attachments).where(and(eq(attachments.tenantId, m.tenantId), eq(attachments.messageId, m.id))).orderBy(asc(attachments.position))
  const d: Draft = {
    ...stored,
    date: new Date(stored.date),
    attachments: stored.attachments.map((x, i) => ({ ...x, content: attRows[i]?.contentEnc ? cipher.open(ctx.attachment(attRows[i]!.id), attRows[i]!.contentEnc!) : Buffer.alloc(0) })),
  }
  const original = { subject: d.subject, text: d.text, html: d.html }
  if (edits.subject !== undefined) d.subject = edits.subject
  if (edits.text !== undefined) d.text = edits.text
  if (edits.html !== undefined) d.html = edits.html
  if (/[\r\n\0]/.test(d.subject)) throw new ServiceError('validation_error', 'body.subject: no CR/LF', [{ path: 'body.subject', message: 'no CR/LF' }])
  const raw = await compose(d)
  await tx
    .update(rawMessages)
    .set({ dataEnc: cipher.seal(ctx.raw(m.rawId), raw), size: raw.length, sha256: createHash('sha256').update(raw).digest('hex') })
    .where(and(eq(rawMessages.tenantId, m.tenantId), eq(rawMessages.id, m.rawId)))
  const [row] = await tx
    .update(messages)
    .set({
      subjectEnc: cipher.sealNullable(ctx.subject(m.id), d.subject),
      textEnc: cipher.sealNullable(ctx.text(m.id), d.text),
      htmlEnc: cipher.sealNullable(ctx.html(m.id), d.html),
      headersEnc: cipher.seal(ctx.headers(m.id), JSON.stringify(headersOf(raw))),
      previewEnc: cipher.sealNullable(ctx.preview(m.id), previewOf(d.text, d.html)),
      size: raw.length,
      updatedAt: sql`now()`,
    })
    .where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id)))
    .returning()
  // Search finds the message by the words it is sent with, not the ones the agent first wrote.
  await tx.delete(messageSearch).where(and(eq(messageSearch.tenantId, m.tenantId), eq(messageSearch.messageId, m.id)))
  const search = searchRow(cipher, m, d)
  if (search) await tx.insert(messageSearch).values(search)
  const after: StoredDraft = { ...stored, subject: d.subject, text: d.text, html: d.html }
  await tx
    .update(approvals)
    .set({ draftEnc: cipher.seal(draftCtx(m.id), JSON.stringify(after)), originalEnc: cipher.seal(originalCtx(m.id), JSON.stringify({ ...original, changed })) })
    .where(and(eq(approvals.tenantId, a.tenantId), eq(approvals.messageId, a.messageId)))
  return row!
}

/** A decided (or pending) message as the send routes answer it. */
async function sentOf(tx: Tx, cipher: Cipher, m: MessageRow, a: ApprovalRow): Promise<SentMessage> {
  const atts = (await attachmentsOf(tx, [m.id])).get(m.id) ?? []
  const rows = await tx.select().from(outbox).where(and(eq(outbox.tenantId, m.tenantId), eq(outbox.messageId, m.id))).orderBy(outbox.recipient)
  return { ...summaryToWire(m, atts, cipher), deliveries: rows.map(deliveryToWire), approval: approvalInfo(a) }
}

/**
 * Expires what waited past its time, for every tenant (found through a narrow lookup), one short
 * transaction per tenant. `clock`: business time, replaced by tests.
 */
export async function expireApprovals(database: Database, crypto: Deps['crypto'], clock: Clock, log: Logger): Promise<number> {
  const now = clock.now()
  const targets = await withoutTenant(database, (tx) =>
    rawRows<{ tenant_id: string }>(tx, sql`select tenant_id from mailroom_approval_expiry_targets(${now.toISOString()}::timestamptz)`),
  )
  let expired = 0
  for (const { tenant_id: tenantId } of targets) {
    try {
      expired += await withTenant(database, { tenantId }, async (tx) => {
        const due = await tx
          .select()
          .from(approvals)
          .where(and(eq(approvals.tenantId, tenantId), eq(approvals.status, 'pending'), lte(approvals.expiresAt, now)))
          .orderBy(asc(approvals.expiresAt))
          .limit(200)
          .for('update', { skipLocked: true })
        if (!due.length) return 0
        const cipher = await crypto.cipher(tx, tenantId)
        for (const a of due) {
          const [m] = await tx.select().from(messages).where(and(eq(messages.tenantId, tenantId), eq(messages.id, a.messageId)))
          if (m) await endApproval(tx, cipher, a, m, 'expired', SYSTEM, null, now)
        }
        return due.length
      })
    } catch (err) {
      log.warn('approval expiry failed for a tenant', { tenantId, err: String(err) })
    }
  }
  return expired
}

export function startApprovalExpiry(deps: Pick<Deps, 'database' | 'crypto' | 'clock' | 'log'>, intervalMs: number): () => void {
  let running = false
  const tick = async () => {
    if (running) return
    running = true
    try {
      const n = await expireApprovals(deps.database, deps.crypto, deps.clock, deps.log)
      if (n > 0) deps.log.info('approvals expired', { n })
    } catch (err) {
      deps.log.warn('approval expiry failed', { err: String(err) })
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void tick(), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * What waits, oldest first, in the caller's tenant and its descendants (row-level security lets a
 * tenant read its descendants' approvals). Subjects are opened in each message's own tenant.
 */
export async function listApprovals(
  deps: Pick<Deps, 'database' | 'crypto'>,
  tenantId: string,
  q: { limit: number; after: { at: string; id: string } | null; inboxId?: string | undefined; tenantId?: string | undefined; status: ApprovalRow['status'] },
): Promise<{ data: Approval[]; nextCursor: string | null }> {
  const rows = await withTenant(deps.database, { tenantId }, async (tx) => {
    const where: (SQL | undefined)[] = [eq(approvals.status, q.status)]
    if (q.inboxId) where.push(eq(approvals.inboxId, q.inboxId))
    where.push(q.tenantId ? eq(approvals.tenantId, q.tenantId) : await subtreeRows(tx, approvals.tenantId))
    if (q.after) {
      const t = sql`(timestamptz 'epoch' + ${q.after.at}::bigint * interval '1 microsecond')`
      where.push(or(gt(approvals.requestedAt, t), and(eq(approvals.requestedAt, t), gt(approvals.messageId, q.after.id))))
    }
    return tx
      .select({ a: approvals, at: microsOf(approvals.requestedAt) })
      .from(approvals)
      .where(and(...where))
      .orderBy(asc(approvals.requestedAt), asc(approvals.messageId))
      .limit(q.limit + 1)
  })
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  const nextCursor = rows.length > q.limit && last ? encodeCursor({ at: last.at, id: last.a.messageId }) : null
  // Subjects and recipients, read in each tenant's own scope (sealed with its key).
  const byTenant = new Map<string, string[]>()
  for (const { a } of page) byTenant.set(a.tenantId, [...(byTenant.get(a.tenantId) ?? []), a.messageId])
  const details = new Map<string, { subject: string | null; recipients: string[] }>()
  for (const [t, ids] of byTenant) {
    await withTenant(deps.database, { tenantId: t }, async (tx) => {
      const cipher = await deps.crypto.cipher(tx, t)
      const ms = await tx.select({ id: messages.id, subjectEnc: messages.subjectEnc, to: messages.toAddresses }).from(messages).where(and(eq(messages.tenantId, t), inArray(messages.id, ids)))
      for (const m of ms) details.set(m.id, { subject: cipher.openNullable(ctx.subject(m.id), m.subjectEnc), recipients: m.to })
    })
  }
  return { data: page.map(({ a }) => approvalToWire(a, details.get(a.messageId))), nextCursor }
}

export function approvalToWire(a: ApprovalRow, d: { subject: string | null; recipients: string[] } | undefined): Approval {
  return {
    messageId: toPublicId('message', a.messageId),
    inboxId: toPublicId('inbox', a.inboxId),
    tenantId: toPublicId('tenant', a.tenantId),
    status: a.status,
    reasons: a.reasons,
    recipients: d?.recipients ?? [],
    subject: d?.subject ?? null,
    requestedAt: a.requestedAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    decidedAt: a.decidedAt?.toISOString() ?? null,
    decidedBy: a.decidedByKind
      ? {
          kind: a.decidedByKind,
          tenantId: a.decidedByTenant ? toPublicId('tenant', a.decidedByTenant) : null,
          keyId: a.decidedByKey ? toPublicId('apiKey', a.decidedByKey) : null,
        }
      : null,
    reason: a.reason,
    edited: a.edited,
  }
}

