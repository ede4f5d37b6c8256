// What one tenant's administration costs the others: a platform suspending and resuming one of its
// child tenants, over and over, while other tenants hold event streams open and make API requests.
// Windows with the churn and without it alternate; each reports the machine's CPU and the Postgres
// backends', the other tenants' request latency and key lookups, and how often their streams woke.
// A tenant's standing is announced as a change of its subtree: the others' kept keys stay kept and
// their streams sleep on. (Before 6ee4c3e it was a change of every key: every stream woke to look its
// key up and read its events, and every key was looked up again.)
//
//   ulimit -n 8192; pnpm exec tsx bench/tenant-churn.ts [--tenants 50] [--streams 20] [--clients 8] [--churn 10] [--seconds 10] [--rounds 2] [--pglite]
import { performance } from 'node:perf_hooks'
import { backendPids, cpuMsOfAll, flags, fmt, int, machineBanner, machineCpu, openFilesLimit, percentile, quietCheck, runAgainWithStartFlags, sleep } from './lib/common.js'
import { startInProcess } from './lib/server.js'
import { call } from './lib/api.js'
import { ADMIN_URL } from './lib/db.js'

const USAGE = `usage: pnpm exec tsx bench/tenant-churn.ts [options]
  --tenants <n>   tenants holding event streams (default 50)
  --streams <n>   streams each of them holds open, with its tenant key (default 20)
  --clients <n>   other tenants, each an inbox key reading its inbox 50 times a second (default 8)
  --churn <n>     the platform's changes a second: its child suspended, then resumed (default 10)
  --seconds <n>   length of each window (default 10)
  --rounds <n>    pairs of windows, quiet then churning (default 2)
  --pglite        embedded PGlite instead of the local Postgres`

const f = flags(
  {
    tenants: { type: 'string', default: '50' },
    streams: { type: 'string', default: '20' },
    clients: { type: 'string', default: '8' },
    churn: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    pglite: { type: 'boolean', default: false },
  },
  USAGE,
)
runAgainWithStartFlags()
const TENANTS = int(f.tenants, 'tenants')
const STREAMS = int(f.streams, 'streams')
const CLIENTS = int(f.clients, 'clients')
const CHURN = int(f.churn, 'churn', 0)
const SECONDS = int(f.seconds, 'seconds')
const ROUNDS = int(f.rounds, 'rounds')
const CLIENT_EVERY_MS = 20

/** An open stream: how many comments it got (a keep-alive each time it woke without an event to send). */
async function openStream(baseUrl: string, key: string, signal: AbortSignal, counts: { wakes: number; ended: number }): Promise<void> {
  const res = await fetch(`${baseUrl}/v1/events`, { headers: { authorization: `Bearer ${key}` }, signal })
  if (res.status !== 200) throw new Error(`GET /v1/events: ${res.status} ${await res.text()}`)
  void (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true })
      for (let i = text.indexOf(': keep-alive'); i >= 0; i = text.indexOf(': keep-alive', i + 1)) counts.wakes++
    }
  })()
    .catch(() => {})
    .finally(() => counts.ended++)
}

async function main() {
  const needFiles = TENANTS * STREAMS * 2 + 200
  if (openFilesLimit() < needFiles) throw new Error(`ulimit -n is ${openFilesLimit()}: ${TENANTS * STREAMS} streams need about ${needFiles} (run ulimit -n 8192 first)`)
  const big = 1_000_000
  const server = await startInProcess({
    pglite: f.pglite,
    config: { apiRequestsPerSecond: big, apiBurst: big, maxHeldPerTenant: big, maxHeldPerInbox: big },
  })
  const abort = new AbortController()
  try {
    console.log(machineBanner('tenant-churn: what one tenant suspending and resuming its child costs the others', server.database))
    console.log(await quietCheck())
    const keys = server.running.deps.keys

    // The platform and its child, which it suspends and resumes.
    const platform = await server.makeTenant('platform')
    const child = await call(server.baseUrl, platform.key, 'POST', '/v1/tenants', { name: 'churned' })
    if (child.status !== 201) throw new Error(`POST /v1/tenants: ${child.status} ${JSON.stringify(child.body)}`)

    // The others: tenants holding streams, and clients reading their inboxes.
    const streams = { wakes: 0, ended: 0 }
    for (let t = 0; t < TENANTS; t++) {
      const tenant = await server.makeTenant(`streams-${t}`)
      for (let s = 0; s < STREAMS; s++) await openStream(server.baseUrl, tenant.key, abort.signal, streams)
    }
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const tenant = await server.makeTenant(`client-${i}`)
        return server.makeInbox(tenant.id, `agent-${i}`)
      }),
    )
    console.log(
      `${TENANTS * STREAMS} event streams open (${TENANTS} tenants x ${STREAMS}, their tenant keys); ${CLIENTS} other tenants each GET /v1/inboxes/{its inbox} every ${CLIENT_EVERY_MS} ms with its inbox key; ` +
        `the platform's churn: ${CHURN} PATCH /v1/tenants/{child} a second (suspended, resumed, ...); windows of ${SECONDS} s; clients and server in this process`,
    )

    let status: 'suspended' | 'active' = 'suspended'
    const window = async (churning: boolean) => {
      const pids = server.databaseName ? backendPids(ADMIN_URL, server.databaseName) : []
      const latencies: number[] = []
      let changes = 0
      const m0 = machineCpu().busyMs
      const b0 = cpuMsOfAll(pids)
      const l0 = keys.counts.keys.database
      const w0 = streams.wakes
      const t0 = performance.now()
      const end = t0 + SECONDS * 1000
      const reading = clients.map(async (c) => {
        for (let next = performance.now(); next < end; next += CLIENT_EVERY_MS) {
          await sleep(Math.max(0, next - performance.now()))
          const s = performance.now()
          const res = await fetch(`${server.baseUrl}/v1/inboxes/${c.id}`, { headers: { authorization: `Bearer ${c.key}` } })
          await res.text()
          if (res.status !== 200) throw new Error(`GET /v1/inboxes/${c.id}: ${res.status}`)
          latencies.push(performance.now() - s)
        }
      })
      const churn = (async () => {
        if (!churning || CHURN === 0) return
        for (let next = performance.now(); next < end; next += 1000 / CHURN) {
          await sleep(Math.max(0, next - performance.now()))
          const res = await call(server.baseUrl, platform.key, 'PATCH', `/v1/tenants/${child.body.id}`, { status })
          if (res.status !== 200) throw new Error(`PATCH /v1/tenants/{child}: ${res.status} ${JSON.stringify(res.body)}`)
          status = status === 'suspended' ? 'active' : 'suspended'
          changes++
        }
      })()
      await Promise.all([...reading, churn])
      const seconds = (performance.now() - t0) / 1000
      latencies.sort((a, b) => a - b)
      return {
        changes: changes / seconds,
        machine: (machineCpu().busyMs - m0) / 10 / seconds,
        backends: (cpuMsOfAll(pids) - b0) / 10 / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        lookups: (keys.counts.keys.database - l0) / seconds,
        wakes: (streams.wakes - w0) / seconds,
      }
    }

    await window(false)
    console.log('\n| window | changes/s | machine CPU | Postgres backends | requests p50 / p99 | key lookups/s | stream wakes/s |')
    console.log('|---|---|---|---|---|---|---|')
    for (let r = 0; r < ROUNDS; r++) {
      for (const churning of [false, true]) {
        const x = await window(churning)
        console.log(
          `| ${r + 1}, ${churning ? 'churning' : 'quiet'} | ${fmt(x.changes, 1)} | ${fmt(x.machine, 0)}% | ${fmt(x.backends, 0)}% | ${fmt(x.p50, 2)} / ${fmt(x.p99, 2)} ms | ${fmt(x.lookups, 1)} | ${fmt(x.wakes, 0)} |`,
        )
      }
    }
    console.log(
      `\n(CPU in % of one core. Key lookups: the HTTP door's, of every key (the streams', the clients', the platform's); a key kept is looked up again after MAILROOM_KEY_CACHE_SECONDS (30) in any case. ` +
        `Stream wakes: the ${TENANTS * STREAMS} streams also send a keep-alive every 15 s, ${fmt((TENANTS * STREAMS) / 15, 0)} a second on average, churn or not. Streams ended: ${streams.ended})`,
    )
  } finally {
    abort.abort()
    await server.stop()
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
