// One tenant floods the HTTP door; do the others still get served? Tenant A runs `--clients`
// concurrent clients looping `GET /v1/inboxes/{id}/messages?limit=50` (in a process of their own,
// ignoring 429 and Retry-After unless --polite), while tenants B and C list their own inboxes at a
// normal, fixed rate (open loop: a slow answer does not delay the next request). The same B and C
// load runs first without the flood, so their latency with and without it can be compared.
//
//   pnpm exec tsx bench/flood.ts [--clients 50] [--seconds 20] [--rate 10] [--polite] [--pglite]
import { fork } from 'node:child_process'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { flags, fmt, int, machineBanner, quietCheck, sleep, summarize } from './lib/common.js'
import { buildMessages, sendRaw, smtpClient } from './lib/mail.js'
import { startChild } from './lib/server.js'
import { call, createTenantsViaApi } from './lib/api.js'
import { dropAll, runBench } from './lib/db.js'

const USAGE = `usage: pnpm exec tsx bench/flood.ts [options]
  --clients <n>    concurrent clients of the flooding tenant (default 50)
  --seconds <n>    length of each phase (default 20)
  --rate <n>       requests per second of each normal tenant (default 10)
  --messages <n>   messages in each inbox (default 60)
  --polite         the flooding clients wait Retry-After on a 429 (as the SDK does)
  --pglite         embedded PGlite instead of the local Postgres`

const f = flags(
  {
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    messages: { type: 'string', default: '60' },
    polite: { type: 'boolean', default: false },
    pglite: { type: 'boolean', default: false },
  },
  USAGE,
)
const CLIENTS = int(f.clients, 'clients')
const SECONDS = int(f.seconds, 'seconds')
const RATE = int(f.rate, 'rate')
const MESSAGES = int(f.messages, 'messages')

interface Sample {
  ms: number
  status: number
}

function getter(baseUrl: string, key: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  return (path: string) =>
    new Promise<Sample>((resolve) => {
      const t = performance.now()
      const req = request(baseUrl + path, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume()
        res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0 }))
      })
      req.on('error', () => resolve({ ms: performance.now() - t, status: 0 }))
      req.end()
    })
}

/** `rate` requests a second for `seconds`, each sent on schedule whatever the previous ones do. */
async function openLoop(get: (p: string) => Promise<Sample>, path: string, rate: number, seconds: number): Promise<Sample[]> {
  const out: Promise<Sample>[] = []
  const start = performance.now()
  const n = rate * seconds
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    out.push(get(path))
  }
  return Promise.all(out)
}

function line(name: string, samples: Sample[]): string {
  const s = summarize(samples.map((x) => x.ms))
  const statuses = new Map<number, number>()
  for (const x of samples) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1)
  const st = [...statuses].map(([k, v]) => `${k}:${v}`).join(' ')
  return `  ${name.padEnd(30)} n=${s.n}  p50 ${fmt(s.p50)} ms  p95 ${fmt(s.p95)} ms  p99 ${fmt(s.p99)} ms  max ${fmt(s.max)} ms  [${st}]`
}

async function main() {
  const server = await startChild({ pglite: f.pglite, compiled: true })
  console.log(machineBanner(`flood: ${CLIENTS} clients of one tenant against two tenants at ${RATE} req/s each`, server.database))
  console.log(await quietCheck())
  try {
    const tenants = await createTenantsViaApi(server.baseUrl, server.operatorKey, 3)
    const inboxes = []
    for (const t of tenants) {
      const res = await call(server.baseUrl, t.key, 'POST', '/v1/inboxes', { name: `agent-${inboxes.length}`, createKey: true })
      if (res.status !== 201) throw new Error(`inbox: ${res.status} ${JSON.stringify(res.body)}`)
      inboxes.push({ id: res.body.id as string, address: res.body.address as string, key: res.body.apiKey as string, tenantKey: t.key })
    }
    const smtp = smtpClient(server.smtpPort, 4)
    for (const inbox of inboxes) {
      const msgs = await buildMessages(MESSAGES, { to: inbox.address })
      await Promise.all(msgs.map((m) => sendRaw(smtp, m.raw, inbox.address)))
    }
    smtp.close()
    const [a, b, c] = inboxes as [(typeof inboxes)[0], (typeof inboxes)[0], (typeof inboxes)[0]]
    const path = (id: string) => `/v1/inboxes/${id}/messages?limit=50`
    const getB = getter(server.baseUrl, b.tenantKey)
    const getC = getter(server.baseUrl, c.tenantKey)
    // Warm-up: connections, plans, the data keys.
    await openLoop(getB, path(b.id), RATE, 2)
    await openLoop(getC, path(c.id), RATE, 2)

    console.log(`\nphase 1: B and C alone, ${SECONDS} s`)
    const [b1, c1] = await Promise.all([openLoop(getB, path(b.id), RATE, SECONDS), openLoop(getC, path(c.id), RATE, SECONDS)])
    console.log(line('B (tenant key)', b1))
    console.log(line('C (tenant key)', c1))

    console.log(`\nphase 2: the same while A floods with ${CLIENTS} clients${f.polite ? ' (polite: waiting Retry-After)' : ' (ignoring 429)'}`)
    const flooder = fork(fileURLToPath(new URL('./lib/flood-client.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const flood = new Promise<Record<string, number>>((resolve) => flooder.once('message', (m: any) => resolve(m.statuses)))
    flooder.send({ baseUrl: server.baseUrl, key: a.tenantKey, path: path(a.id), concurrency: CLIENTS, seconds: SECONDS + 2, polite: f.polite })
    await sleep(1500)
    const [b2, c2] = await Promise.all([openLoop(getB, path(b.id), RATE, SECONDS), openLoop(getC, path(c.id), RATE, SECONDS)])
    const floodStatuses = await flood
    flooder.kill()
    console.log(line('B (tenant key)', b2))
    console.log(line('C (tenant key)', c2))
    const total = Object.values(floodStatuses).reduce((x, y) => x + y, 0)
    console.log(`  A (flood)                      ${total} requests in ${SECONDS + 2} s: ${Object.entries(floodStatuses).map(([k, v]) => `${k}:${v}`).join(' ')}`)

    const p99 = (s: Sample[]) => summarize(s.map((x) => x.ms)).p99
    const fivexx = [...b2, ...c2].filter((x) => x.status >= 500 || x.status === 0).length + Object.entries(floodStatuses).filter(([k]) => k === 'error' || k.startsWith('5')).reduce((x, [, v]) => x + v, 0)
    console.log(`\nB p99 x${fmt(p99(b2) / p99(b1), 2)}, C p99 x${fmt(p99(c2) / p99(c1), 2)} under the flood (target: within x2); 5xx or failed requests: ${fivexx} (target: 0)`)
  } finally {
    await server.stop()
    await dropAll()
  }
}

runBench(main)
