// What one API request costs the machine: clients looping a light request (an agent reading its
// inbox) against servers that differ only in configuration, measured in alternating rounds on one
// machine. By default the key memory (MAILROOM_KEY_CACHE_SECONDS 30) against none (0: every request
// looks its key up in the database, as before the memory). With --acting, the clients are a
// platform: its tenant key acting in one child tenant each (`Mailroom-Tenant`), which the memory
// also resolves.
//
//   pnpm exec tsx bench/api-requests.ts [--clients 8] [--requests 1000] [--rounds 3] [--key-cache 30,0] [--acting] [--pglite]
import { performance } from 'node:perf_hooks'
import { backendPids, cpuMsOfAll, flags, fmt, int, machineBanner, machineCpu, quietCheck, runAgainWithStartFlags } from './lib/common.js'
import { startInProcess, type InProcessServer } from './lib/server.js'
import { call } from './lib/api.js'
import { ADMIN_URL } from './lib/db.js'

const USAGE = `usage: pnpm exec tsx bench/api-requests.ts [options]
  --clients <n>       concurrent clients, each an inbox key reading its own inbox (default 8)
  --requests <n>      requests each client makes in a round (default 1000)
  --rounds <n>        measured rounds of each server, alternating (default 3; one warm-up round first)
  --key-cache <a,b>   MAILROOM_KEY_CACHE_SECONDS of each server (default 30,0)
  --acting            a parent's tenant key acting in a child tenant per client (Mailroom-Tenant),
                      instead of an inbox key per client
  --pglite            embedded PGlite instead of the local Postgres`

const f = flags(
  {
    clients: { type: 'string', default: '8' },
    requests: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'key-cache': { type: 'string', default: '30,0' },
    acting: { type: 'boolean', default: false },
    pglite: { type: 'boolean', default: false },
  },
  USAGE,
)
// The server runs in this process: with its start flags, as `pnpm start` runs it.
runAgainWithStartFlags()
const CLIENTS = int(f.clients, 'clients')
const REQUESTS = int(f.requests, 'requests')
const ROUNDS = int(f.rounds, 'rounds')
const CACHES = f['key-cache'].split(',').map((s) => int(s.trim(), 'key-cache', 0))

/** One client: its key, the tenant it acts in (--acting) and the inbox it reads. */
interface Client {
  key: string
  actAs: string | null
  inboxId: string
}

interface Setup {
  seconds: number
  server: InProcessServer
  clients: Client[]
  results: { rps: number; machine: number; backends: number }[]
}

async function setup(seconds: number): Promise<Setup> {
  // Rate limits out of the way: the request's cost is the subject, not its refusal.
  const server = await startInProcess({ pglite: f.pglite, config: { keyCacheSeconds: seconds, apiRequestsPerSecond: 1_000_000, apiBurst: 1_000_000 } })
  const tenant = await server.makeTenant('requests')
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i): Promise<Client> => {
      if (!f.acting) {
        const inbox = await server.makeInbox(tenant.id, `agent-${i}`)
        return { key: inbox.key, actAs: null, inboxId: inbox.id }
      }
      const child = await call(server.baseUrl, tenant.key, 'POST', '/v1/tenants', { name: `client-${i}` })
      if (child.status !== 201) throw new Error(`POST /v1/tenants: ${child.status} ${JSON.stringify(child.body)}`)
      const inbox = await server.makeInbox(child.body.id, `agent-${i}`)
      return { key: tenant.key, actAs: child.body.id, inboxId: inbox.id }
    }),
  )
  return { seconds, server, clients, results: [] }
}

async function round(s: Setup, requests: number) {
  const pids = s.server.databaseName ? backendPids(ADMIN_URL, s.server.databaseName) : []
  const m0 = machineCpu().busyMs
  const b0 = cpuMsOfAll(pids)
  const t0 = performance.now()
  await Promise.all(
    s.clients.map(async (c) => {
      const headers: Record<string, string> = { authorization: `Bearer ${c.key}`, ...(c.actAs ? { 'mailroom-tenant': c.actAs } : {}) }
      for (let i = 0; i < requests; i++) {
        const res = await fetch(`${s.server.baseUrl}/v1/inboxes/${c.inboxId}`, { headers })
        const text = await res.text()
        if (res.status !== 200) throw new Error(`GET /v1/inboxes/${c.inboxId}: ${res.status} ${text}`)
      }
    }),
  )
  const ms = performance.now() - t0
  const n = requests * s.clients.length
  return { rps: n / (ms / 1000), machine: (machineCpu().busyMs - m0) / n, backends: (cpuMsOfAll(pids) - b0) / n }
}

async function main() {
  const setups: Setup[] = []
  try {
    for (const seconds of CACHES) setups.push(await setup(seconds))
    console.log(machineBanner('api-requests: machine CPU of one API request', setups[0]!.server.database))
    console.log(await quietCheck())
    const who = f.acting ? "one tenant key acting in its own child tenant (Mailroom-Tenant)" : 'its inbox key'
    console.log(`${CLIENTS} clients, each GET /v1/inboxes/{its inbox} with ${who}, ${REQUESTS} requests a round; the clients run in this process, so machine CPU includes them`)
    for (const s of setups) await round(s, Math.min(REQUESTS, 200))
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which server goes first.
      const order = r % 2 === 0 ? setups : [...setups].reverse()
      for (const s of order) {
        const x = await round(s, REQUESTS)
        s.results.push(x)
        console.log(`round ${r + 1}, MAILROOM_KEY_CACHE_SECONDS=${s.seconds}: ${fmt(x.rps, 0)} requests/s, ${fmt(x.machine, 3)} ms machine CPU a request (Postgres backends ${fmt(x.backends, 3)})`)
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    console.log('\n| MAILROOM_KEY_CACHE_SECONDS | requests/s | machine CPU a request | of it, Postgres backends |')
    console.log('|---|---|---|---|')
    for (const s of setups) {
      console.log(`| ${s.seconds} | ${fmt(mean(s.results.map((x) => x.rps)), 0)} | ${fmt(mean(s.results.map((x) => x.machine)), 3)} ms | ${fmt(mean(s.results.map((x) => x.backends)), 3)} ms |`)
    }
  } finally {
    for (const s of setups) await s.server.stop()
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
