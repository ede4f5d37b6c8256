// The ingest path shared by SMTP and internal delivery: store the raw bytes durably (the caller
// answers 250 only after this commits), then parse off the accept path, thread, verify SPF/DKIM/
// DMARC, and make the message visible to waiters, streams and (later) webhooks.
import { createHash } from 'node:crypto'
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm'
import type { Database, Tx } from '../db/client.js'
import { pgErrorCode, rawRows } from '../db/client.js'
import { rebindTenant, withTenant, withoutTenant } from '../db/scope.js'
import type { TenantCrypto, Cipher } from '../crypto/service.js'
import type { Logger } from '../lib/log.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { jobs } from '../jobs/tables.js'
import { inboxes } from '../inboxes/tables.js'
import { appendEvent } from '../events/service.js'
import { effectiveLimits } from '../tenancy/service.js'
import { countReceived, reserveStorage, snapshotStorage, utcDay } from '../usage/service.js'
import { arrivalPayload, MAIL_CHANNEL } from '../events/hub.js'
import { verifyMessage, type DnsResolver, type AuthResults } from '../mail/authentication.js'
import type { MailParser, ParsedMessage } from './parser.js'
import { attachments, messages, rawMessages, threads, type MessageRow } from './tables.js'
import { ctx, previewOf, summaryToWire } from './service.js'

export interface Recipient {
  tenantId: string
  inboxId: string
  address: string
  /** From a sender blocked with blockMode `hide`: stored, but kept out of lists, waits and events. */
  hidden?: boolean
}

/** A tenant's storage or daily quota refused the message (nothing was stored for anyone). */
export class QuotaError extends Error {
  constructor(
    readonly kind: 'storage' | 'daily',
    readonly tenantId: string,
  ) {
    super(kind === 'storage' ? 'storage quota exceeded' : 'daily message quota reached')
  }
}

export interface Envelope {
  mailFrom: string | null
  remoteIp: string | null
  helo: string | null
  /** Outbound copies delivered internally are stored as sent by the platform itself. */
  direction?: 'inbound' | 'outbound'
}

export interface IngestOptions {
  database: Database
  crypto: TenantCrypto
  parser: MailParser
  log: Logger
  /** null: skip SPF/DKIM/DMARC (results stay null). */
  resolver: DnsResolver | null
  /** How long a claimed parse job is leased before another worker may take it over. */
  leaseSeconds?: number
  /** Parallel parse+store pipelines in this process. */
  concurrency?: number
  /**
   * Called for each parsed inbound copy inside the transaction that commits it (after it is stored),
   * in a savepoint: a throw is logged and rolled back on its own, the message is stored regardless.
   */
  onParsed?: (tx: Tx, cipher: Cipher, tenantId: string, row: MessageRow, parsed: ParsedMessage, raw: Buffer) => Promise<void>
}

export class Ingest {
  private readonly leaseSeconds: number
  private readonly concurrency: number
  private readonly queue: { tenantId: string; rawId: string }[] = []
  private readonly queued = new Set<string>()
  private active = 0
  private idleWaiters: (() => void)[] = []
  private sweeper: NodeJS.Timeout | null = null
  private stopped = false

  constructor(private readonly o: IngestOptions) {
    this.leaseSeconds = o.leaseSeconds ?? 60
    this.concurrency = o.concurrency ?? 8
  }

  /**
   * Stores one accepted message for every recipient in one transaction: the raw bytes once per
   * tenant (each copy encrypted under its own tenant's key), a message row per inbox, and a parse
   * job leased to this process. Resolves only after commit.
   */
  async accept(recipients: Recipient[], raw: Buffer, env: Envelope): Promise<{ tenantId: string; rawId: string; messageIds: string[] }[]> {
    const byTenant = new Map<string, Recipient[]>()
    for (const r of recipients) {
      const list = byTenant.get(r.tenantId) ?? []
      if (!list.some((x) => x.inboxId === r.inboxId)) list.push(r)
      byTenant.set(r.tenantId, list)
    }
    // Tenants in id order: concurrent multi-tenant messages lock rows in one order.
    const tenantIds = [...byTenant.keys()].sort()
    if (tenantIds.length === 0) return []
    const sha256 = createHash('sha256').update(raw).digest('hex')
    const stored = await withTenant(this.o.database, { tenantId: tenantIds[0]! }, async (tx) => {
      const out: { tenantId: string; rawId: string; messageIds: string[] }[] = []
      for (const tenantId of tenantIds) {
        await rebindTenant(tx, { tenantId })
        const cipher = await this.o.crypto.cipher(tx, tenantId)
        const rawId = newUuid()
        await tx.insert(rawMessages).values({
          tenantId,
          id: rawId,
          dataEnc: cipher.seal(ctx.raw(rawId), raw),
          size: raw.length,
          sha256,
          mailFrom: env.mailFrom,
          remoteIp: env.remoteIp,
          helo: env.helo,
        })
        const rows = byTenant.get(tenantId)!.map((r) => ({
          tenantId,
          id: newUuid(),
          inboxId: r.inboxId,
          rawId,
          direction: env.direction ?? ('inbound' as const),
          status: 'received',
          size: raw.length,
          toAddresses: [r.address],
          hidden: r.hidden ?? false,
        }))
        // Quotas and usage move in this same transaction: exact counts, nothing half-written.
        // (In the lock order of usage/service.ts: storage gauges, then daily counters.)
        const limits = await effectiveLimits(tx, tenantId)
        const day = utcDay(new Date())
        const perInbox = rows.map((r) => ({ inboxId: r.inboxId, bytes: raw.length }))
        const totals = await reserveStorage(tx, tenantId, perInbox, raw.length, limits.maxStoredBytes)
        if (!totals) throw new QuotaError('storage', tenantId)
        if (!(await countReceived(tx, tenantId, rows.map((r) => r.inboxId), day, limits.maxMessagesPerDay))) throw new QuotaError('daily', tenantId)
        await snapshotStorage(tx, tenantId, totals, day)
        await tx.insert(messages).values(rows)
        await tx.insert(jobs).values({
          tenantId,
          id: newUuid(),
          kind: 'ingest',
          refId: rawId,
          lockedUntil: sql`now() + make_interval(secs => ${this.leaseSeconds})`,
        })
        out.push({ tenantId, rawId, messageIds: rows.map((r) => r.id) })
      }
      return out
    })
    for (const s of stored) this.kick(s.tenantId, s.rawId)
    return stored
  }

  /** Schedules parsing of one stored message in this process. */
  kick(tenantId: string, rawId: string): void {
    if (this.stopped || this.queued.has(rawId)) return
    this.queued.add(rawId)
    this.queue.push({ tenantId, rawId })
    this.pump()
  }

  private pump() {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!
      this.active++
      this.process(job.tenantId, job.rawId)
        .catch((err) => this.o.log.error('ingest failed', { rawId: job.rawId, err: String((err as Error).stack ?? err) }))
        .finally(() => {
          this.active--
          this.queued.delete(job.rawId)
          if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w()
          this.pump()
        })
    }
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  /** Picks up parse jobs whose lease ran out (a process died after answering 250). */
  startSweeper(intervalMs = 5_000): void {
    const sweep = async () => {
      try {
        const claimed = await withoutTenant(this.o.database, (tx) =>
          rawRows<{ tenant_id: string; ref_id: string }>(tx, sql`select tenant_id, ref_id from mailroom_claim_jobs('ingest', 50, ${this.leaseSeconds})`),
        )
        for (const c of claimed) this.kick(c.tenant_id, c.ref_id)
      } catch (err) {
        if (!this.stopped) this.o.log.warn('ingest sweep failed', { err: String(err) })
      }
    }
    void sweep()
    this.sweeper = setInterval(() => void sweep(), intervalMs)
    this.sweeper.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.sweeper) clearInterval(this.sweeper)
    this.queue.length = 0
    await this.idle()
  }

  async process(tenantId: string, rawId: string): Promise<void> {
    const { database } = this.o
    const loaded = await withTenant(database, { tenantId }, async (tx) => {
      const [raw] = await tx.select().from(rawMessages).where(eq(rawMessages.id, rawId))
      if (!raw) return null
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      return { raw, bytes: cipher.open(ctx.raw(rawId), raw.dataEnc) }
    })
    if (!loaded) {
      await withTenant(database, { tenantId }, (tx) => tx.delete(jobs).where(and(eq(jobs.kind, 'ingest'), eq(jobs.refId, rawId))))
      return
    }
    const { raw, bytes } = loaded
    let parsed: ParsedMessage | null = null
    let parseError: string | null = null
    const [parseResult, auth] = await Promise.all([
      this.o.parser.parse(bytes).then(
        (p) => ({ ok: true as const, p }),
        (err: unknown) => ({ ok: false as const, err: String((err as Error)?.message ?? err) }),
      ),
      this.verify(bytes, raw),
    ])
    if (parseResult.ok) parsed = parseResult.p
    else parseError = parseResult.err.slice(0, 500)

    try {
      await this.commit(tenantId, rawId, parsed, parseError, auth, bytes)
    } catch (err) {
      // Content the database refuses (a data error, not a lost connection) would fail the same way
      // on every retry and leave the message pending for ever: keep it visible as unparsed instead.
      if (!parsed || !isDataError(err)) throw err
      const reason = String((err as { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? err).slice(0, 300)
      this.o.log.warn('ingest: parsed content could not be stored, keeping the message unparsed', { rawId, err: reason })
      await this.commit(tenantId, rawId, null, `parsed content could not be stored: ${reason}`, auth, bytes)
    }
  }

  /** Makes the pending copies of one raw message visible: content, seq, event, notification. */
  private async commit(tenantId: string, rawId: string, parsed: ParsedMessage | null, parseError: string | null, auth: AuthResults | null, bytes: Buffer): Promise<void> {
    const notifications: string[] = []
    await withTenant(this.o.database, { tenantId }, async (tx) => {
      const pending = await tx
        .select()
        .from(messages)
        .where(and(eq(messages.rawId, rawId), eq(messages.parseStatus, 'pending')))
        .for('update')
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      const visible: MessageRow[] = []
      for (const m of pending) visible.push(await this.store(tx, cipher, m, parsed, parseError, auth))
      const onParsed = this.o.onParsed
      if (onParsed && parsed) {
        for (const m of visible) {
          if (m.direction !== 'inbound') continue
          try {
            await tx.transaction((sp) => onParsed(sp as unknown as Tx, cipher, tenantId, m, parsed, bytes))
          } catch (err) {
            this.o.log.warn('ingest: onParsed failed, message stored without it', { rawId, err: String((err as Error)?.message ?? err) })
          }
        }
      }
      // Counter rows are locked in one order (inboxes by id, then the tenant): no deadlocks.
      visible.sort((a, b) => (a.inboxId < b.inboxId ? -1 : a.inboxId > b.inboxId ? 1 : 0))
      await tx.delete(jobs).where(and(eq(jobs.kind, 'ingest'), eq(jobs.refId, rawId)))
      // Last: the counters (row locks held only until commit), the events and the notifications.
      for (const m of visible) {
        if (m.hidden) continue
        const [row] = await rawRows<{ last_seq: number | string }>(
          tx,
          sql`update ${inboxes} set last_seq = last_seq + 1 where tenant_id = ${tenantId} and id = ${m.inboxId} returning last_seq`,
        )
        const seq = Number(row!.last_seq)
        await tx.update(messages).set({ seq }).where(eq(messages.id, m.id))
        const atts = await tx
          .select({ id: attachments.id, messageId: attachments.messageId, filename: attachments.filename, contentType: attachments.contentType, size: attachments.size, contentId: attachments.contentId, inline: attachments.inline })
          .from(attachments)
          .where(eq(attachments.messageId, m.id))
        const eventSeq = await appendEvent(tx, cipher, tenantId, 'message.received', m.inboxId, {
          message: summaryToWire({ ...m, seq }, atts, cipher),
        })
        notifications.push(arrivalPayload({ tenantId, inboxId: m.inboxId, seq, eventSeq }))
      }
      for (const n of notifications) await tx.execute(sql`select pg_notify(${MAIL_CHANNEL}, ${n})`)
    })
  }

  private async verify(bytes: Buffer, raw: { remoteIp: string | null; helo: string | null; mailFrom: string | null }): Promise<AuthResults | null> {
    if (!this.o.resolver || !raw.remoteIp) return null
    return verifyMessage(bytes, { ip: raw.remoteIp, helo: raw.helo ?? '', mailFrom: raw.mailFrom ?? '', resolver: this.o.resolver })
  }

  /** Writes the parsed content of one message row (encrypted), its attachments and its thread. */
  private async store(tx: Tx, cipher: Cipher, m: MessageRow, p: ParsedMessage | null, parseError: string | null, auth: AuthResults | null): Promise<MessageRow> {
    if (!p) {
      const [row] = await tx
        .update(messages)
        .set({
          parseStatus: 'failed',
          parseError: parseError ?? 'unparseable',
          auth: auth ? { spf: auth.spf, dkim: auth.dkim, dmarc: auth.dmarc } : null,
          updatedAt: sql`now()`,
        })
        .where(eq(messages.id, m.id))
        .returning()
      return row!
    }
    const threadId = await this.threadFor(tx, cipher, m, p)
    const attachmentRows = p.attachments.map((a, position) => {
      const id = newUuid()
      return {
        tenantId: m.tenantId,
        id,
        messageId: m.id,
        inboxId: m.inboxId,
        filename: a.filename?.slice(0, 500) ?? null,
        contentType: a.contentType.slice(0, 200),
        size: a.size,
        contentId: a.contentId?.slice(0, 500) ?? null,
        inline: a.inline,
        contentEnc: cipher.seal(ctx.attachment(id), Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength)),
        position,
      }
    })
    if (attachmentRows.length) await tx.insert(attachments).values(attachmentRows)
    const to = [...new Set([...m.toAddresses, ...p.to.map((a) => a.address), ...p.cc.map((a) => a.address)])]
    const [row] = await tx
      .update(messages)
      .set({
        parseStatus: 'parsed',
        threadId,
        fromAddress: p.from?.address ?? null,
        toAddresses: to,
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
        hasAttachments: attachmentRows.length > 0,
        auth: auth ? { spf: auth.spf, dkim: auth.dkim, dmarc: auth.dmarc } : null,
        updatedAt: sql`now()`,
      })
      .where(eq(messages.id, m.id))
      .returning()
    return row!
  }

  /** The thread of a message in its inbox: the thread of any message it refers to, else a new one. */
  private async threadFor(tx: Tx, cipher: Cipher, m: MessageRow, p: ParsedMessage): Promise<string> {
    const refs = [...new Set([p.inReplyTo, ...p.references].filter((r): r is string => !!r))].slice(-50)
    let threadId: string | null = null
    if (refs.length) {
      const [hit] = await tx
        .select({ threadId: messages.threadId })
        .from(messages)
        .where(and(eq(messages.inboxId, m.inboxId), inArray(messages.messageIdHeader, refs), isNotNull(messages.threadId)))
        .limit(1)
      threadId = hit?.threadId ?? null
    }
    if (!threadId && p.messageId) {
      // A reply may have arrived first: adopt the thread of a message that refers to this one.
      const [hit] = await tx
        .select({ threadId: messages.threadId })
        .from(messages)
        .where(
          and(
            eq(messages.inboxId, m.inboxId),
            or(sql`${p.messageId} = any(${messages.references})`, eq(messages.inReplyTo, p.messageId)),
            isNotNull(messages.threadId),
          ),
        )
        .limit(1)
      threadId = hit?.threadId ?? null
    }
    if (threadId) {
      await tx
        .update(threads)
        .set({ messageCount: sql`${threads.messageCount} + 1`, lastMessageAt: sql`greatest(${threads.lastMessageAt}, now())` })
        .where(eq(threads.id, threadId))
      return threadId
    }
    const id = newUuid()
    await tx.insert(threads).values({
      tenantId: m.tenantId,
      id,
      inboxId: m.inboxId,
      subjectEnc: cipher.sealNullable(ctx.threadSubject(id), p.subject?.replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, '') ?? null),
      messageCount: 1,
    })
    return id
  }
}

/** Postgres data exceptions (22xxx) and limits such as an index row too large (54xxx). */
function isDataError(err: unknown): boolean {
  return /^(22|54)/.test(pgErrorCode(err) ?? '')
}

export const publicMessageId = (id: string) => toPublicId('message', id)
