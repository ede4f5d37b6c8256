// Idle waiters: the server's RSS with 10,000 open waits (long-polls on GET
// /v1/inboxes/{id}/messages/wait held open by raw keep-alive HTTP clients). The server runs alone
// in a child process; its RSS is read from /proc/<pid>/status (VmRSS).
//
//   pnpm exec tsx bench/idle-waiters.ts [--waits 10000] [--inboxes 10000] [--pglite]
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { awaitQuiet, backendPids, cpuMsOf, cpuMsOfAll, fmt, flags, int, machineBanner, machineCpu, mb, openFilesLimit, quietCheck, rssOf, sleep } from './lib/common.js'
import { startChild, type ChildServer } from './lib/server.js'
import { createInboxesViaApi, createTenantsViaApi, type InboxFixture } from './lib/api.js'
import { ADMIN_URL, dropAll, runBench } from './lib/db.js'

const USAGE = `usage: pnpm exec tsx bench/idle-waiters.ts [options]
  --waits <n>        open waits to hold (default 10000)
  --inboxes <n>      inboxes (each with its inbox key) the waits are spread over (default: = waits)
  --tenants <n>      tenants the inboxes are spread over (default 10)
  --hold <s>         how long to sample RSS once every wait is open (default 35: every wait's hold of
                     24-30 s ends inside it, so the window holds a whole round of re-polls)
  --batch <n>        waits opened at a time while ramping up (default 500)
  --compiled         run the server compiled to JavaScript (esbuild bundle, plain node) instead of under tsx
  --pglite           embedded PGlite (in the server process) instead of the local Postgres`

const f = flags(
  {
    waits: { type: 'string', default: '10000' },
    inboxes: { type: 'string', default: '' },
    tenants: { type: 'string', default: '10' },
    hold: { type: 'string', default: '35' },
    batch: { type: 'string', default: '500' },
    pglite: { type: 'boolean', default: false },
    compiled: { type: 'boolean', default: false },
  },
  USAGE,
)
const WAITS = int(f.waits, 'waits')
const INBOXES = f.inboxes ? int(f.inboxes, 'inboxes') : WAITS
const TENANTS = int(f.tenants, 'tenants')
const HOLD_S = int(f.hold, 'hold')
const BATCH = int(f.batch, 'batch')
const TARGET = 300 * 1024 * 1024

/** One long-poll that re-polls with the server's cursor whenever the server's hold (30 s) ends. */
class Waiter {
  stopped = false
  answered = 0
  errors = 0
  private req: http.ClientRequest | null = null
  constructor(
    private readonly server: ChildServer,
    private readonly agent: http.Agent,
    private readonly inbox: InboxFixture,
  ) {}

  start(cursor?: string) {
    if (this.stopped) return
    const q = `timeout=30${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const req = http.get(
      `${this.server.baseUrl}/v1/inboxes/${this.inbox.id}/messages/wait?${q}`,
      { agent: this.agent, headers: { authorization: `Bearer ${this.inbox.key}` } },
      (res) => {
        res.resume()
        res.on('end', () => {
          this.answered++
          if (res.statusCode !== 204 && res.statusCode !== 200) this.errors++
          const next = res.headers['mailroom-cursor']
          this.start(typeof next === 'string' ? next : cursor)
        })
      },
    )
    req.on('error', () => {
      if (this.stopped) return
      this.errors++
      setTimeout(() => this.start(cursor), 500)
    })
    this.req = req
  }

  stop() {
    this.stopped = true
    this.req?.destroy()
  }
}

async function main() {
  console.log(machineBanner(`idle waiters: server RSS with ${WAITS} open waits`, 'see below'))
  console.log(await quietCheck())
  if (openFilesLimit() < WAITS + 500) {
    console.error(
      `ulimit -n is ${openFilesLimit()}: ${WAITS} waits hold ${WAITS} sockets in this process and as many in the server. Raise it first: ulimit -n ${Math.max(4096, (WAITS + 500) * 2)}`,
    )
    process.exit(2)
  }
  const server = await startChild({ pglite: f.pglite, compiled: f.compiled })
  const waiters: Waiter[] = []
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: WAITS })
  try {
    console.log(`database: ${server.database}`)
    console.log(`server: child process pid ${server.pid} (${server.runtime}; startMailroom with the config from the environment, like \`mailroom start\`)`)
    await sleep(3000)
    const rssStart = rssOf(server.pid)
    console.log(`RSS after start (idle, 3 s):                ${mb(rssStart)}`)

    const t0 = performance.now()
    const tenants = await createTenantsViaApi(server.baseUrl, server.operatorKey, TENANTS)
    const inboxes = await createInboxesViaApi(server.baseUrl, tenants, INBOXES, {
      onProgress: (n) => process.stdout.write(`\r  ${n} inboxes...`),
    })
    process.stdout.write('\r')
    console.log(`setup: ${TENANTS} tenants, ${INBOXES} inboxes with inbox keys, through the API, in ${fmt((performance.now() - t0) / 1000)} s`)
    await sleep(3000)
    const statsBefore = await server.stats({ gc: true })
    await sleep(500)
    const rssBefore = rssOf(server.pid)
    console.log(`RSS before the waits (after setup and a GC): ${mb(rssBefore)}   (heap used ${mb(statsBefore.heapUsed)})`)
    const note = await awaitQuiet(30_000)
    if (note) console.log(note)

    // Ramp up in batches, each one registered on the server before the next, so connects do not
    // overflow the listen backlog. Inbox i gets waits i, i+INBOXES, ...
    const tr0 = performance.now()
    const cpu0 = cpuMsOf(server.pid)
    for (let opened = 0; opened < WAITS; ) {
      const n = Math.min(BATCH, WAITS - opened)
      for (let k = 0; k < n; k++) {
        const w = new Waiter(server, agent, inboxes[(opened + k) % inboxes.length]!)
        waiters.push(w)
        w.start()
      }
      opened += n
      const deadline = Date.now() + 30_000
      while ((await server.stats()).waiters < opened * 0.99 && Date.now() < deadline) await sleep(25)
      process.stdout.write(`\r  ${opened} waits opened, ${(await server.stats()).waiters} registered`)
    }
    const deadline = Date.now() + 30_000
    let registered = (await server.stats()).waiters
    while (registered < WAITS && Date.now() < deadline) {
      await sleep(100)
      registered = (await server.stats()).waiters
    }
    const rampS = (performance.now() - tr0) / 1000
    const rampCpu = (cpuMsOf(server.pid) - cpu0) / 1000
    process.stdout.write('\r')
    console.log(`${WAITS} waits opened in ${fmt(rampS)} s (server CPU ${fmt(rampCpu)} s); ${registered} registered on the server${registered < WAITS ? '  <-- not all!' : ''}`)

    // Hold: sample RSS once a second. The server ends each hold after 24-30 s and the waiter
    // re-polls: the default window holds every wait's next re-poll (the steady state an idle fleet
    // is in), not only the quiet after the ramp.
    const samples: number[] = []
    const regs: number[] = []
    let last = await server.stats()
    const cpuHold0 = cpuMsOf(server.pid)
    // The bench database's Postgres backends (real Postgres), and the whole machine (this process's
    // waiters included): what a re-poll costs besides the server's own CPU.
    const backends = server.databaseName ? backendPids(ADMIN_URL, server.databaseName) : []
    const backendsHold0 = cpuMsOfAll(backends)
    const machineHold0 = machineCpu().busyMs
    const answeredBefore = waiters.reduce((a, w) => a + w.answered, 0)
    for (let s = 0; s < HOLD_S; s++) {
      await sleep(1000)
      samples.push(rssOf(server.pid))
      last = await server.stats()
      regs.push(last.waiters)
    }
    const cpuHold = (cpuMsOf(server.pid) - cpuHold0) / 1000 / HOLD_S
    const backendsHold = (cpuMsOfAll(backends) - backendsHold0) / 1000 / HOLD_S
    const machineHold = (machineCpu().busyMs - machineHold0) / 1000 / HOLD_S
    const rssMax = Math.max(...samples)
    const rssLast = samples[samples.length - 1]!
    const answered = waiters.reduce((a, w) => a + w.answered, 0)
    const errors = waiters.reduce((a, w) => a + w.errors, 0)
    console.log(
      `RSS with ${WAITS} open waits (${HOLD_S} samples, 1/s): max ${mb(rssMax)}, last ${mb(rssLast)}; ` +
        `heap used ${mb(last.heapUsed)} / total ${mb(last.heapTotal)}, external ${mb(last.external)}; registered on the server while sampling: ${Math.min(...regs)}..${Math.max(...regs)}`,
    )
    const repolls = waiters.reduce((a, w) => a + w.answered, 0) - answeredBefore
    console.log(`  per open wait: ${fmt((rssMax - rssBefore) / WAITS / 1024)} KB RSS; server CPU while holding: ${fmt(cpuHold * 100, 1)}% of a core; holds ended (re-polled) while sampling: ${repolls}`)
    console.log(
      `  while holding: the bench database's Postgres backends ${server.databaseName ? `${fmt(backendsHold * 100, 1)}% of a core` : '- (PGlite: in the server)'}, the machine ${fmt(machineHold * 100, 1)}% of a core ` +
        `(this process's waiters included); ${repolls > 0 ? `${fmt((machineHold * HOLD_S * 1000) / repolls, 2)} ms of machine CPU a re-poll` : 'no re-polls'}`,
    )
    // Diagnosis: a forced full GC in the server tells retained memory from garbage not yet collected.
    const gcd = await server.stats({ gc: true })
    await sleep(500)
    console.log(
      `  after a forced full GC (diagnosis only): RSS ${mb(rssOf(server.pid))}, heap used ${mb(gcd.heapUsed)} ` +
        `(${fmt((gcd.heapUsed - statsBefore.heapUsed) / WAITS / 1024)} KB retained heap per wait), ${gcd.waiters} registered`,
    )
    console.log(`  answers during the run (server holds of 30 s ending, re-polled): ${answered}, errors: ${errors}`)
    console.log(`\nsummary (${server.database.split(',')[0]}):`)
    console.log(`| RSS after start | RSS before waits | RSS with ${WAITS} waits (max) | per wait | target < 300 MB |`)
    console.log(`|---|---|---|---|---|`)
    console.log(`| ${mb(rssStart)} | ${mb(rssBefore)} | ${mb(rssMax)} | ${fmt((rssMax - rssBefore) / WAITS / 1024)} KB | ${WAITS < 10_000 ? '- (target is for 10,000 waits)' : rssMax < TARGET && registered >= WAITS ? 'met' : 'missed'} |`)
  } finally {
    for (const w of waiters) w.stop()
    agent.destroy()
    await server.stop()
    await dropAll()
  }
}

runBench(main)
