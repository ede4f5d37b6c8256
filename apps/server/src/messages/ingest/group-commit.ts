// The group commit: messages accepted at the same time for the same tenant share one transaction
// (a handful of statements per batch instead of some forty per message), and the sender of each
// gets its 250 only after that transaction commits. Each tenant's batches are written by one
// committer at a time, at most `committers` tenants at once: a flooding tenant holds one committer,
// never all of them. Messages for several tenants go alone, every tenant's copy in one transaction.
import { sql, type SQLWrapper } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { boundToTenant, tenantBinding, withTenantPipelined, type BindingOptions } from '../../db/scope.js'
import { fused, pipelined } from '../../db/pipeline.js'
import { bulkInsert } from '../../db/bulk.js'
import type { TenantLimits } from '@mailroom/contract'
import { newUuid } from '../../lib/ids.js'
import { systemClock } from '../../lib/clock.js'
import { jobs } from '../../jobs/tables.js'
import { enabledWebhookProbe } from '../../events/service.js'
import { limitChain, limitsOf } from '../../tenancy/service.js'
import { countReceived, countStoredUnlimited, reserveStorage, snapshotStorage, utcDay } from '../../usage/service.js'
import { ctx } from '../service.js'
import { messages, rawMessages } from '../tables.js'
import { readThreadLookups, threadLookups } from '../threading.js'
import type { Analyzer } from './analysis.js'
import { announce, tellingWaiters } from './announce.js'
import type { Arrival } from '../../events/hub.js'
import { emptyRow, insertVisible, prepare, visibleInsert } from './rows.js'
import { numberVisible } from './sequence.js'
import { judge, safetyContext, safetyReads } from './verdicts.js'
import { QuotaError, type IngestOptions, type Item, type Part, type Stored, type Visible } from './types.js'

/** The queue key of messages for several tenants (written one at a time). */
export const MULTI = '*'

/**
 * For the rest of the batch's transaction, each prepared statement runs the plan it cached (its
 * triggers' and functions' too) instead of being planned again: batches differ in how many rows their
 * array and JSON parameters hold, which a plan made with the values knows and the generic one does
 * not, so Postgres judged the generic plans dearer and planned every statement of every batch anew
 * (the batch's fused read: 0.85 ms of planning for 0.37 ms of execution, every batch, in the ingest
 * bench). Every statement of a batch reads and writes by key and tenant, where the values choose no
 * other plan. A generic plan outlives the statistics it was made with, so the binding also turns seq
 * scans off for the transaction, and the thread lookups go pair by pair (threading.ts): a plan made
 * while the tables were small once read all of message_refs on every batch (bench/README, 2026-12-05
 * midday). Set by the binding's own statement (db/scope.ts, BindingOptions): no statement of its own.
 * Not on Citus, whose coordinator plans a distributed statement once it knows the shard (with a
 * generic plan forced: "could not create distributed plan"); there every statement is planned with
 * its values (plan_cache_mode, set for the database by db/migrate.ts).
 */
const bindingOptions = (citus: boolean): BindingOptions => ({ genericPlans: !citus })

/** A batch transaction's steps (mailroom_ingest_batch_seconds), in ms: summed over its tenants' parts. */
interface Steps {
  reads: number
  writes: number
  /** When the last tenant's writes were answered (performance.now()). */
  written: number
  messages: number
}

/** What one tenant's part of a batch came to: per message, its stored copy, or the quota that refused it. */
interface TenantResult {
  stored: Map<Item, Stored>
  refused: Map<Item, QuotaError>
  /** What became visible, for this process's waiters once the transaction commits. */
  arrivals: Arrival[]
}

export class GroupCommit {
  private readonly waiting = new Map<string, Item[]>()
  private readonly committing = new Set<string>()
  /** Per key: messages being analysed that will be enqueued under it (the batch may wait for them). */
  private readonly coming = new Map<string, number>()
  private readonly gathered = new Map<string, () => void>()
  private readonly maxBatch: number
  private readonly gatherMs: number
  private readonly committers: number
  private readonly leaseSeconds: number
  /** Statements fused here go one by one on Citus (db/pipeline.ts). */
  private readonly citus: boolean

  constructor(
    private readonly o: IngestOptions,
    private readonly analyzer: Analyzer,
  ) {
    this.maxBatch = o.maxBatch ?? 64
    this.committers = o.committers ?? 4
    this.leaseSeconds = o.leaseSeconds ?? 60
    this.gatherMs = o.gatherMs ?? 20
    this.citus = o.database.citus === true
  }

  /**
   * Announces a message under `key` that is still being analysed: a batch about to be written for
   * that key waits (at most gatherMs) for it, so concurrent messages share one transaction instead
   * of each paying its own. The returned function withdraws it (when it fails before enqueue).
   */
  expect(key: string): () => void {
    this.coming.set(key, (this.coming.get(key) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (this.coming.get(key) ?? 1) - 1
      if (left > 0) this.coming.set(key, left)
      else this.coming.delete(key)
      if (left <= 0) this.gathered.get(key)?.()
    }
  }

  /** Waits, at most gatherMs, until no message announced under `key` is still being analysed. */
  private gather(key: string): Promise<void> | undefined {
    if (this.gatherMs <= 0 || key === MULTI || !this.coming.get(key)) return undefined
    if ((this.waiting.get(key)?.length ?? 0) >= this.maxBatch) return undefined
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, this.gatherMs)
      const gathered = this.gathered
      function finish() {
        clearTimeout(timer)
        gathered.delete(key)
        resolve()
      }
      gathered.set(key, finish)
    })
  }

  /** Queues an item under `key` (its tenant, or MULTI); it settles once committed (or refused). */
  enqueue(key: string, item: Item): void {
    const list = this.waiting.get(key) ?? []
    list.push(item)
    this.waiting.set(key, list)
    if (list.length >= this.maxBatch) this.gathered.get(key)?.()
    this.startCommitters()
  }

  /** One committer per tenant with waiting messages, at most `committers` at once. */
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
      await this.gather(key)
      const list = this.waiting.get(key)
      if (!list || list.length === 0) {
        this.waiting.delete(key)
        return
      }
      const batch = list.splice(0, key === MULTI ? 1 : this.maxBatch)
      const takenAt = performance.now()
      for (const item of batch) item.takenAt = takenAt
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
      const unparsed = item.analysis && this.analyzer.unparsedAfter(err, item.analysis)
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
    let steps: Steps
    // Once committed, this process's waiters hear of it at once, not after the notification's round trip.
    await tellingWaiters(this.o, (tell) =>
      withTenantPipelined(
        this.o.database,
        { tenantId: tenantIds[0]! },
        async (tx, bind) => {
          // (A transaction tried again, its BEGIN having found the connection dead, counts anew.)
          steps = { reads: 0, writes: 0, written: 0, messages: 0 }
          const arrivals: Arrival[] = []
          // The first tenant's binding (with the transaction's plan mode) goes with its first statements; the next ones rebind.
          for (const [k, tenantId] of tenantIds.entries()) {
            const parts = items.flatMap((item) => {
              const recipients = item.tenants.find(([t]) => t === tenantId)?.[1]
              return recipients && !(out.get(item) instanceof QuotaError) ? [{ item, recipients }] : []
            })
            if (k > 0) boundToTenant(tx, tenantId)
            const result = await this.storeTenant(tx, { tenantId, parts, bind: k === 0 ? bind : tenantBinding({ tenantId }, this.citus), alone: items.length === 1, steps })
            for (const [item, refusal] of result.refused) out.set(item, refusal)
            for (const [item, s] of result.stored) out.set(item, [...((out.get(item) as Stored[] | undefined) ?? []), s])
            arrivals.push(...result.arrivals)
          }
          tell(arrivals)
        },
        bindingOptions(this.citus),
      ),
    )
    this.observe(steps!)
    return out
  }

  /** A committed batch's steps and size. */
  private observe(steps: Steps): void {
    const m = this.o.metrics
    if (!m || steps.messages === 0) return
    m.ingestBatchSteps.observe({ step: 'reads' }, steps.reads / 1000)
    m.ingestBatchSteps.observe({ step: 'writes' }, steps.writes / 1000)
    m.ingestBatchSteps.observe({ step: 'commit' }, Math.max(0, performance.now() - steps.written) / 1000)
    m.ingestBatchMessages.observe(steps.messages)
  }

  /**
   * One tenant's part of a batch in three round trips, each a pipeline of statements sent without
   * waiting (run in the order sent, so in the lock order every writer keeps: usage, threads, inbox
   * counters, the tenant's event counter):
   * 1. reads, as one statement: limits, policies, domains, thread lookups, whether webhooks exist
   *    (and the data key, when not cached);
   * 2. usage counters, pending rows and jobs (with the raw copies they need), threads, contacts,
   *    seq numbers and event ids, then the parsed message rows with their raw copies, attachments
   *    and search terms as one statement (each row's seq read from its inbox's counter as the
   *    numbering left it; received_at: each row's insertion time);
   * 3. (onParsed hooks, rarely) events with their arrival notifications, webhook deliveries; COMMIT.
   * On Citus the statements fused here go one by one (db/pipeline.ts), and the parsed rows in a
   * round trip of their own, after the numbering.
   * `bind`: the statements that bind the transaction to this tenant, sent first (withTenantPipelined's
   * with the plan mode, or a rebind when the transaction began with another tenant of the batch);
   * `alone`: the batch is this one message (a quota refusal may then fail the transaction instead of
   * a savepoint).
   */
  private async storeTenant(tx: Tx, job: { tenantId: string; parts: Part[]; bind: SQLWrapper[]; alone: boolean; steps: Steps }): Promise<TenantResult> {
    const { tenantId, parts } = job
    const result: TenantResult = { stored: new Map(), refused: new Map(), arrivals: [] }
    if (parts.length === 0) {
      await pipelined(tx, job.bind)
      return result
    }
    const parsedOnes = parts.flatMap(({ item, recipients }) => (item.analysis?.parsed ? recipients.map((r) => ({ inboxId: r.inboxId, h: item.analysis!.parsed! })) : []))
    const lookup = threadLookups(tenantId, parsedOnes, this.citus)
    const reads = safetyReads(tenantId, parsedOnes.map((x) => x.inboxId))
    // The reads as one statement (on Citus, one each), after the binding.
    const batchReads = fused(
      [
        limitChain(tenantId),
        lookup.referred,
        lookup.referring,
        enabledWebhookProbe(tenantId),
        parsedOnes.length > 0 && reads.chain,
        reads.inboxPolicies,
        parsedOnes.length > 0 && reads.tenantDomains,
      ],
      this.citus,
    )
    const asked = performance.now()
    const answers = await pipelined(tx, [...job.bind, ...batchReads.statements])
    const answered = performance.now()
    job.steps.reads += answered - asked
    // After the binding (the data key is read under the tenant's policy when not cached).
    const cipher = await this.o.crypto.cipher(tx, tenantId)
    const [limitRows, refHits, idHits, hookRows, chainRows, inboxPolicyRows, domainRows] = batchReads.split(answers.slice(job.bind.length))
    const safety = safetyContext(this.o.platformDomain, { chain: chainRows!, inboxPolicies: inboxPolicyRows!, tenantDomains: domainRows! })
    const limits = limitsOf(limitRows!)
    const now = (this.o.clock ?? systemClock).now()

    // Quotas: without any, the whole batch is counted in one statement (in step 2); with some, each
    // message in a savepoint of its own first.
    const unlimited = limits.maxStoredBytes == null && limits.maxMessagesPerDay == null
    let admitted = parts
    if (!unlimited) {
      admitted = []
      for (const p of parts) {
        const kind = await reserve(tx, tenantId, p, limits, job.alone, utcDay(now))
        if (kind) result.refused.set(p.item, new QuotaError(kind, tenantId))
        else admitted.push(p)
      }
      if (admitted.length === 0) return result
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
        if (item.analysis) {
          const v = prepare(cipher, emptyRow(base, now), item.analysis)
          judge(cipher, v, r.address, safety, now, r)
          visible.push(v)
        } else pending.push(base)
      }
      if (!item.analysis) jobRows.push({ tenantId, id: newUuid(), kind: 'ingest', refId: rawId })
      result.stored.set(item, { tenantId, rawId, messageIds: ids })
    }
    const lease = sql`now() + make_interval(secs => ${this.leaseSeconds})`
    const rawWithRows = pending.length === 0 && visible.length > 0
    // The parsed rows go in the same pipeline as the numbering, their seqs taken in SQL (one round
    // trip less); on Citus, which would plan that per row, after it.
    const raws = rawWithRows ? bulkInsert(rawMessages, rawRowsToInsert) : null
    let insert: ReturnType<typeof visibleInsert> | null = null
    const numbered = await numberVisible(
      tx,
      cipher,
      tenantId,
      visible,
      readThreadLookups(refHits!, idHits!),
      [
        unlimited && countStoredUnlimited(tenantId, usageOf(admitted), admitted.reduce((n, p) => n + p.item.raw.length, 0), utcDay(now)),
        // The raw copies go with the parsed rows (one statement less) unless pending rows need them first.
        !rawWithRows && bulkInsert(rawMessages, rawRowsToInsert),
        pending.length > 0 && tx.insert(messages).values(pending),
        jobRows.length > 0 && tx.insert(jobs).values(jobRows.map((j) => ({ ...j, lockedUntil: lease }))),
      ],
      visible.length > 0 && !this.citus ? (seqBack) => (insert = visibleInsert(visible, false, raws, seqBack)).statements : undefined,
    )
    const eventSeqs = numbered.eventSeqs
    const rows = insert ? (insert as ReturnType<typeof visibleInsert>).rows(numbered.then) : visible.length ? await insertVisible(tx, visible, this.citus, raws) : []
    job.steps.written = performance.now()
    job.steps.writes += job.steps.written - answered
    job.steps.messages += admitted.length
    result.arrivals = await announce(tx, cipher, this.o, { tenantId, visible, rows, eventSeqs, webhooksExist: hookRows!.length > 0, bytesOf })
    return result
  }
}

/** A quota-bound tenant's reservation for one message: null, or the quota that refused it. */
async function reserve(tx: Tx, tenantId: string, p: Part, limits: TenantLimits, alone: boolean, day: string): Promise<'storage' | 'daily' | null> {
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
