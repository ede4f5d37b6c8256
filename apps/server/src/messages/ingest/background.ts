// The slower road, for messages over the inline limit: stored raw and pending first (the sender has
// its 250 by then), parsed afterwards under a leased job, then made visible in a transaction of its
// own. A process that dies mid-parse leaves the job to expire; the sweeper (of any process) takes it
// over. Large messages keep a decoded copy of their attachments, so a read re-parses no megabytes.
import { and, eq, sql } from 'drizzle-orm'
import { rawRows } from '../../db/client.js'
import { withTenant, withoutTenant } from '../../db/scope.js'
import { pipelined } from '../../db/pipeline.js'
import { bulkInsert } from '../../db/bulk.js'
import { isConnectionError } from '../../db/health.js'
import { jobs } from '../../jobs/tables.js'
import { enabledWebhookProbe } from '../../events/service.js'
import { ctx } from '../service.js'
import { attachments, messages, messageSearch, rawMessages, type MessageRow } from '../tables.js'
import { readThreadLookups, threadLookups } from '../threading.js'
import type { Analyzer } from './analysis.js'
import { announce, tellingWaiters } from './announce.js'
import { prepare } from './rows.js'
import { numberVisible } from './sequence.js'
import { judge, safetyContext, safetyReads } from './verdicts.js'
import { inboundRulesOf, senderRulesAfterData, type InboundRule } from '../../rules/service.js'
import { systemClock } from '../../lib/clock.js'
import type { Analysis, IngestOptions } from './types.js'

/** The background parse job of one raw message. */
export const parseJobOf = (rawId: string) => and(eq(jobs.kind, 'ingest'), eq(jobs.refId, rawId))

export class BackgroundParse {
  private readonly queue: { tenantId: string; rawId: string }[] = []
  private readonly queued = new Set<string>()
  private active = 0
  private readonly concurrency: number
  private readonly leaseSeconds: number
  private sweeper: NodeJS.Timeout | null = null
  private stopped = false

  constructor(
    private readonly o: IngestOptions,
    private readonly analyzer: Analyzer,
    /** Told when the last queued parse has finished (for idle()). */
    private readonly onSettled: () => void,
  ) {
    this.concurrency = o.concurrency ?? 8
    this.leaseSeconds = o.leaseSeconds ?? 60
  }

  get busy(): boolean {
    return this.active > 0 || this.queue.length > 0
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
          this.onSettled()
          this.pump()
        })
    }
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
        // While the database is away, no line per sweep (the sweep tries again on its own).
        if (!this.stopped && !isConnectionError(err)) this.o.log.warn('ingest sweep failed', { err: String(err) })
      }
    }
    void sweep()
    this.sweeper = setInterval(() => void sweep(), intervalMs)
    this.sweeper.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.sweeper) clearInterval(this.sweeper)
    this.queue.length = 0
  }

  /** The background parse of a pending message: load, parse and verify, then make it visible. */
  async process(tenantId: string, rawId: string): Promise<void> {
    const { database } = this.o
    const loaded = await withTenant(database, { tenantId }, async (tx) => {
      const [raw] = await tx.select().from(rawMessages).where(and(eq(rawMessages.tenantId, tenantId), eq(rawMessages.id, rawId)))
      if (!raw) return null
      const cipher = await this.o.crypto.cipher(tx, tenantId)
      return { raw, bytes: cipher.open(ctx.raw(rawId), raw.dataEnc) }
    })
    if (!loaded) {
      await withTenant(database, { tenantId }, (tx) => tx.delete(jobs).where(parseJobOf(rawId)))
      return
    }
    const analysis = await this.analyzer.analyse(tenantId, loaded.bytes, loaded.raw, true)
    try {
      await this.finish(tenantId, rawId, analysis, loaded.bytes)
    } catch (err) {
      const unparsed = this.analyzer.unparsedAfter(err, analysis, rawId)
      if (!unparsed) throw err
      await this.finish(tenantId, rawId, unparsed, loaded.bytes)
    }
  }

  /** Makes the pending copies of one raw message visible (the background road's commit). */
  private async finish(tenantId: string, rawId: string, analysis: Analysis, bytes: Buffer): Promise<void> {
    await tellingWaiters(this.o, (tell) =>
      withTenant(this.o.database, { tenantId }, async (tx) => {
        const pending = await tx
          .select()
          .from(messages)
          .where(and(eq(messages.tenantId, tenantId), eq(messages.rawId, rawId), eq(messages.parseStatus, 'pending')))
          .orderBy(messages.inboxId)
          .for('update')
        const cipher = await this.o.crypto.cipher(tx, tenantId)
        const p = analysis.parsed
        const lookup = threadLookups(tenantId, p ? pending.map((m) => ({ inboxId: m.inboxId, h: p })) : [], this.o.database.citus === true)
        const reads = safetyReads(tenantId, pending.map((m) => m.inboxId))
        // Each inbox's sender rules, which its door held the envelope sender to: the copies' From is
        // held to them as on the inline road (verdicts.ts judge). A copy hidden at the door stays so.
        const inboxIds = [...new Set(pending.map((m) => m.inboxId))]
        const [refHits, idHits, hookRows, chainRows, inboxPolicyRows, domainRows, ...ruleRows] = await pipelined(tx, [
          lookup.referred,
          lookup.referring,
          enabledWebhookProbe(tenantId),
          reads.chain,
          reads.inboxPolicies,
          reads.tenantDomains,
          ...inboxIds.map((id) => inboundRulesOf(tenantId, id)),
        ])
        const afterData = new Map(inboxIds.map((id, i) => [id, senderRulesAfterData(ruleRows[i] as unknown as InboundRule[], 'accept')]))
        const safety = safetyContext(this.o.platformDomain, { chain: chainRows!, inboxPolicies: inboxPolicyRows!, tenantDomains: domainRows! })
        const now = (this.o.clock ?? systemClock).now()
        const visible = pending.map((m) => {
          const v = prepare(cipher, m, analysis)
          judge(cipher, v, m.toAddresses[0] ?? '', safety, now, m.hidden ? {} : afterData.get(m.inboxId))
          return v
        })
        const { eventSeqs } = await numberVisible(tx, cipher, tenantId, visible, readThreadLookups(refHits!, idHits!), [])
        const rows: MessageRow[] = []
        for (const { tenantId: _t, id, inboxId: _i, rawId: _r, receivedAt: _a, ...content } of visible.map((v) => v.row)) {
          const [row] = await tx
            .update(messages)
            .set({ ...content, updatedAt: sql`now()` })
            .where(and(eq(messages.tenantId, tenantId), eq(messages.id, id)))
            .returning()
          rows.push(row!)
        }
        const atts = visible.flatMap((v) => v.attachments)
        const search = visible.flatMap((v) => (v.search ? [v.search] : []))
        await pipelined(tx, [
          atts.length > 0 && bulkInsert(attachments, atts),
          search.length > 0 && bulkInsert(messageSearch, search),
          tx.delete(jobs).where(parseJobOf(rawId)),
        ])
        tell(await announce(tx, cipher, this.o, { tenantId, visible, rows, eventSeqs, webhooksExist: hookRows!.length > 0, bytesOf: new Map([[rawId, bytes]]) }))
      }),
    )
  }
}
