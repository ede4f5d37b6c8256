// The ingest path shared by SMTP and internal delivery. A message is parsed (in worker threads) and
// verified (SPF/DKIM/DMARC) while its sender waits for the answer to DATA, then stored raw and
// parsed, threaded, counted and announced in one transaction, which the caller answers 250 after.
// Concurrent messages share that transaction (a group commit): a handful of statements per batch
// instead of some forty per message. Large messages take the slower road: stored raw and pending
// first, parsed afterwards by a leased job that another process takes over if this one dies.
// Attachment bytes are stored once, inside the raw copy: a message parsed before it is stored keeps
// only their metadata and checksum, and a read decodes them again (messages/attachment-decoder.ts).
// Large messages, parsed in the background, keep a decoded copy: reading one re-parses no megabytes.
import { createHash } from 'node:crypto'
import { and, eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Database, Tx } from '../db/client.js'
import { pgErrorCode, rawRows } from '../db/client.js'
import { withTenant, withoutTenant } from '../db/scope.js'
import { pipelined } from '../db/pipeline.js'
import { bulkInsert } from '../db/bulk.js'
import type { TenantCrypto, Cipher } from '../crypto/service.js'
import type { TenantLimits } from '@mailroom/contract'
import type { Logger } from '../lib/log.js'
import { isConnectionError } from '../db/health.js'
import type { Metrics } from '../lib/metrics.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { FairQueue } from '../lib/fair-queue.js'
import { jobs } from '../jobs/tables.js'
import { inboxes } from '../inboxes/tables.js'
import { enabledWebhookProbe, eventSeqsOf, fanOutEvents, insertEvents, reserveEventSeqs } from '../events/service.js'
import { limitChain, limitsOf } from '../tenancy/service.js'
import { countReceived, countStoredUnlimited, reserveStorage, snapshotStorage, utcDay } from '../usage/service.js'
import { arrivalPayload, MAIL_CHANNEL } from '../events/hub.js'
import { verifyMessage, type DnsResolver, type AuthResults } from '../mail/authentication.js'
import type { MailParser, ParsedMessage } from './parser.js'
import { attachments, messageRefs, messages, rawMessages, threads, type MessageRow } from './tables.js'
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
  /** Parallel background parses (large messages) in this process. */
  concurrency?: number
  /**
   * Messages up to this size are parsed before they are stored and become visible in the
   * transaction that stores them; larger ones are stored pending and parsed afterwards. Default 1 MiB.
   */
  inlineMaxBytes?: number
  /** At most this many messages share one transaction (default 64). */
  maxBatch?: number
  /** Transactions committing batches at the same time, each for another tenant (default 4). */
  committers?: number
  /**
   * Called for each parsed inbound copy inside the transaction that commits it (after it is stored),
   * in a savepoint: a throw is logged and rolled back on its own, the message is stored regardless.
   */
  onParsed?: (tx: Tx, cipher: Cipher, tenantId: string, row: MessageRow, parsed: ParsedMessage, raw: Buffer) => Promise<void>
  /** Which parsed messages onParsed wants (others skip the savepoint). Default: all. */
  onParsedWants?: (parsed: ParsedMessage) => boolean
  /** Counts messages accepted and parsed. */
  metrics?: Pick<Metrics, 'messagesAccepted' | 'messagesParsed'>
}

export type Stored = { tenantId: string; rawId: string; messageIds: string[] }

/** What parsing and verification made of a message before it is stored. */
interface Analysis {
  parsed: ParsedMessage | null
  parseError: string | null
  auth: AuthResults | null
}

/** One accepted message waiting for the group commit. */
interface Item {
  /** Recipients by tenant, tenants in id order (concurrent multi-tenant messages lock rows in one order). */
  tenants: [string, Recipient[]][]
  raw: Buffer
  sha256: string
  env: Envelope
  /** null: too large to parse first, stored pending for the background parse. */
  analysis: Analysis | null
  resolve: (stored: Stored[]) => void
  reject: (err: unknown) => void
}

type Part = { item: Item; recipients: Recipient[] }
type AttachmentInsert = typeof attachments.$inferInsert

/** A message row about to become visible, with what to write into it. */
interface Visible {
  row: MessageRow
  analysis: Analysis
  attachments: AttachmentInsert[]
}

const DEFAULT_INLINE_MAX = 1024 * 1024
/** The queue key of messages for several tenants (written one at a time). */
const MULTI = '*'

export class Ingest {
  private readonly leaseSeconds: number
  private readonly concurrency: number
  private readonly inlineMaxBytes: number
  private readonly maxBatch: number
  private readonly committers: number
  // Background parsing of large messages (and of pending messages a dead process left behind).
  private readonly queue: { tenantId: string; rawId: string }[] = []
  private readonly queued = new Set<string>()
  private active = 0
  // The group commit: per tenant, accepted messages wait while that tenant's previous batch commits.
  private readonly waiting = new Map<string, Item[]>()
  private readonly committing = new Set<string>()
  private inFlight = 0
  private idleWaiters: (() => void)[] = []
  private sweeper: NodeJS.Timeout | null = null
  private stopped = false
  // Parses wait here, tenants taking turns, so one tenant's flood of (slow) mail cannot queue ahead
  // of another tenant's next message: the parse sits before the sender's 250.
  private readonly parseQueue: FairQueue

  constructor(private readonly o: IngestOptions) {
    this.leaseSeconds = o.leaseSeconds ?? 60
    this.concurrency = o.concurrency ?? 8
    this.inlineMaxBytes = o.inlineMaxBytes ?? DEFAULT_INLINE_MAX
    this.maxBatch = o.maxBatch ?? 64
    this.committers = o.committers ?? 4
    // A parser that does not say how many parses it runs at once takes them all as they come.
    this.parseQueue = new FairQueue(o.parser.threads ?? Number.POSITIVE_INFINITY)
  }

  /** Parses waiting for their tenant's turn at the parse threads. */
  get parsesWaiting(): number {
    return this.parseQueue.waiting
  }

  /**
   * Stores one accepted message for every recipient: the raw bytes once per tenant (each copy
   * encrypted under its own tenant's key) and a message row per inbox, parsed, threaded and
   * announced (or, for a large message, pending with a leased parse job). Resolves only after commit.
   */
  async accept(recipients: Recipient[], raw: Buffer, env: Envelope): Promise<Stored[]> {
    const byTenant = new Map<string, Recipient[]>()
    for (const r of recipients) {
      const list = byTenant.get(r.tenantId) ?? []
      if (!list.some((x) => x.inboxId === r.inboxId)) list.push(r)
      byTenant.set(r.tenantId, list)
    }
    if (byTenant.size === 0) return []
    this.inFlight++
    try {
      const sha256 = createHash('sha256').update(raw).digest('hex')
      const tenants = [...byTenant.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      const key = tenants.length === 1 ? tenants[0]![0] : MULTI
      const analysis = raw.length <= this.inlineMaxBytes ? await this.analyse(key, raw, env, false) : null
      const stored = await new Promise<Stored[]>((resolve, reject) => {
        const list = this.waiting.get(key) ?? []
        list.push({ tenants, raw, sha256, env, analysis, resolve, reject })
        this.waiting.set(key, list)
        this.startCommitters()
      })
      if (!analysis) for (const s of stored) this.kick(s.tenantId, s.rawId)
      this.o.metrics?.messagesAccepted.inc({ direction: env.direction ?? 'inbound' }, stored.length)
      return stored
    } finally {
      this.inFlight--
      this.settle()
    }
  }

  /**
   * Parses (in the worker pool, time-limited, in `key`'s turn) and verifies one message; never
   * throws. `content`: whether to keep the decoded attachment bytes (only large messages store them).
   */
  private async analyse(key: string, bytes: Buffer, env: { remoteIp: string | null; helo: string | null; mailFrom: string | null }, content: boolean): Promise<Analysis> {
    const [parseResult, auth] = await Promise.all([
      this.parseQueue.run(key, () => this.o.parser.parse(bytes, { content })).then(
        (p) => ({ ok: true as const, p }),
        (err: unknown) => ({ ok: false as const, err: String((err as Error)?.message ?? err) }),
      ),
      this.verify(bytes, env).catch((err: unknown) => {
        this.o.log.warn('ingest: authentication checks failed', { err: String((err as Error)?.message ?? err) })
        return null
      }),
    ])
    return parseResult.ok ? { parsed: parseResult.p, parseError: null, auth } : { parsed: null, parseError: parseResult.err.slice(0, 500), auth }
  }

  /**
   * One committer per tenant with waiting messages, at most `committers` at once: whatever a tenant
   * accumulated while its previous batch committed goes into its next transaction. A flooding
   * tenant holds one committer, never all of them.
   */
  private startCommitters(): void {
    for (const key of this.waiting.keys()) {
      if (this.committing.size >= this.committers) return
      if (this.committing.has(key)) continue
      this.committing.add(key)
      void this.commitLoop(key).finally(() => {
        this.committing.delete(key)
        this.startCommitters()
      })
    }
  }

  private async commitLoop(key: string): Promise<void> {
    // Let messages that finished parsing in this same turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve))
    for (;;) {
      const list = this.waiting.get(key)
      if (!list || list.length === 0) {
        this.waiting.delete(key)
        return
      }
      const batch = list.splice(0, key === MULTI ? 1 : this.maxBatch)
      // Move to the back of the line, so other tenants' committers get their turn.
      this.waiting.delete(key)
      if (list.length) this.waiting.set(key, list)
      if (batch.length > 1) {
        try {
          const results = await this.write(batch)
          for (const item of batch) settleItem(item, results.get(item)!)
          continue
        } catch (err) {
          this.o.log.warn('ingest: batch failed, retrying its messages one by one', { size: batch.length, err: String((err as Error)?.message ?? err) })
        }
      }
      for (const item of batch) await this.writeAlone(item)
    }
  }

  private async writeAlone(item: Item): Promise<void> {
    try {
      settleItem(item, (await this.write([item])).get(item)!)
    } catch (err) {
      const unparsed = item.analysis && this.unparsedAfter(err, item.analysis)
      if (!unparsed) return item.reject(err)
      item.analysis = unparsed
      try {
        settleItem(item, (await this.write([item])).get(item)!)
      } catch (again) {
        item.reject(again)
      }
    }
  }

  /**
   * Writes a batch in one transaction; per message, what was stored or the quota that refused it. A
   * message alone whose quota refuses it throws (rolling back its copies for other tenants).
   */
  private async write(items: Item[]): Promise<Map<Item, Stored[] | QuotaError>> {
    const out = new Map<Item, Stored[] | QuotaError>()
    const tenantIds = [...new Set(items.flatMap((i) => i.tenants.map(([t]) => t)))].sort()
    await withTenant(this.o.database, { tenantId: tenantIds[0]! }, async (tx) => {
      for (const [k, tenantId] of tenantIds.entries()) {
        const parts = items.flatMap((item) => {
          const recipients = item.tenants.find(([t]) => t === tenantId)?.[1]
          return recipients && !(out.get(item) instanceof QuotaError) ? [{ item, recipients }] : []
        })
        const stored = await this.storeTenant(tx, tenantId, parts, k > 0, items.length === 1, out)
        for (const [item, s] of stored) out.set(item, [...((out.get(item) as Stored[] | undefined) ?? []), s])
      }
    })
    return out
  }

  /**
   * One tenant's part of a batch in four round trips, each a pipeline of statements sent without
   * waiting (run in the order sent, so in the lock order every writer keeps: usage, threads, inbox
   * counters, the tenant's event counter):
   * 1. reads: limits, thread lookups, whether webhooks exist (and the data key, when not cached);
   * 2. usage counters, raw copies, pending rows and jobs, threads, seq numbers and event ids;
   * 3. the parsed message rows and their attachments (received_at: each row's insertion time);
   * 4. (onParsed hooks, rarely) events, webhook deliveries, arrival notifications; then COMMIT.
   */
  private async storeTenant(tx: Tx, tenantId: string, parts: Part[], rebind: boolean, alone: boolean, out: Map<Item, Stored[] | QuotaError>): Promise<Map<Item, Stored>> {
    const stored = new Map<Item, Stored>()
    if (parts.length === 0) return stored
    const parsedOnes = parts.flatMap(({ item, recipients }) => (item.analysis?.parsed ? recipients.map((r) => ({ inboxId: r.inboxId, p: item.analysis!.parsed! })) : []))
    const lookup = threadLookups(parsedOnes)
    const [[, limitRows, refHits, idHits, hookRows], cipher] = await Promise.all([
      pipelined(tx, [
        rebind && sql`select set_config('app.tenant_id', ${tenantId}, true), set_config('app.inbox_id', '', true)`,
        limitChain(tenantId),
        lookup.referred,
        lookup.referring,
        enabledWebhookProbe(),
      ]),
      this.o.crypto.cipher(tx, tenantId),
    ])
    const limits = limitsOf(limitRows!)
    const webhooksExist = hookRows!.length > 0

    // Quotas: without any, the whole batch is counted in one statement (in step 2); with some, each
    // message in a savepoint of its own first.
    const unlimited = limits.maxStoredBytes == null && limits.maxMessagesPerDay == null
    let admitted = parts
    if (!unlimited) {
      admitted = []
      for (const p of parts) {
        const kind = await this.reserve(tx, tenantId, p, limits, alone)
        if (kind) out.set(p.item, new QuotaError(kind, tenantId))
        else admitted.push(p)
      }
      if (admitted.length === 0) return stored
    }

    const rawRowsToInsert: (typeof rawMessages.$inferInsert)[] = []
    const visible: Visible[] = []
    const pending: (typeof messages.$inferInsert)[] = []
    const jobRows: { tenantId: string; id: string; kind: string; refId: string }[] = []
    const bytesOf = new Map<string, Buffer>()
    for (const { item, recipients } of admitted) {
      const rawId = newUuid()
      const { raw, env } = item
      bytesOf.set(rawId, raw)
      rawRowsToInsert.push({
        tenantId,
        id: rawId,
        dataEnc: cipher.seal(ctx.raw(rawId), raw),
        size: raw.length,
        sha256: item.sha256,
        mailFrom: env.mailFrom,
        remoteIp: env.remoteIp,
        helo: env.helo,
      })
      const ids: string[] = []
      for (const r of recipients) {
        const base = {
          tenantId,
          id: newUuid(),
          inboxId: r.inboxId,
          rawId,
          direction: env.direction ?? ('inbound' as const),
          status: 'received',
          size: raw.length,
          toAddresses: [r.address],
          hidden: r.hidden ?? false,
        }
        ids.push(base.id)
        if (item.analysis) visible.push(prepare(cipher, emptyRow(base), item.analysis))
        else pending.push(base)
      }
      if (!item.analysis) jobRows.push({ tenantId, id: newUuid(), kind: 'ingest', refId: rawId })
      stored.set(item, { tenantId, rawId, messageIds: ids })
    }
    const lease = sql`now() + make_interval(secs => ${this.leaseSeconds})`
    const eventSeqs = await numberVisible(tx, cipher, tenantId, visible, readThreadLookups(refHits!, idHits!), [
      unlimited && countStoredUnlimited(tenantId, usageOf(admitted), admitted.reduce((n, p) => n + p.item.raw.length, 0), utcDay(new Date())),
      bulkInsert(rawMessages, rawRowsToInsert),
      pending.length > 0 && tx.insert(messages).values(pending),
      jobRows.length > 0 && tx.insert(jobs).values(jobRows.map((j) => ({ ...j, lockedUntil: lease }))),
    ])

    const rows = visible.length ? await insertVisible(tx, visible) : []
    await this.announce(tx, cipher, tenantId, visible, rows, eventSeqs, webhooksExist, bytesOf)
    return stored
  }

  /** A quota-bound tenant's reservation for one message: null, or the quota that refused it. */
  private async reserve(tx: Tx, tenantId: string, p: Part, limits: TenantLimits, alone: boolean): Promise<'storage' | 'daily' | null> {
    const day = utcDay(new Date())
    const run = async (t: Tx) => {
      const perInbox = p.recipients.map((r) => ({ inboxId: r.inboxId, bytes: p.item.raw.length }))
      const totals = await reserveStorage(t, tenantId, perInbox, p.item.raw.length, limits.maxStoredBytes)
      if (!totals) throw new QuotaError('storage', tenantId)
      if (!(await countReceived(t, tenantId, p.recipients.map((r) => r.inboxId), day, limits.maxMessagesPerDay))) throw new QuotaError('daily', tenantId)
      await snapshotStorage(t, tenantId, totals, day)
    }
    if (alone) {
      await run(tx)
      return null
    }
    try {
      await tx.transaction((sp) => run(sp as unknown as Tx))
      return null
    } catch (err) {
      if (err instanceof QuotaError) return err.kind
      throw err
    }
  }

  /** The onParsed hook (in savepoints), then the events, webhook deliveries and notifications. */
  private async announce(
    tx: Tx,
    cipher: Cipher,
    tenantId: string,
    visible: Visible[],
    rows: MessageRow[],
    eventSeqs: number[],
    webhooksExist: boolean,
    bytesOf: Map<string, Buffer>,
  ): Promise<void> {
    for (const row of rows) this.o.metrics?.messagesParsed.inc({ status: row.parseStatus })
    const onParsed = this.o.onParsed
    if (onParsed) {
      for (const [i, v] of visible.entries()) {
        const p = v.analysis.parsed
        if (!p || v.row.direction !== 'inbound' || !(this.o.onParsedWants?.(p) ?? true)) continue
        try {
          await tx.transaction((sp) => onParsed(sp as unknown as Tx, cipher, tenantId, rows[i]!, p, bytesOf.get(v.row.rawId)!))
        } catch (err) {
          this.o.log.warn('ingest: onParsed failed, message stored without it', { rawId: v.row.rawId, err: String((err as Error)?.message ?? err) })
        }
      }
    }
    const shown = rows.flatMap((row, i) => (row.hidden ? [] : [{ row, atts: visible[i]!.attachments }]))
    if (shown.length === 0) return
    const notifications = shown.map(({ row }, i) => arrivalPayload({ tenantId, inboxId: row.inboxId, seq: row.seq!, eventSeq: eventSeqs[i]! }))
    const items = shown.map(({ row, atts }) => ({ inboxId: row.inboxId, data: { message: summaryToWire(row, atts.map(attachmentMeta), cipher) } }))
    await pipelined(tx, [
      insertEvents(cipher, tenantId, 'message.received', eventSeqs, items),
      // One text for any batch size (an array parameter), so one prepared statement per connection.
      sql`select pg_notify(${MAIL_CHANNEL}, p) from unnest(${sql.param(notifications)}::text[]) as p`,
    ])
    if (webhooksExist) await fanOutEvents(tx, cipher, tenantId, 'message.received', eventSeqs, items)
  }

  /** Schedules the background parse of one stored, pending message in this process. */
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
          this.settle()
          this.pump()
        })
    }
  }

  private get busy(): boolean {
    return this.active > 0 || this.queue.length > 0 || this.inFlight > 0
  }

  private settle() {
    if (!this.busy) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves when nothing is being accepted, queued or parsed (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
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
        // While the database is away, one line at most (the sweep tries again on its own).
        if (!this.stopped && !isConnectionError(err)) this.o.log.warn('ingest sweep failed', { err: String(err) })
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

  /** The background parse of a pending message: load, parse and verify, then make it visible. */
  async process(tenantId: string, rawId: string): Promise<void> {
    const { database } = this.o
    const loaded = await withTenant(database, { tenantId }, async (tx) => {
      const [raw] = await tx.select().from(rawMessages).where(eq(rawMessages.id, rawId))
      if (!raw) return null
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      return { raw, bytes: cipher.open(ctx.raw(rawId), raw.dataEnc) }
    })
    if (!loaded) {
      await withTenant(database, { tenantId }, (tx) => tx.delete(jobs).where(parseJobOf(rawId)))
      return
    }
    const analysis = await this.analyse(tenantId, loaded.bytes, loaded.raw, true)
    try {
      await this.finish(tenantId, rawId, analysis, loaded.bytes)
    } catch (err) {
      const unparsed = this.unparsedAfter(err, analysis, rawId)
      if (!unparsed) throw err
      await this.finish(tenantId, rawId, unparsed, loaded.bytes)
    }
  }

  /**
   * Parsed content the database refuses (a data error, not a lost connection) would fail the same
   * way on every retry: the analysis to store the message with instead, unparsed and flagged (null:
   * not that case, the error stands).
   */
  private unparsedAfter(err: unknown, a: Analysis, rawId?: string): Analysis | null {
    if (!a.parsed || !isDataError(err)) return null
    const reason = String((err as { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? err).slice(0, 300)
    this.o.log.warn('ingest: parsed content could not be stored, keeping the message unparsed', { rawId, err: reason })
    return { parsed: null, parseError: `parsed content could not be stored: ${reason}`, auth: a.auth }
  }

  /** Makes the pending copies of one raw message visible (the background road's commit). */
  private async finish(tenantId: string, rawId: string, analysis: Analysis, bytes: Buffer): Promise<void> {
    await withTenant(this.o.database, { tenantId }, async (tx) => {
      const pending = await tx
        .select()
        .from(messages)
        .where(and(eq(messages.rawId, rawId), eq(messages.parseStatus, 'pending')))
        .orderBy(messages.inboxId)
        .for('update')
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      const p = analysis.parsed
      const lookup = threadLookups(p ? pending.map((m) => ({ inboxId: m.inboxId, p })) : [])
      const [refHits, idHits, hookRows] = await pipelined(tx, [lookup.referred, lookup.referring, enabledWebhookProbe()])
      const visible = pending.map((m) => prepare(cipher, m, analysis))
      const eventSeqs = await numberVisible(tx, cipher, tenantId, visible, readThreadLookups(refHits!, idHits!), [])
      const rows: MessageRow[] = []
      for (const { tenantId: _t, id, inboxId: _i, rawId: _r, receivedAt: _a, ...content } of visible.map((v) => v.row)) {
        const [row] = await tx
          .update(messages)
          .set({ ...content, updatedAt: sql`now()` })
          .where(eq(messages.id, id))
          .returning()
        rows.push(row!)
      }
      const atts = visible.flatMap((v) => v.attachments)
      await pipelined(tx, [atts.length > 0 && bulkInsert(attachments, atts), tx.delete(jobs).where(parseJobOf(rawId))])
      await this.announce(tx, cipher, tenantId, visible, rows, eventSeqs, hookRows!.length > 0, new Map([[rawId, bytes]]))
    })
  }

  private async verify(bytes: Buffer, raw: { remoteIp: string | null; helo: string | null; mailFrom: string | null }): Promise<AuthResults | null> {
    if (!this.o.resolver || !raw.remoteIp) return null
    return verifyMessage(bytes, { ip: raw.remoteIp, helo: raw.helo ?? '', mailFrom: raw.mailFrom ?? '', resolver: this.o.resolver })
  }
}

/** The background parse job of one raw message. */
const parseJobOf = (rawId: string) => and(eq(jobs.kind, 'ingest'), eq(jobs.refId, rawId))

function settleItem(item: Item, result: Stored[] | QuotaError): void {
  if (result instanceof QuotaError) item.reject(result)
  else item.resolve(result)
}

function usageOf(parts: Part[]): Map<string, { bytes: number; messages: number }> {
  const perInbox = new Map<string, { bytes: number; messages: number }>()
  for (const { item, recipients } of parts) {
    for (const r of recipients) {
      const v = perInbox.get(r.inboxId) ?? { bytes: 0, messages: 0 }
      v.bytes += item.raw.length
      v.messages++
      perInbox.set(r.inboxId, v)
    }
  }
  return perInbox
}

/** A message row as inserted before parsing (the columns' defaults, in memory). */
function emptyRow(base: Pick<MessageRow, 'tenantId' | 'id' | 'inboxId' | 'rawId' | 'direction' | 'status' | 'size' | 'toAddresses' | 'hidden'>): MessageRow {
  const now = new Date()
  return {
    ...base,
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
    receivedAt: now,
    updatedAt: now,
  }
}

/** The content of one message row as it will be stored (encrypted), and its attachment rows. */
function prepare(cipher: Cipher, m: MessageRow, a: Analysis): Visible {
  const p = a.parsed
  const auth = a.auth ? { spf: a.auth.spf, dkim: a.auth.dkim, dmarc: a.auth.dmarc } : null
  if (!p) return { row: { ...m, parseStatus: 'failed', parseError: a.parseError ?? 'unparseable', auth }, analysis: a, attachments: [] }
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
  return { row, analysis: a, attachments: atts }
}

/**
 * Inserts parsed rows with their attachments (one round trip); received_at is each row's own
 * insertion time, distinct within a batch and as close to the commit as the transaction allows.
 */
async function insertVisible(tx: Tx, visible: Visible[]): Promise<MessageRow[]> {
  const atts = visible.flatMap((v) => v.attachments)
  const [times] = await pipelined(tx, [
    bulkInsert(
      messages,
      visible.map((v) => v.row),
      {
        extra: [
          { name: 'received_at', expr: 'clock_timestamp()' },
          { name: 'updated_at', expr: 'clock_timestamp()' },
        ],
        returning: 'id, (extract(epoch from received_at) * 1000)::float8 as ms',
      },
    ),
    atts.length > 0 && bulkInsert(attachments, atts),
  ])
  const at = new Map(times!.map((t) => [t.id as string, new Date(Number(t.ms))]))
  return visible.map(({ row }) => ({ ...row, receivedAt: at.get(row.id)!, updatedAt: at.get(row.id)! }))
}

const attachmentMeta = (a: AttachmentInsert) => ({
  id: a.id,
  messageId: a.messageId,
  filename: a.filename ?? null,
  contentType: a.contentType,
  size: a.size,
  contentId: a.contentId ?? null,
  inline: a.inline ?? false,
})

const refsOf = (p: ParsedMessage) => [...new Set([p.inReplyTo, ...p.references].filter((r): r is string => !!r))].slice(-50)
const threadKey = (inboxId: string, id: string) => `${inboxId} ${id}`

interface ThreadLookups {
  /** inbox + Message-ID of a stored message -> its thread */
  referred: Map<string, string>
  /** inbox + an id a stored message refers to -> that message's thread (a reply may arrive first) */
  referring: Map<string, string>
}

/**
 * The stored messages the given ones refer to, and those that refer to them: two statements for all,
 * each served by an index (its cost follows the matches, not the size of the inboxes). Array
 * parameters: one statement text whatever the batch holds (one prepared statement each).
 */
function threadLookups(list: { inboxId: string; p: ParsedMessage }[]): { referred: SQL | null; referring: SQL | null } {
  // (inbox, Message-ID referred to), looked up on messages_inbox_msgid_idx.
  const referred = pairsOf(list.flatMap(({ inboxId, p }) => refsOf(p).map((r): [string, string] => [inboxId, r])))
  // (inbox, own Message-ID), looked up on message_refs (migration 0014).
  const referring = pairsOf(list.flatMap(({ inboxId, p }) => (p.messageId ? [[inboxId, p.messageId] as [string, string]] : [])))
  return {
    referred: referred
      ? sql`select m.inbox_id, m.message_id_header, m.thread_id from ${referred}
            join ${messages} m on m.inbox_id = q.inbox_id and m.message_id_header = q.ref
            where m.thread_id is not null`
      : null,
    referring: referring
      ? sql`select m.inbox_id, m.in_reply_to, m."references", m.thread_id from ${referring}
            join ${messageRefs} r on r.inbox_id = q.inbox_id and r.ref = q.ref
            join ${messages} m on m.tenant_id = r.tenant_id and m.id = r.message_id
            where m.thread_id is not null`
      : null,
  }
}

/** Distinct (inbox, Message-ID) pairs as a table `q(inbox_id, ref)`; null when there are none. */
function pairsOf(pairs: [string, string][]): SQL | null {
  const distinct = [...new Map(pairs.map(([inboxId, ref]) => [threadKey(inboxId, ref), [inboxId, ref] as const])).values()]
  if (distinct.length === 0) return null
  return sql`unnest(${sql.param(distinct.map(([i]) => i))}::uuid[], ${sql.param(distinct.map(([, r]) => r))}::text[]) as q(inbox_id, ref)`
}

function readThreadLookups(refHits: Record<string, unknown>[], idHits: Record<string, unknown>[]): ThreadLookups {
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

interface ThreadPlan {
  added: Map<string, { inboxId: string; subject: string | null; count: number }>
  grown: Map<string, number>
}

/**
 * The thread of each parsed message in its inbox, in order (sets row.threadId): the thread of any
 * message it refers to (stored or earlier in the list), else of a message that refers to it, else
 * a new one.
 */
function planThreads(visible: Visible[], { referred, referring }: ThreadLookups): ThreadPlan {
  const added = new Map<string, { inboxId: string; subject: string | null; count: number }>()
  const grown = new Map<string, number>()
  for (const v of visible) {
    const p = v.analysis.parsed
    if (!p) continue
    const { inboxId } = v.row
    const refs = refsOf(p)
    let threadId: string | undefined
    for (const r of refs) if (!threadId) threadId = referred.get(threadKey(inboxId, r))
    if (!threadId && p.messageId) threadId = referring.get(threadKey(inboxId, p.messageId))
    if (threadId) {
      const fresh = added.get(threadId)
      if (fresh) fresh.count++
      else grown.set(threadId, (grown.get(threadId) ?? 0) + 1)
    } else {
      threadId = newUuid()
      added.set(threadId, { inboxId, subject: p.subject?.replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, '') ?? null, count: 1 })
    }
    v.row.threadId = threadId
    // Later messages in the list find this one as if it were stored.
    if (p.messageId && !referred.has(threadKey(inboxId, p.messageId))) referred.set(threadKey(inboxId, p.messageId), threadId)
    for (const r of refs) if (!referring.has(threadKey(inboxId, r))) referring.set(threadKey(inboxId, r), threadId)
  }
  return { added, grown }
}

/** New threads, and the grown ones' counts (in id order), as statements. */
function threadWrites(cipher: Cipher, tenantId: string, { added, grown }: ThreadPlan): (SQLWrapper | false)[] {
  const counts = [...grown].sort(([a], [b]) => (a < b ? -1 : 1))
  return [
    added.size > 0 &&
      bulkInsert(
        threads,
        [...added].map(([id, t]) => ({ tenantId, id, inboxId: t.inboxId, subjectEnc: cipher.sealNullable(ctx.threadSubject(id), t.subject), messageCount: t.count })),
      ),
    counts.length > 0 &&
      sql`update ${threads} t set message_count = t.message_count + v.n, last_message_at = greatest(t.last_message_at, now())
          from unnest(${sql.param(counts.map(([id]) => id))}::uuid[], ${sql.param(counts.map(([, n]) => n))}::int[]) as v(id, n)
          where t.id = v.id`,
  ]
}

/**
 * The writes both roads share, pipelined after `first` (in the lock order: whatever `first` locks,
 * then threads, inbox counters, the tenant's event counter): threads placed and written, each
 * shown row's seq set, event ids taken. Returns the event ids of the shown rows, in order.
 */
async function numberVisible(
  tx: Tx,
  cipher: Cipher,
  tenantId: string,
  visible: Visible[],
  lookups: ThreadLookups,
  first: (SQLWrapper | false)[],
): Promise<number[]> {
  const plan = planThreads(visible, lookups)
  const shown = visible.filter((v) => !v.row.hidden)
  const seqs = seqStatement(shown.map((v) => v.row.inboxId))
  const written = await pipelined(tx, [
    ...first,
    ...threadWrites(cipher, tenantId, plan),
    seqs.statement,
    shown.length > 0 && reserveEventSeqs(tenantId, shown.length),
  ])
  seqs.assign(written.at(-2)!, shown)
  return shown.length ? eventSeqsOf(written.at(-1)!, shown.length) : []
}

/**
 * Takes the next arrival numbers of the inboxes (one per entry, in order), locking the inbox rows
 * in id order until commit: the commit order is the seq order, which waits rely on.
 */
function seqStatement(inboxIds: string[]): { statement: SQL | false; assign(rows: Record<string, unknown>[], shown: Visible[]): void } {
  const counts = new Map<string, number>()
  for (const id of inboxIds) counts.set(id, (counts.get(id) ?? 0) + 1)
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : 1))
  const ids = sorted.map(([id]) => id)
  const statement =
    sorted.length > 0 &&
    sql`with locked as materialized (select id from ${inboxes} where id = any(${sql.param(ids)}::uuid[]) order by id for update)
        update ${inboxes} i set last_seq = i.last_seq + v.n
        from locked l join unnest(${sql.param(ids)}::uuid[], ${sql.param(sorted.map(([, n]) => n))}::int[]) as v(id, n) on v.id = l.id
        where i.id = l.id returning i.id, i.last_seq`
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

/** Postgres data exceptions (22xxx) and limits such as an index row too large (54xxx). */
function isDataError(err: unknown): boolean {
  return /^(22|54)/.test(pgErrorCode(err) ?? '')
}

export const publicMessageId = (id: string) => toPublicId('message', id)
