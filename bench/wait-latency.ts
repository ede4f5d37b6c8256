// Wait latency: from the end of SMTP DATA (the moment the sender hands CRLF.CRLF to its socket) to
// `inbox.waitForMessage()` resolving in the SDK, with W concurrent waiters, each an SDK client on its own inbox (inbox key).
// The server runs in a child process, so its event loop is not shared with the waiters' clients.
//
//   pnpm exec tsx bench/wait-latency.ts [--waiters 100,1000] [--rate 50] [--pglite]
import { performance } from 'node:perf_hooks'
import { Mailroom, type Inbox } from '@mailroom/sdk'
import { awaitQuiet, fmt, flags, int, machineBanner, mapLimit, openFilesLimit, quietCheck, sleep, summarize } from './lib/common.js'
import { buildMessages, describeMix } from './lib/mail.js'
import { RawSmtpPool } from './lib/smtp-raw.js'
import { startChild, type ChildServer } from './lib/server.js'
import { createInboxesViaApi, createTenantsViaApi, type InboxFixture } from './lib/api.js'
import { dropAll, runBench } from './lib/db.js'

const USAGE = `usage: pnpm exec tsx bench/wait-latency.ts [options]
  --waiters <list>      concurrent waiters, comma-separated runs (default 100,1000)
  --rate <msgs/s>       pace of the sender: one message to each waiting inbox at this rate
                        (default 50; 0 = all at once, as fast as the SMTP pool goes)
  --connections <k>     pooled SMTP connections of the sender (default 8)
  --warmup <n>          messages sent (and not waited for) before measuring (default 100)
  --tenants <k>         tenants the inboxes are spread over (default 10)
  --compiled            run the server compiled to JavaScript (esbuild bundle, plain node) instead of under tsx
  --pglite              embedded PGlite (in the server process) instead of the local Postgres
  --quiet-wait <s>      before each measured run, wait up to this long for the machine to be idle (default 120)`

const f = flags(
  {
    waiters: { type: 'string', default: '100,1000' },
    rate: { type: 'string', default: '50' },
    connections: { type: 'string', default: '8' },
    tenants: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '100' },
    pglite: { type: 'boolean', default: false },
    compiled: { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '120' },
  },
  USAGE,
)
const RUNS = f.waiters.split(',').map((w) => int(w.trim(), 'waiters'))
const RATE = int(f.rate, 'rate', 0)
const CONNECTIONS = int(f.connections, 'connections')
const TENANTS = int(f.tenants, 'tenants')
const MAX_W = Math.max(...RUNS)
const WAIT_TIMEOUT_MS = 120_000
const WARMUP = int(f.warmup, 'warmup', 0)
const QUIET_MS = int(f['quiet-wait'], 'quiet-wait', 0) * 1000

interface RunResult {
  waiters: number
  /** end of DATA -> waitForMessage resolved (the issue's measure) */
  latency: ReturnType<typeof summarize>
  /** the sender's 250 -> waitForMessage resolved */
  after250: ReturnType<typeof summarize>
  /** end of DATA -> 250 */
  dataTo250: ReturnType<typeof summarize>
  smtp: ReturnType<typeof summarize>
  sendSeconds: number
  registerMs: number
  note: string
  /** Waits that did not resolve in time (counted as infinite latency). */
  failed: number
  /** Event-loop utilization of this (client) process while sending and waiting. */
  clientElu: number
  /** The server's looks for new mail during the run: answered from the committed message, or read back. */
  looks: { memory: number; database: number }
  /** The server's own account of each message's time before its 250, during the run. */
  stages: Times
  /** ... and of its batches' transactions: each step's time, and messages a batch. */
  steps: Times
  batches: { count: number; messages: number }
}

const STAGES = ['parse_wait', 'parse', 'batch_wait', 'commit'] as const
const STEPS = ['reads', 'writes', 'commit'] as const
/** Per label value of a histogram: observations, their sum (s), cumulative bucket counts by upper bound (s). */
type Hist = { count: number; sum: number; buckets: [number, number][] }
type Times = Record<string, Hist>

interface ServerCounters {
  looks: { memory: number; database: number }
  stages: Times
  steps: Times
  batches: { count: number; messages: number }
}

/** One histogram of the /metrics text, per value of its label. */
function histogramsOf(text: string, metric: string, label: string, values: readonly string[]): Times {
  const out: Times = {}
  for (const value of values) {
    const one = (what: string) => Number(new RegExp(`^${metric}_${what}\\{${label}="${value}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
    const buckets = [...text.matchAll(new RegExp(`^${metric}_bucket\\{le="([^"]+)",${label}="${value}"\\} (\\S+)$`, 'gm'))].map((m): [number, number] => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])])
    out[value] = { count: one('count'), sum: one('sum'), buckets }
  }
  return out
}

/** The server's mailroom_wait_looks_total counters, ingest stage and batch histograms (operator key). */
async function serverCounters(server: ChildServer): Promise<ServerCounters> {
  const text = await (await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${server.operatorKey}` } })).text()
  const at = (where: string) => Number(new RegExp(`^mailroom_wait_looks_total\\{at="${where}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  const batch = (what: string) => Number(new RegExp(`^mailroom_ingest_batch_messages_${what} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  return {
    looks: { memory: at('memory'), database: at('database') },
    stages: histogramsOf(text, 'mailroom_ingest_stage_seconds', 'stage', STAGES),
    steps: histogramsOf(text, 'mailroom_ingest_batch_seconds', 'step', STEPS),
    batches: { count: batch('count'), messages: batch('sum') },
  }
}

/** What the counters gained between two readings. */
function gained(a: ServerCounters, b: ServerCounters): Pick<RunResult, 'looks' | 'stages' | 'steps' | 'batches'> {
  const delta = (x: Times, y: Times): Times =>
    Object.fromEntries(Object.keys(y).map((k) => [k, { count: y[k]!.count - x[k]!.count, sum: y[k]!.sum - x[k]!.sum, buckets: y[k]!.buckets.map(([le, n], i): [number, number] => [le, n - (x[k]!.buckets[i]?.[1] ?? 0)]) }]))
  return {
    looks: { memory: b.looks.memory - a.looks.memory, database: b.looks.database - a.looks.database },
    stages: delta(a.stages, b.stages),
    steps: delta(a.steps, b.steps),
    batches: { count: b.batches.count - a.batches.count, messages: b.batches.messages - a.batches.messages },
  }
}

/** One stage as a line: mean, and the bucket bounds p50 and p99 fall under (the histogram's resolution). */
function stageLine(name: string, t: Hist): string {
  if (t.count === 0) return `${name} -`
  const under = (q: number) => {
    const le = t.buckets.find(([, n]) => n >= q * t.count)?.[0] ?? Infinity
    return le === Infinity ? '>10 s' : `<=${fmt(le * 1000, le < 0.01 ? 1 : 0)}`
  }
  return `${name} mean ${fmt((t.sum / t.count) * 1000, 1)} (p50 ${under(0.5)}, p99 ${under(0.99)})`
}

async function run(server: ChildServer, inboxes: Inbox[], W: number): Promise<RunResult> {
  const boxes = inboxes.slice(0, W)
  const msgs = await buildMessages(W, { to: 'agent@agents.test', seed: 1000 + W })
  const note = await awaitQuiet(QUIET_MS)
  // Waits first; the server takes each wait's cursor when it arrives, so sends start only once
  // every wait is registered on the server (its hub counts them).
  const before = (await server.stats()).waiters
  const t250 = new Array<number>(W).fill(NaN)
  const tDataEnd = new Array<number>(W).fill(NaN)
  const tSendStart = new Array<number>(W).fill(NaN)
  const tDone = new Array<number>(W).fill(NaN)
  const wrong: string[] = []
  const tw0 = performance.now()
  let failed = 0
  const waits = boxes.map((inbox, i) =>
    inbox.waitForMessage({ timeout: WAIT_TIMEOUT_MS }).then(
      (m) => {
        tDone[i] = performance.now()
        if (m.subject !== msgs[i]!.subject) wrong.push(`${inbox.id}: got "${m.subject}", sent "${msgs[i]!.subject}"`)
      },
      (err: Error) => {
        // Counted (as an infinite latency), not fatal: the figures still print.
        failed++
        tDone[i] = Infinity
        if (failed === 1) console.error(`a wait failed: ${err.name}: ${err.message}`)
      },
    ),
  )
  const deadline = Date.now() + 120_000
  for (;;) {
    const n = (await server.stats()).waiters - before
    if (n >= W) break
    if (Date.now() > deadline) throw new Error(`only ${n} of ${W} waits registered on the server after 120 s`)
    await sleep(20)
  }
  const registerMs = performance.now() - tw0
  await sleep(200)
  const counters0 = await serverCounters(server)

  const client = await RawSmtpPool.open(server.smtpPort, CONNECTIONS)
  const elu0 = performance.eventLoopUtilization()
  const ts0 = performance.now()
  try {
    await Promise.all(
      boxes.map(async (inbox, i) => {
        if (RATE > 0) {
          const at = ts0 + (i * 1000) / RATE
          const wait = at - performance.now()
          if (wait > 0) await sleep(wait)
        }
        tSendStart[i] = performance.now()
        const sent = await client.send(msgs[i]!.raw, 'bench@example.com', inbox.address)
        tDataEnd[i] = sent.dataEnd
        t250[i] = sent.accepted
      }),
    )
  } finally {
    client.close()
  }
  const sendSeconds = (performance.now() - ts0) / 1000
  await Promise.all(waits)
  const clientElu = performance.eventLoopUtilization(elu0).utilization
  const { looks, stages, steps, batches } = gained(counters0, await serverCounters(server))
  if (process.env.BENCH_WINDOWS) {
    // Diagnosis: the latency p99 per fifth of the sending window.
    const parts = 5
    for (let k = 0; k < parts; k++) {
      const idx = [...Array(W).keys()].filter((i) => Math.floor((i * parts) / W) === k)
      const s = summarize(idx.map((i) => tDone[i]! - tDataEnd[i]!))
      console.log(`  window ${k + 1}/${parts}: p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} max ${fmt(s.max)}`)
    }
  }
  if (wrong.length) throw new Error(`${wrong.length} waits returned another message, e.g. ${wrong[0]}`)
  return {
    waiters: W,
    latency: summarize(tDone.map((d, i) => d - tDataEnd[i]!)),
    after250: summarize(tDone.map((d, i) => d - t250[i]!)),
    dataTo250: summarize(t250.map((d, i) => d - tDataEnd[i]!)),
    smtp: summarize(t250.map((d, i) => d - tSendStart[i]!)),
    sendSeconds,
    registerMs,
    note,
    failed,
    clientElu,
    looks,
    stages,
    steps,
    batches,
  }
}

async function main() {
  console.log(machineBanner('wait latency: end of SMTP DATA -> waitForMessage resolves (SDK)', 'see below'))
  console.log(await quietCheck())
  const needFds = MAX_W + 200
  if (openFilesLimit() < needFds) {
    console.error(`ulimit -n is ${openFilesLimit()}: ${MAX_W} waiters hold ${MAX_W} sockets in this process (and the server as many). Raise it: ulimit -n ${Math.max(4096, needFds * 2)}`)
    process.exit(2)
  }
  const server = await startChild({ pglite: f.pglite, compiled: f.compiled })
  console.log(`database: ${server.database}`)
  console.log(`server: child process pid ${server.pid} (${server.runtime}; startMailroom with the config from the environment, like \`mailroom start\`); inbound SPF/DKIM/DMARC off`)
  console.log(
    `waiters: one SDK client (@mailroom/sdk, Node's global fetch) per inbox, inbox key, no filter; sender: nodemailer, ${CONNECTIONS} pooled connections, ${RATE > 0 ? `${RATE} msgs/s` : 'all at once'}`,
  )
  try {
    const tenants = await createTenantsViaApi(server.baseUrl, server.operatorKey, TENANTS)
    const fixtures: InboxFixture[] = await createInboxesViaApi(server.baseUrl, tenants, MAX_W)
    // Each waiter is its own client with its own inbox key (an agent), handle from mailroom.inbox().
    const inboxes = await mapLimit(fixtures, 32, (fx) => new Mailroom({ apiKey: fx.key, baseUrl: server.baseUrl, maxRetries: 0 }).inbox())
    const sample = await buildMessages(Math.min(MAX_W, 500), { to: 'agent@agents.test', seed: 1000 + MAX_W })
    console.log(`${MAX_W} inboxes in ${TENANTS} tenants; messages: ${describeMix(sample)}`)

    if (WARMUP > 0) {
      // Warm-up (JIT, parse threads, connection pools): mail nobody waits for, at the same pace.
      const warm = await buildMessages(WARMUP, { to: 'agent@agents.test', seed: 7 })
      const client = await RawSmtpPool.open(server.smtpPort, CONNECTIONS)
      const t0 = performance.now()
      await Promise.all(
        warm.map(async (m, i) => {
          if (RATE > 0) await sleep(t0 + (i * 1000) / RATE - performance.now())
          await client.send(m.raw, 'bench@example.com', inboxes[i % inboxes.length]!.address)
        }),
      )
      client.close()
      await sleep(2000)
      console.log(`warm-up: ${WARMUP} messages nobody waits for, sent and left to settle`)
    }
    const results: RunResult[] = []
    for (const W of RUNS) {
      const r = await run(server, inboxes, W)
      results.push(r)
      console.log(
        `\n${W} waiters: all registered on the server in ${fmt(r.registerMs, 0)} ms; ${W} messages sent in ${fmt(r.sendSeconds, 1)} s\n` +
          `  end of DATA -> waitForMessage resolved (ms): p50 ${fmt(r.latency.p50)}  p95 ${fmt(r.latency.p95)}  p99 ${fmt(r.latency.p99)}  max ${fmt(r.latency.max)}  (min ${fmt(r.latency.min)})\n` +
          `  of which end of DATA -> 250: p50 ${fmt(r.dataTo250.p50)}  p99 ${fmt(r.dataTo250.p99)}; 250 -> resolved: p50 ${fmt(r.after250.p50)}  p99 ${fmt(r.after250.p99)}\n` +
          `  for reference, the SMTP transaction itself (MAIL FROM -> 250, ms): p50 ${fmt(r.smtp.p50)}  p99 ${fmt(r.smtp.p99)}; ` +
          `this client process's event loop ${fmt(r.clientElu * 100, 0)}% busy\n` +
          `  the server's looks for new mail: ${r.looks.memory} answered from the committed message, ${r.looks.database} read from the database\n` +
          `  the server's stages before the 250 (mailroom_ingest_stage_seconds, ms): ${STAGES.map((st) => stageLine(st, r.stages[st]!)).join('; ')}\n` +
          `  its batches' transactions (mailroom_ingest_batch_seconds, ms): ${STEPS.map((st) => stageLine(st, r.steps[st]!)).join('; ')}; ` +
          `${r.batches.count} batches, ${fmt(r.batches.count ? r.batches.messages / r.batches.count : 0, 2)} messages each` +
          (r.failed ? `\n  ${r.failed} waits did not resolve within ${WAIT_TIMEOUT_MS / 1000} s (counted as infinite)` : '') +
          (r.note ? `\n${r.note}` : ''),
      )
      await sleep(1000)
    }
    console.log(`\nsummary (${server.database.split(',')[0]}, sender ${RATE > 0 ? `${RATE} msgs/s` : 'all at once'}):`)
    console.log(`| waiters | p50 ms | p95 ms | p99 ms | max ms | target p99 < 50 ms at 1,000 |`)
    console.log(`|---|---|---|---|---|---|`)
    for (const r of results) {
      const verdict = r.waiters >= 1000 ? (r.latency.p99 < 50 ? 'met' : 'missed') : '-'
      console.log(`| ${r.waiters} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p95)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${verdict} |`)
    }
  } finally {
    await server.stop()
    await dropAll()
  }
}

runBench(main)
