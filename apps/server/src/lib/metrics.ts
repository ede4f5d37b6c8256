// Prometheus metrics of one process (prom-client, a registry of its own so that several servers in
// one test process do not share counters). Labels are bounded: routes are the route patterns, never
// paths; tenants appear only as the top few by requests in the last minute, never one series each.
import client from 'prom-client'
import { systemClock } from './clock.js'

const TOP_TENANTS = 10

export interface QueueStat {
  queue: string
  depth: number
  oldestSeconds: number
}

export interface MetricSources {
  /** Connections of the runtime pool handed out and waited for (db/gate.ts). */
  pool?: () => { slots: number; inUse: number; waiting: number; shedDeadline: number; shedQueueFull: number; up: boolean }
  /** Long-poll waits and event streams held open. */
  held?: () => { waits: number; streams: number }
  /** Outbox, webhook and parse-job queues (a query across tenants, through a narrow function). */
  queues?: () => Promise<QueueStat[]>
  /** Parses waiting for their turn at the parse threads. */
  parsesWaiting?: () => number
  /** Asks of each memory kept on change notices (db/change-feed.ts), answered from memory and from the database. */
  memories?: () => Record<string, { memory: number; database: number }>
  /** Looks long-poll waits took for new mail, at the database and in memory (events/waits.ts). */
  waitLooks?: () => { database: number; memory: number }
}

/** A gauge with one label, its values per label value read from `values` at each scrape. */
function labelled(registers: client.Registry[], name: string, help: string, label: string, values: () => Record<string, number>): void {
  new client.Gauge({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      for (const [value, n] of Object.entries(values())) this.set({ [label]: value }, n)
    },
  })
}

/**
 * A counter (`_total`) whose values are counts kept elsewhere since the process started, read at
 * each scrape: typed `counter`, so that rate() and increase() treat a restart as the reset it is.
 */
function countedElsewhere<L extends string>(registers: client.Registry[], name: string, help: string, labelNames: readonly L[], values: () => [Record<L, string>, number][]): void {
  new client.Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      // A counter only moves up: each scrape sets it anew from the counts (they never go down).
      this.reset()
      for (const [labels, n] of values()) this.inc(labels as client.LabelValues<L>, n)
    },
  })
}

/** Seconds: from a millisecond (a round trip on loopback) to ten (a stall). */
const INGEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

/** A histogram of ingest times (seconds, INGEST_BUCKETS) by one label. */
function ingestTimes<L extends string>(registry: client.Registry, name: string, help: string, label: L): client.Histogram<L> {
  return new client.Histogram({ name, help, labelNames: [label], buckets: INGEST_BUCKETS, registers: [registry] })
}

export class Metrics {
  readonly registry = new client.Registry()
  readonly httpRequests = new client.Counter({ name: 'mailroom_http_requests_total', help: 'HTTP requests answered, by route pattern and status.', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] })
  readonly httpDuration = new client.Histogram({
    name: 'mailroom_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer (long-poll waits and streams excluded).',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly smtpReplies = new client.Counter({ name: 'mailroom_smtp_replies_total', help: 'SMTP replies sent, by reply code.', labelNames: ['code'] as const, registers: [this.registry] })
  readonly smtpDropped = new client.Counter({ name: 'mailroom_smtp_connections_dropped_total', help: 'SMTP connections closed by the server, by reason.', labelNames: ['reason'] as const, registers: [this.registry] })
  readonly messagesAccepted = new client.Counter({ name: 'mailroom_messages_accepted_total', help: 'Messages stored (one per recipient tenant), by how they came.', labelNames: ['direction'] as const, registers: [this.registry] })
  readonly messagesParsed = new client.Counter({ name: 'mailroom_messages_parsed_total', help: 'Received messages made visible, by parse outcome.', labelNames: ['status'] as const, registers: [this.registry] })
  readonly ingestStages = ingestTimes(
    this.registry,
    'mailroom_ingest_stage_seconds',
    "Where a received message spends the time before its 250, by stage: waiting for a parse thread (parse_wait), parsing (parse), waiting for its batch to be written (batch_wait), and the batch's transaction until COMMIT (commit).",
    'stage',
  )
  readonly ingestBatchSteps = ingestTimes(
    this.registry,
    'mailroom_ingest_batch_seconds',
    "Where a batch's transaction (the commit stage of its messages) spends its time, by step: the round trip of its reads (reads), the round trip of its writes (writes), and its last writes with the COMMIT until this process has told its waiters (commit).",
    'step',
  )
  readonly ingestBatchMessages = new client.Histogram({
    name: 'mailroom_ingest_batch_messages',
    help: 'Messages written per batch transaction (a message for several tenants counts once per tenant).',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  })
  readonly rateLimited = new client.Counter({ name: 'mailroom_rate_limited_total', help: 'Requests refused with 429, by which limit refused them.', labelNames: ['limit'] as const, registers: [this.registry] })
  readonly processErrors = new client.Counter({ name: 'mailroom_process_errors_total', help: 'Errors no caller handled (uncaught exceptions, unhandled rejections), logged and survived.', labelNames: ['kind'] as const, registers: [this.registry] })
  private window = new Map<string, number>()
  private lastWindow: [string, number][] = []
  private windowStart = systemClock.now().getTime()

  constructor(sources: MetricSources = {}, opts: { defaults?: boolean } = {}) {
    // Event-loop lag, heap, GC, CPU, open handles: prom-client's standard process metrics.
    if (opts.defaults !== false) client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 })
    const reg = [this.registry]
    if (sources.pool) {
      const pool = sources.pool
      new client.Gauge({ name: 'mailroom_db_up', help: '1 while the database can be reached.', registers: reg, collect() { this.set(pool().up ? 1 : 0) } })
      new client.Gauge({ name: 'mailroom_db_pool_connections', help: 'Connections of the runtime pool.', registers: reg, collect() { this.set(pool().slots) } })
      new client.Gauge({ name: 'mailroom_db_pool_in_use', help: 'Connections of the runtime pool in use.', registers: reg, collect() { this.set(pool().inUse) } })
      new client.Gauge({ name: 'mailroom_db_pool_waiting', help: 'Callers waiting for a connection (tenants take turns).', registers: reg, collect() { this.set(pool().waiting) } })
      countedElsewhere(reg, 'mailroom_db_shed_total', 'Requests refused with 503 rather than wait for a connection, by reason.', ['reason'], () => {
        const p = pool()
        return [
          [{ reason: 'deadline' }, p.shedDeadline],
          [{ reason: 'queue_full' }, p.shedQueueFull],
        ]
      })
    }
    if (sources.held) {
      const held = sources.held
      labelled(reg, 'mailroom_held_requests', 'Requests held open: long-poll waits and event streams.', 'kind', () => {
        const h = held()
        return { wait: h.waits, stream: h.streams }
      })
    }
    if (sources.waitLooks) {
      const looks = sources.waitLooks
      countedElsewhere(reg, 'mailroom_wait_looks_total', 'Looks long-poll waits took for new mail: at the database (a read), or in memory (a re-poll whose cursor is current, a message this process committed).', ['at'], () =>
        Object.entries(looks()).map(([at, n]) => [{ at }, n]),
      )
    }
    if (sources.memories) {
      const memories = sources.memories
      countedElsewhere(
        reg,
        'mailroom_memory_asks_total',
        'Asks of what the server keeps in memory until a change is announced (routes, policies, tenant_limits, keys, act_as), by where they were answered: from memory (or a read in flight shared), or by a database read.',
        ['memory', 'answered'],
        () =>
          Object.entries(memories()).flatMap(([memory, c]) => [
            [{ memory, answered: 'memory' }, c.memory],
            [{ memory, answered: 'database' }, c.database],
          ]),
      )
    }
    if (sources.parsesWaiting) {
      const waiting = sources.parsesWaiting
      new client.Gauge({ name: 'mailroom_parses_waiting', help: 'Received messages waiting for a parse thread.', registers: reg, collect() { this.set(waiting()) } })
    }
    if (sources.queues) {
      const queues = sources.queues
      const age = new client.Gauge({ name: 'mailroom_queue_oldest_seconds', help: 'Age of the oldest unfinished item, by queue.', labelNames: ['queue'] as const, registers: reg })
      new client.Gauge({
        name: 'mailroom_queue_depth',
        help: 'Unfinished items (outbox deliveries, webhook deliveries, background parse jobs), by queue.',
        labelNames: ['queue'] as const,
        registers: reg,
        async collect() {
          // The scrape still answers (without these) while the database is down.
          const stats = await queues().catch(() => [] as QueueStat[])
          for (const s of stats) {
            this.set({ queue: s.queue }, s.depth)
            age.set({ queue: s.queue }, s.oldestSeconds)
          }
        },
      })
    }
    const self = this
    new client.Gauge({
      name: 'mailroom_top_tenant_requests',
      help: `API requests in the last full minute of the ${TOP_TENANTS} busiest tenants (others are not listed).`,
      labelNames: ['tenant'] as const,
      registers: reg,
      collect() {
        self.roll()
        this.reset()
        for (const [tenant, n] of self.lastWindow) this.set({ tenant }, n)
      },
    })
  }

  /** One API request of a tenant (public id), for the busiest-tenants gauge. */
  tenantRequest(tenant: string): void {
    this.roll()
    this.window.set(tenant, (this.window.get(tenant) ?? 0) + 1)
  }

  private roll(): void {
    const now = systemClock.now().getTime()
    if (now - this.windowStart < 60_000) return
    // A window that ended more than a minute ago counts nothing for "the last full minute".
    this.lastWindow = now - this.windowStart < 120_000 ? [...this.window].sort((a, b) => b[1] - a[1]).slice(0, TOP_TENANTS) : []
    this.window = new Map()
    this.windowStart = now - ((now - this.windowStart) % 60_000)
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
