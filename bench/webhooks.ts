// Webhook benchmarks: events/s delivered (signed, over HTTP) to a loopback receiver, and the delay
// a second tenant whose endpoint hangs adds to the first tenant's webhooks.
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/webhooks.ts
// Without BENCH_DATABASE_URL it runs on in-memory PGlite. BENCH_EVENTS (5000), BENCH_A (50) change the sizes.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { loadConfig, deriveRuntimeUrl } from '../apps/server/src/config.js'
import { openPglite, openPostgres, type Database } from '../apps/server/src/db/client.js'
import { migrate } from '../apps/server/src/db/migrate.js'
import { startMailroom, type Running } from '../apps/server/src/server.js'
import { silentLogger } from '../apps/server/src/lib/log.js'
import { createRootTenant } from '../apps/server/src/tenancy/service.js'
import { withTenant } from '../apps/server/src/db/scope.js'
import { appendEvent } from '../apps/server/src/events/service.js'
import { createWebhook } from '../apps/server/src/webhooks/service.js'
import { startReceiver } from '../apps/server/test/webhooks/helpers.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000)
const A_COUNT = Number(process.env.BENCH_A ?? 50)
const URL_ = process.env.BENCH_DATABASE_URL

async function openStores() {
  if (!URL_) {
    const db: Database = await openPglite(undefined)
    await migrate(db)
    return { stores: { runtime: db, owner: db, embedded: true, close: () => db.close() }, what: 'PGlite (in memory)', drop: async () => {} }
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
    stores: { runtime, owner, embedded: false, close: async () => (await runtime.close(), await owner.close()) },
    what: 'Postgres 15',
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

async function tenantWithHook(running: Running, name: string, url: string) {
  const { tenant } = await createRootTenant(running.deps.database, running.deps.crypto, name)
  await withTenant(running.deps.database, { tenantId: tenant.id }, async (tx) => {
    const cipher = await running.deps.crypto.cipher(tx, tenant.id)
    await createWebhook(tx, cipher, { tenantId: tenant.id, url, inboxId: null, eventTypes: [], payload: 'full', description: null })
  })
  return tenant.id
}

async function emit(running: Running, tenantId: string, n: number, tag: string) {
  await withTenant(running.deps.database, { tenantId }, async (tx) => {
    const cipher = await running.deps.crypto.cipher(tx, tenantId)
    for (let i = 0; i < n; i++) {
      await appendEvent(tx, cipher, tenantId, 'message.received', null, { message: { subject: `${tag} ${i}`, sentAt: Date.now() } })
    }
  })
}

async function main() {
  const { stores, what, drop } = await openStores()
  const rx = await startReceiver()
  const config = { ...loadConfig({}), masterKey: randomBytes(32).toString('base64'), httpPort: 0, smtpPort: 0, domain: 'bench.test', logLevel: 'silent' as const, inboundAuth: false, webhookAllowPrivate: 'loopback' as const }
  // 1. Throughput: EVENTS queued with the workers stopped, then drained.
  let running = await startMailroom({ config, stores, log: silentLogger, print: () => {}, webhooks: { start: false } })
  const t = await tenantWithHook(running, 'bench-throughput', `${rx.url}/t`)
  for (let done = 0; done < EVENTS; done += 100) await emit(running, t, Math.min(100, EVENTS - done), 'tp')
  const t0 = Date.now()
  await running.deps.webhooks!.start()
  await rx.waitFor(EVENTS, 600_000, '/t')
  const drainS = (Date.now() - t0) / 1000
  await running.stop()

  // 2. Noisy neighbour: B's endpoint hangs (10 s timeout) with 200 events queued; A emits one event
  //    every 20 ms. A's commit -> received latency, against A alone.
  running = await startMailroom({ config, stores, log: silentLogger, print: () => {} })
  rx.rule = (h) => (h.path === '/b' ? 'hang' : 200)
  const a = await tenantWithHook(running, 'bench-a', `${rx.url}/a`)
  const b = await tenantWithHook(running, 'bench-b', `${rx.url}/b`)
  const measure = async (path: string) => {
    const before = rx.hits.filter((h) => h.path === path).length
    const sent: number[] = []
    for (let i = 0; i < A_COUNT; i++) {
      sent.push(Date.now())
      await emit(running, a, 1, path)
      await new Promise((r) => setTimeout(r, 20))
    }
    const hits = (await rx.waitFor(before + A_COUNT, 120_000, '/a')).slice(before)
    return hits.map((h) => h.at - Number(h.json.data.message.sentAt))
  }
  const alone = await measure('/a')
  await emit(running, b, 200, 'b')
  await rx.waitFor(1, 10_000, '/b')
  const noisy = await measure('/a')
  const bHits = rx.hits.filter((h) => h.path === '/b').length
  await running.stop()
  await rx.close()
  await stores.close()
  await drop()

  console.log(`webhooks on ${what}`)
  console.log(`events delivered to a loopback receiver: ${EVENTS} in ${drainS.toFixed(1)} s = ${Math.round(EVENTS / drainS)}/s (signed, full payload, 32 in flight, 1 tenant capped at ${config.webhookTenantInFlight})`)
  console.log(`A alone, commit -> received: p50 ${pct(alone, 50)} ms, p99 ${pct(alone, 99)} ms`)
  console.log(`A while B's endpoint hangs (200 queued, ${bHits} held): p50 ${pct(noisy, 50)} ms, p99 ${pct(noisy, 99)} ms`)
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
