// Sending benchmarks: accepted sends/s through the API, delivered/s to a loopback SMTP sink, and
// the noisy neighbour (tenant A floods 5,000 sends while tenant B sends 50: B's p99 send->relayed
// time against B alone on an idle system).
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/send.ts
// Without BENCH_DATABASE_URL it runs on in-memory PGlite. BENCH_FLOOD (5000), BENCH_B (50),
// BENCH_CONCURRENCY (32 client requests in flight) change the sizes. BENCH_KEY=inbox sends with each
// inbox's own key (an agent's send: its transaction bound to the inbox, the outbox's policy trigger
// run for every row) instead of the tenant's key.
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import postgres from 'postgres'
import { loadConfig } from '../apps/server/src/config.js'
import { openPglite, openPostgres, type Database } from '../apps/server/src/db/client.js'
import { migrate } from '../apps/server/src/db/migrate.js'
import { deriveRuntimeUrl } from '../apps/server/src/config.js'
import { startMailroom } from '../apps/server/src/server.js'
import { silentLogger } from '../apps/server/src/lib/log.js'
import { createRootTenant } from '../apps/server/src/tenancy/service.js'
import { startSink } from '../apps/server/test/delivery/sink.js'
import { withTenant } from '../apps/server/src/db/scope.js'
import { createInbox } from '../apps/server/src/inboxes/service.js'
import { toPublicId } from '../apps/server/src/lib/ids.js'

const FLOOD = Number(process.env.BENCH_FLOOD ?? 5000)
const B_COUNT = Number(process.env.BENCH_B ?? 50)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const URL_ = process.env.BENCH_DATABASE_URL
const INBOX_KEYS = process.env.BENCH_KEY === 'inbox'

async function openStores() {
  if (!URL_) {
    const db: Database = await openPglite(undefined)
    await migrate(db)
    return { stores: { runtime: db, owner: db, embedded: true, close: () => db.close() }, what: 'PGlite (in memory)' }
  }
  const name = `mailroom_bench_${randomBytes(4).toString('hex')}`
  const admin = postgres(URL_, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const u = new URL(URL_)
  u.pathname = `/${name}`
  const owner = openPostgres({ url: u.toString(), max: 2, runtime: false })
  await migrate(owner)
  const runtime = openPostgres({ url: deriveRuntimeUrl(u.toString()), max: 20, runtime: true })
  return {
    what: 'Postgres 15 (127.0.0.1)',
    stores: {
      runtime,
      owner,
      embedded: false,
      async close() {
        await Promise.all([runtime.close(), owner.close()])
        await admin.unsafe(`drop database if exists ${name} with (force)`)
        await admin.end()
      },
    },
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

async function main() {
  const sink = await startSink()
  const { stores, what } = await openStores()
  const config = {
    ...loadConfig({}),
    masterKey: randomBytes(32).toString('base64'),
    inboundAuth: false,
    httpPort: 0,
    smtpPort: 0,
    domain: 'bench.test',
    logLevel: 'silent' as const,
    relayUrl: sink.url,
  }
  const running = await startMailroom({ config, stores, log: silentLogger, print: () => {}, delivery: { pollMs: 50 } })
  const base = `http://127.0.0.1:${running.httpPort}`
  const tenant = async (name: string) => {
    const { tenant: row, apiKey } = await createRootTenant(stores.runtime, running.deps.crypto, name)
    const made = await withTenant(stores.runtime, { tenantId: row.id }, (tx) => createInbox(tx, { tenantId: row.id, domain: config.domain, name, createKey: INBOX_KEYS }))
    return { key: made.apiKey ?? apiKey, inboxId: toPublicId('inbox', made.inbox.id) }
  }
  const send = async (t: { key: string; inboxId: string }, to: string) => {
    const res = await fetch(`${base}/v1/inboxes/${t.inboxId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to, subject: 'bench', text: 'hello '.repeat(50) }),
    })
    if (res.status !== 201) throw new Error(`send ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
  }
  const pool = async (n: number, fn: (i: number) => Promise<void>) => {
    let next = 0
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, async () => { for (let i = next++; i < n; i = next++) await fn(i) }))
  }
  const relayedAt = (prefix: string, n: number) =>
    new Promise<Map<string, number>>((resolve) => {
      const check = () => {
        const got = new Map(sink.received.filter((m) => m.to[0]!.startsWith(prefix)).map((m) => [m.to[0]!, m.at]))
        if (got.size >= n) resolve(got)
        else setTimeout(check, 10)
      }
      check()
    })

  // B alone on an idle system: one send every 20 ms.
  const bAlone = await tenant('b-alone')
  const sentAt = new Map<string, number>()
  for (let i = 0; i < B_COUNT; i++) {
    const to = `alone-${i}@example.com`
    sentAt.set(to, Date.now())
    await send(bAlone, to)
    await new Promise((r) => setTimeout(r, 20))
  }
  const aloneRelayed = await relayedAt('alone-', B_COUNT)
  const alone = [...sentAt].map(([to, t]) => aloneRelayed.get(to)! - t)

  // Throughput + noisy neighbour: A floods while B sends its 50 the same way.
  const a = await tenant('a-flood')
  const b = await tenant('b-neighbour')
  const t0 = Date.now()
  const flood = pool(FLOOD, (i) => send(a, `flood-${i}@example.com`))
  const bSent = new Map<string, number>()
  const bRun = (async () => {
    await new Promise((r) => setTimeout(r, 200))
    for (let i = 0; i < B_COUNT; i++) {
      const to = `neighbour-${i}@example.com`
      bSent.set(to, Date.now())
      await send(b, to)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  await flood
  const acceptedMs = Date.now() - t0
  await bRun
  const floodRelayed = await relayedAt('flood-', FLOOD)
  const lastRelay = Math.max(...floodRelayed.values())
  const nRelayed = await relayedAt('neighbour-', B_COUNT)
  const noisy = [...bSent].map(([to, t]) => nRelayed.get(to)! - t)

  const lines = [
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${what}; sent with ${INBOX_KEYS ? "each inbox's key" : "the tenant's key"}`,
    `accepted: ${FLOOD} sends in ${(acceptedMs / 1000).toFixed(1)} s = ${Math.round((FLOOD * 1000) / acceptedMs)} sends/s (${CONCURRENCY} in flight)`,
    `relayed:  ${FLOOD} to the loopback sink in ${((lastRelay - t0) / 1000).toFixed(1)} s = ${Math.round((FLOOD * 1000) / (lastRelay - t0))} delivered/s`,
    `B alone:     p50 ${pct(alone, 50)} ms, p99 ${pct(alone, 99)} ms (send -> relayed, ${B_COUNT} sends)`,
    `B beside A:  p50 ${pct(noisy, 50)} ms, p99 ${pct(noisy, 99)} ms (A flooding ${FLOOD})`,
    `ratio p99: ${(pct(noisy, 99) / pct(alone, 99)).toFixed(2)}x (target <= 2x)`,
  ]
  console.log(lines.join('\n'))
  await running.stop()
  await stores.close()
  await sink.close()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
