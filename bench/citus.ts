// One Postgres against a Citus cluster (issue 20): the same server, the same messages and the same
// API calls, on each target in turn. Ingest: messages/s from the first SMTP send until every
// message is parsed and visible. API latency: sequential calls with an inbox key, after ingest. A
// key's first request: --keys keys minted, each presented once (the door looks it up: not kept in its
// memory yet), one after another and then 16 at a time; then again, kept.
//
//   pnpm exec tsx bench/citus.ts --pg postgres://postgres@127.0.0.1:5432/postgres \
//     --citus postgres://postgres@127.0.0.1:5441/mailroom_citus [--n 600] [--connections 8] [--calls 300] [--keys 300]
//
// --pg: an admin URL on plain Postgres (a database of the run's own is created there, dropped at
// the end). --citus: a Citus coordinator's database, migrated by `mailroom migrate` (this script
// migrates it too) and EMPTIED first: give it one that holds nothing you need.
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { loadConfig, deriveRuntimeUrl, type Config } from '../apps/server/src/config.js'
import { startMailroom } from '../apps/server/src/server.js'
import { silentLogger } from '../apps/server/src/lib/log.js'
import { openPostgres, type Database } from '../apps/server/src/db/client.js'
import { migrate } from '../apps/server/src/db/migrate.js'
import { onCitus, useCoordinator } from '../apps/server/src/db/open.js'
import { createRootTenant } from '../apps/server/src/tenancy/service.js'
import { withTenant } from '../apps/server/src/db/scope.js'
import { createInbox } from '../apps/server/src/inboxes/service.js'
import { createApiKey } from '../apps/server/src/apikeys/service.js'
import { toPublicId } from '../apps/server/src/lib/ids.js'
import { flags, fmt, int, machineBanner, mapLimit, percentile } from './lib/common.js'
import { buildMessages, sendRaw, smtpClient } from './lib/mail.js'
import { call } from './lib/api.js'

const USAGE = `usage: pnpm exec tsx bench/citus.ts --pg <admin url> --citus <coordinator url> [--n 600] [--connections 8] [--calls 300] [--keys 300]`
const f = flags(
  { pg: { type: 'string', default: '' }, citus: { type: 'string', default: '' }, n: { type: 'string', default: '600' }, connections: { type: 'string', default: '8' }, calls: { type: 'string', default: '300' }, keys: { type: 'string', default: '300' } },
  USAGE,
)
const N = int(f.n, 'n')
const CONNECTIONS = int(f.connections, 'connections')
const CALLS = int(f.calls, 'calls')
const KEYS = int(f.keys, 'keys')
const TENANTS = 4
const INBOXES_PER_TENANT = 5

interface Target {
  label: string
  ownerUrl: string
  cleanup(): Promise<void>
}

async function plainTarget(adminUrl: string): Promise<Target> {
  const name = `mailroom_bench_${randomBytes(5).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    label: `one Postgres (${url.host})`,
    ownerUrl: url.toString(),
    async cleanup() {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

async function citusTarget(url: string): Promise<Target> {
  return { label: `Citus coordinator + 2 workers (${new URL(url).host})`, ownerUrl: url, cleanup: async () => {} }
}

async function measure(target: Target) {
  const owner: Database = openPostgres({ url: target.ownerUrl, max: 2, runtime: false })
  await migrate(owner)
  const citus = await onCitus(owner)
  if (citus) {
    const conn = postgres(target.ownerUrl, { max: 1, onnotice: () => {} })
    const [tables] = await conn`select string_agg(format('%I', relname), ', ') as t from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`
    if (tables?.t) await conn.unsafe(`truncate ${tables.t} cascade`)
    await conn.end()
  }
  const runtime = openPostgres({ url: deriveRuntimeUrl(target.ownerUrl), max: 10, runtime: true })
  useCoordinator([runtime, owner], citus)
  const config: Config = {
    ...loadConfig({}),
    masterKey: randomBytes(32).toString('base64'),
    inboundAuth: false,
    httpPort: 0,
    smtpPort: 0,
    host: '127.0.0.1',
    domain: 'agents.test',
    logLevel: 'warn',
    dataDir: mkdtempSync(join(tmpdir(), 'mailroom-bench-')),
  }
  const stores = { runtime, owner, embedded: false, close: async () => {} }
  const running = await startMailroom({ config, stores, print: () => {}, log: silentLogger })
  const baseUrl = `http://127.0.0.1:${running.httpPort}`
  try {
    const inboxes: { id: string; internalTenant: string; address: string; key: string }[] = []
    for (let t = 0; t < TENANTS; t++) {
      const { tenant } = await createRootTenant(runtime, running.deps.crypto, `bench-${t}`)
      for (let i = 0; i < INBOXES_PER_TENANT; i++) {
        const { inbox, apiKey } = await withTenant(runtime, { tenantId: tenant.id }, (tx) =>
          createInbox(tx, { tenantId: tenant.id, domain: config.domain, name: `agent-${t}-${i}`, createKey: true }),
        )
        inboxes.push({ id: toPublicId('inbox', inbox.id), internalTenant: tenant.id, address: inbox.address, key: apiKey! })
      }
    }
    const msgs = await buildMessages(N, { to: 'agent@agents.test' })
    const client = smtpClient(running.smtpPort, CONNECTIONS)
    // Ingest: every message to one inbox (round-robin), until all are parsed.
    const admin = postgres(target.ownerUrl, { max: 1, onnotice: () => {} })
    const started = performance.now()
    await mapLimit(msgs, CONNECTIONS * 2, (m, i) => sendRaw(client, m.raw, inboxes[i % inboxes.length]!.address))
    const accepted = performance.now()
    for (;;) {
      const [row] = await admin`select count(*)::int as n from messages where parse_status <> 'pending'`
      if (row!.n >= N) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const visible = performance.now()
    client.close()
    // API latency: sequential calls with inbox keys (list the newest 20, then one message by id).
    const list: number[] = []
    const one: number[] = []
    for (let i = 0; i < CALLS; i++) {
      const inbox = inboxes[i % inboxes.length]!
      let t0 = performance.now()
      const res = await call(baseUrl, inbox.key, 'GET', `/v1/inboxes/${inbox.id}/messages?limit=20`)
      list.push(performance.now() - t0)
      if (res.status !== 200) throw new Error(`list: ${res.status}`)
      const first = res.body.data?.[0]?.id as string | undefined
      if (!first) continue
      t0 = performance.now()
      const got = await call(baseUrl, inbox.key, 'GET', `/v1/inboxes/${inbox.id}/messages/${first}`)
      one.push(performance.now() - t0)
      if (got.status !== 200) throw new Error(`get: ${got.status}`)
    }
    await admin.end()
    // A key's first request: minted keys, each presented once (looked up), then again (kept).
    const mint = async (n: number) => {
      const keys: string[] = []
      for (let i = 0; i < n; i++) {
        const tenantId = inboxes[i % inboxes.length]!.internalTenant
        keys.push((await withTenant(runtime, { tenantId }, (tx) => createApiKey(tx, { tenantId, scope: 'tenant' }))).key)
      }
      return keys
    }
    const me = async (key: string) => {
      const t0 = performance.now()
      const res = await call(baseUrl, key, 'GET', '/v1/me')
      if (res.status !== 200) throw new Error(`me: ${res.status}`)
      return performance.now() - t0
    }
    const firstKeys = await mint(KEYS)
    const first: number[] = []
    for (const key of firstKeys) first.push(await me(key))
    const kept: number[] = []
    for (const key of firstKeys) kept.push(await me(key))
    const burstKeys = await mint(KEYS)
    const t0 = performance.now()
    await mapLimit(burstKeys, 16, (key) => me(key))
    const burst = KEYS / ((performance.now() - t0) / 1000)
    const stat = (v: number[]) => {
      const s = [...v].sort((a, b) => a - b)
      return `p50 ${fmt(percentile(s, 50))} ms, p95 ${fmt(percentile(s, 95))} ms, p99 ${fmt(percentile(s, 99))} ms (${s.length} calls)`
    }
    return {
      label: target.label,
      accepted: N / ((accepted - started) / 1000),
      visible: N / ((visible - started) / 1000),
      list: stat(list),
      one: stat(one),
      keyFirst: stat(first),
      keyKept: stat(kept),
      keyBurst: burst,
    }
  } finally {
    await running.stop()
    await runtime.close()
    await owner.close()
    rmSync(config.dataDir, { recursive: true, force: true })
    await target.cleanup()
  }
}

if (!f.pg || !f.citus) {
  console.error(USAGE)
  process.exit(2)
}
console.log(machineBanner('citus: one Postgres against a Citus cluster', `${f.pg} | ${f.citus}`))
console.log(`${N} messages (about 15 KB, one attachment each) over ${CONNECTIONS} SMTP connections to ${TENANTS * INBOXES_PER_TENANT} inboxes of ${TENANTS} tenants; ${CALLS} API calls of each kind\n`)
for (const target of [await plainTarget(f.pg), await citusTarget(f.citus)]) {
  const r = await measure(target)
  console.log(`## ${r.label}`)
  console.log(`ingest: ${fmt(r.accepted)} msg/s accepted (250 after DATA), ${fmt(r.visible)} msg/s parsed and visible`)
  console.log(`GET /v1/inboxes/{id}/messages?limit=20: ${r.list}`)
  console.log(`GET /v1/inboxes/{id}/messages/{messageId}: ${r.one}`)
  console.log(`GET /v1/me, a key's first request (looked up): ${r.keyFirst}; 16 at a time: ${fmt(r.keyBurst)} keys/s`)
  console.log(`GET /v1/me, the same keys again (kept): ${r.keyKept}\n`)
}
process.exit(0)
