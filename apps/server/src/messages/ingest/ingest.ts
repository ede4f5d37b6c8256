// The ingest path shared by SMTP and internal delivery. A message is parsed and its sender checked
// while the sender waits for the answer to DATA (analysis.ts), then stored raw and parsed, threaded,
// numbered and announced in one transaction that concurrent messages of the same tenant share
// (group-commit.ts); the caller answers 250 after it commits. Large messages take the slower road:
// stored raw and pending first, parsed afterwards by a leased job (background.ts). Attachment bytes
// are stored once, inside the raw copy: a read decodes them again (../attachment-decoder.ts).
import { createHash } from 'node:crypto'
import { Analyzer, type ParseTiming } from './analysis.js'
import { BackgroundParse } from './background.js'
import { GroupCommit, MULTI } from './group-commit.js'
import type { Envelope, IngestOptions, Item, Recipient, Stored } from './types.js'

const DEFAULT_INLINE_MAX = 1024 * 1024

export class Ingest {
  private readonly inlineMaxBytes: number
  private readonly analyzer: Analyzer
  private readonly commits: GroupCommit
  private readonly background: BackgroundParse
  private inFlight = 0
  private idleWaiters: (() => void)[] = []

  constructor(private readonly o: IngestOptions) {
    this.inlineMaxBytes = o.inlineMaxBytes ?? DEFAULT_INLINE_MAX
    this.analyzer = new Analyzer({ parser: o.parser, resolver: o.resolver, log: o.log })
    this.commits = new GroupCommit(o, this.analyzer)
    this.background = new BackgroundParse(o, this.analyzer, () => this.settle())
  }

  /** Parses waiting for their tenant's turn at the parse threads. */
  get parsesWaiting(): number {
    return this.analyzer.waiting
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
      const arrived = this.commits.expect(key)
      const timing: ParseTiming = {}
      const t0 = performance.now()
      let analysis
      try {
        analysis = raw.length <= this.inlineMaxBytes ? await this.analyzer.analyse(key, raw, env, false, timing) : null
      } finally {
        arrived()
      }
      const enqueuedAt = performance.now()
      let item!: Item
      const stored = await new Promise<Stored[]>((resolve, reject) => this.commits.enqueue(key, (item = { tenants, raw, sha256, env, analysis, resolve, reject })))
      this.observeStages(t0, timing, enqueuedAt, item.takenAt)
      if (!analysis) for (const s of stored) this.background.kick(s.tenantId, s.rawId)
      this.o.metrics?.messagesAccepted.inc({ direction: env.direction ?? 'inbound' }, stored.length)
      return stored
    } finally {
      this.inFlight--
      this.settle()
    }
  }

  /** The stages of one accepted message, in seconds (mailroom_ingest_stage_seconds). */
  private observeStages(t0: number, parse: ParseTiming, enqueuedAt: number, takenAt: number | undefined): void {
    const stages = this.o.metrics?.ingestStages
    if (!stages) return
    const seconds = (from: number, to: number) => Math.max(0, to - from) / 1000
    if (parse.started !== undefined && parse.ended !== undefined) {
      stages.observe({ stage: 'parse_wait' }, seconds(t0, parse.started))
      stages.observe({ stage: 'parse' }, seconds(parse.started, parse.ended))
    }
    if (takenAt !== undefined) {
      stages.observe({ stage: 'batch_wait' }, seconds(enqueuedAt, takenAt))
      stages.observe({ stage: 'commit' }, seconds(takenAt, performance.now()))
    }
  }

  /** Picks up parse jobs whose lease ran out (a process died after answering 250). */
  startSweeper(intervalMs?: number): void {
    this.background.startSweeper(intervalMs)
  }

  private get busy(): boolean {
    return this.background.busy || this.inFlight > 0
  }

  private settle() {
    if (!this.busy) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves when nothing is being accepted, queued or parsed (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  async stop(): Promise<void> {
    this.background.stop()
    await this.idle()
  }
}
