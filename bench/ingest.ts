// Ingest throughput: messages/s through SMTP -> committed -> parsed and visible in the API, beside
// a bare smtp-server + simpleParser baseline, a durable baseline (+ one committed INSERT) and
// Postfix, measured in the same run, in interleaved rounds, on the same messages, with the same
// pooled nodemailer client in a process of its own; with the CPU per message of each (the server's
// processes, the client's, and the machine). This process runs Mailroom and the baselines with the
// V8 flags Mailroom ships with (applyServerV8Flags).
//
//   pnpm exec tsx bench/ingest.ts [--n 2000] [--connections 16] [--rounds 2] [--pglite] [--stages] [--no-postfix]
//
// Postfix (bench/lib/postfix.ts): Debian's package, installed by this bench when /usr/sbin/postfix
// is missing (as root; debconf "No configuration", no system instance started), and an instance
// of the bench's own in a temporary folder: smtpd on 127.0.0.1:<free port> only, nothing relayed,
// the bench's recipient delivered by virtual(8) (virtual_mailbox_base under the folder, an inline:
// virtual_mailbox_maps, uid/gid nobody: no system user is created) to a Maildir, with Postfix's
// normal durability (queue file fsynced before the 250; the Maildir file fsynced before it is
// renamed into new/). A Postfix message counts as done when its file is in the Maildir's new/ (the
// equivalent of Mailroom's "parsed and visible"); its rate at the last 250 is reported too. Its
// CPU: the master and every child it spawns (live children from /proc/<pid>/stat fields 14-17,
// exited ones through the master's cutime/cstime), logging through postlogd to a file included.
// Started with `postfix -c DIR start`, stopped by its master's PID, also on Ctrl-C; folder removed.
import { performance } from 'node:perf_hooks'
import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { awaitQuiet, backendPids, cpuMsOf, cpuMsOfAll, machineCpu, schedOf, fmt, flags, int, machineBanner, quietCheck, runAgainWithStartFlags, sleep } from './lib/common.js'
import { describeMix, ingestSets, type BenchMessage } from './lib/mail.js'
import { startInProcess, type InProcessServer } from './lib/server.js'
import postgres from 'postgres'
import { listAll } from './lib/api.js'
import { ADMIN_URL, analyzeLikeAutovacuum, dropAll, runBench } from './lib/db.js'
import { ensurePostfixInstalled, startPostfix, type PostfixInstance } from './lib/postfix.js'
import { attributionLines, ensurePerf, PERF_NODE_FLAG, startPerf, type Attribution } from './lib/perf-profile.js'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ClientReply, ClientSend, ClientSetup } from './lib/smtp-client-child.js'
import { applyServerV8Flags, SERVER_V8_POLICY } from '../apps/server/src/lib/v8-flags.js'

const USAGE = `usage: pnpm exec tsx bench/ingest.ts [options]
  --n <count>           messages per measured round (default 2000)
  --warmup <count>      messages sent to each server before measuring (default 200)
  --connections <k>     pooled SMTP connections of the client (default 16)
  --rounds <r>          measured rounds; baseline, Postfix, durable baseline and Mailroom alternate (default 2)
  --inboxes <k>         Mailroom inboxes the messages are spread over (default 20)
  --tenants <k>         tenants those inboxes belong to, round-robin (default 2)
  --pglite              embedded PGlite instead of the local Postgres
  --stages              time each ingest stage in Mailroom (accept, parse, store) and report
  --no-durable          skip the durable baseline (smtp-server + one committed INSERT + simpleParser)
  --no-postfix          skip Postfix (otherwise installed if missing, as root, and run from a temporary folder)
  --only <which>        measure only 'mailroom', 'baseline' or 'postfix' (for profiling with --cpu-prof)
  --perf                where Mailroom's CPU goes in each round: Linux perf samples the whole machine
                        (this process's threads, Postgres, the kernel); installs linux-perf if missing
  --perf-keep <dir>     with --perf: keep each round's perf.data in <dir> with the JavaScript symbol map,
                        for \`perf report\` by function (the command is printed)
  --quiet-wait <s>      before each measured phase, wait up to this long for the machine to be idle (default 120)`

const f = flags(
  {
    n: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    inboxes: { type: 'string', default: '20' },
    tenants: { type: 'string', default: '2' },
    pglite: { type: 'boolean', default: false },
    stages: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    'no-durable': { type: 'boolean', default: false },
    'no-postfix': { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '120' },
    perf: { type: 'boolean', default: false },
    'perf-keep': { type: 'string', default: '' },
  },
  USAGE,
)
if (f['perf-keep'] && !f.perf) throw new Error('--perf-keep goes with --perf')
// Mailroom runs in this process, with the server's start flags; with --perf, also the flag that makes
// V8 write the map perf names JavaScript frames from. That map (it grows with every compiled
// function) goes with the process, or to where the kept samples are.
runAgainWithStartFlags(f.perf ? [PERF_NODE_FLAG] : [], (pid) => {
  const map = `/tmp/perf-${pid}.map`
  if (f['perf-keep'] && existsSync(map)) copyFileSync(map, join(f['perf-keep'], basename(map)))
  rmSync(map, { force: true })
})
const N = int(f.n, 'n')
const WARMUP = int(f.warmup, 'warmup', 0)
const CONNECTIONS = int(f.connections, 'connections')
const ROUNDS = int(f.rounds, 'rounds')
const INBOXES = int(f.inboxes, 'inboxes')
const TENANTS = int(f.tenants, 'tenants')
const QUIET_MS = int(f['quiet-wait'], 'quiet-wait', 0) * 1000
const notes: string[] = []
const quiet = async (phase: string) => {
  const note = await awaitQuiet(QUIET_MS)
  if (note) notes.push(`${phase}:${note}`)
}
if (f.only && f.only !== 'mailroom' && f.only !== 'baseline' && f.only !== 'postfix') {
  console.error(`--only must be mailroom, baseline or postfix\n${USAGE}`)
  process.exit(2)
}
/** Backends of the bench database (their CPU is what Mailroom costs Postgres); empty on PGlite. */
let pgPids: number[] = []
const pgCpu = () => cpuMsOfAll(pgPids)

// ---------------------------------------------------------------------------------------------
// The baseline: smtp-server on loopback whose onData collects the stream and runs simpleParser
// on it before answering 250. Nothing stored. With `store`, the raw bytes are first written to
// Postgres (one INSERT, committed) before parsing and answering: the least any durable server does.

function startBaseline(store?: (raw: Buffer) => Promise<unknown>): Promise<{ port: number; parsed: () => number; stop: () => Promise<void> }> {
  let parsed = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('error', callback)
      stream.on('end', () => {
        const raw = Buffer.concat(chunks)
        ;(store ? store(raw) : Promise.resolve())
          .then(() => simpleParser(raw))
          .then(
            () => {
              parsed++
              callback()
            },
            (err: Error) => callback(err),
          )
      })
    },
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.server.address()
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        parsed: () => parsed,
        stop: () => new Promise<void>((r) => server.close(() => r())),
      })
    })
  })
}

// ---------------------------------------------------------------------------------------------

/** One server in one round: rate to done, rate at the last 250, CPU. */
interface Measured {
  rate: number
  accepted: number
  usage: Usage
}

interface Usage {
  wallMs: number
  benchCpuMs: number
  mainCpuMs: number
  mainRunQueueMs: number
  pgCpuMs: number
  /** CPU of a server in other processes (Postfix: its master and children); 0 for in-process servers. */
  treeCpuMs: number
  /** CPU of the SMTP client's process. */
  clientCpuMs: number
  /** Busy CPU time of the whole machine, all cores (/proc/stat). */
  machineCpuMs: number
  /** CPU time the hypervisor took from this machine's cores, all cores (/proc/stat steal). */
  stealMs: number
  elu: number
}

const NO_USAGE: Usage = { wallMs: NaN, benchCpuMs: NaN, mainCpuMs: NaN, mainRunQueueMs: NaN, pgCpuMs: NaN, treeCpuMs: NaN, clientCpuMs: NaN, machineCpuMs: NaN, stealMs: NaN, elu: NaN }

async function measure<T>(fn: () => Promise<T>, treeCpu: () => number = () => 0): Promise<{ value: T; usage: Usage }> {
  const machine0 = machineCpu()
  const tree0 = treeCpu()
  const client0 = client.cpuMs()
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpuMs()
  const rq0 = schedOf(process.pid, process.pid).runQueueMs
  const pg0 = pgCpu()
  const elu0 = performance.eventLoopUtilization()
  const t0 = performance.now()
  const value = await fn()
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const treeCpuMs = treeCpu() - tree0
  const clientCpuMs = client.cpuMs() - client0
  const machine1 = machineCpu()
  return {
    value,
    usage: {
      wallMs,
      benchCpuMs: (cpu.user + cpu.system) / 1000,
      mainCpuMs: mainThreadCpuMs() - main0,
      mainRunQueueMs: schedOf(process.pid, process.pid).runQueueMs - rq0,
      pgCpuMs: pgCpu() - pg0,
      treeCpuMs,
      clientCpuMs,
      machineCpuMs: machine1.busyMs - machine0.busyMs,
      stealMs: machine1.stealMs - machine0.stealMs,
      elu: performance.eventLoopUtilization(elu0).utilization,
    },
  }
}

/** CPU time of this process's main thread alone (the rest: parse workers, GC and libuv threads). */
const mainThreadCpuMs = () => cpuMsOf(process.pid, process.pid)

/**
 * CPU per message of the server's processes, without the client (which has its own process): this
 * process (the server) and its Postgres backends, or Postfix's processes.
 */
const serverCpuPerMsg = (u: Usage, n: number, external: boolean) => (external ? u.treeCpuMs : u.benchCpuMs + u.pgCpuMs) / n

/** The whole machine's busy cores over the phase, and the host's steal beside them. */
const machineCores = (u: Usage) => `machine ${fmt(u.machineCpuMs / u.wallMs, 2)} cores (host steal ${fmt(u.stealMs / u.wallMs, 2)})`

const usageLine = (u: Usage, n: number) =>
  `CPU: this process ${fmt(u.benchCpuMs / u.wallMs, 2)} cores (main thread ${fmt(u.mainCpuMs / u.wallMs, 2)}, event loop busy ${fmt(u.elu * 100, 0)}%, main thread waiting for a CPU ${fmt((100 * u.mainRunQueueMs) / u.wallMs, 0)}% of the time)` +
  (pgPids.length ? `, Postgres backends ${fmt(u.pgCpuMs / u.wallMs, 2)} cores` : '') +
  `, the client ${fmt(u.clientCpuMs / u.wallMs, 2)} cores, ${machineCores(u)}; ${fmt(serverCpuPerMsg(u, n, false), 2)} ms CPU per message (process + backends), ${fmt(u.clientCpuMs / n, 2)} ms (client), ${fmt(u.machineCpuMs / n, 2)} ms machine`

const postfixUsageLine = (u: Usage, n: number) =>
  `CPU: Postfix processes ${fmt(u.treeCpuMs / u.wallMs, 2)} cores, the client ${fmt(u.clientCpuMs / u.wallMs, 2)} cores, this process (waiting for the Maildir) ${fmt(u.benchCpuMs / u.wallMs, 2)} cores, ${machineCores(u)}; ` +
  `${fmt(u.treeCpuMs / n, 2)} ms CPU per message (Postfix), ${fmt(u.clientCpuMs / n, 2)} ms (client), ${fmt(u.machineCpuMs / n, 2)} ms machine`

/** The messages of a set, as the bench built them; the client's process built the same (ingestSets). */
type MessageSet = ClientSend['set']
let sets: Record<MessageSet, BenchMessage[]> = { warm: [], measured: [] }
/** Where a set's messages go: message i to addresses[(offset + i) % addresses.length]. */
interface Recipients {
  addresses: string[]
  offset: number
}
const AGENT: Recipients = { addresses: ['agent@agents.test'], offset: 0 }

/**
 * The SMTP client in a process of its own (bench/lib/smtp-client-child.ts): in a deployment the
 * senders are not in the server's process, and here they would share its event loop, its heap and
 * its collections. Its CPU is counted apart (and in the machine's).
 */
interface ClientProcess {
  pid: number
  cpuMs(): number
  /** Sends a set; resolves with the time from the first MAIL to the last 250 (ms). */
  send(port: number, set: MessageSet, to: Recipients): Promise<number>
  stop(): void
}

function startClient(): Promise<ClientProcess> {
  const child = fork(fileURLToPath(new URL('./lib/smtp-client-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map<number, { resolve: (ms: number) => void; reject: (err: Error) => void }>()
  let nextId = 1
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const err = new Error(`the SMTP client's process exited (${signal ?? code})`)
      reject(err)
      for (const w of waiting.values()) w.reject(err)
      waiting.clear()
    })
    child.on('message', (m: ClientReply) => {
      if (m.type === 'ready') {
        resolve({
          pid: child.pid!,
          cpuMs: () => cpuMsOf(child.pid!),
          send: (port, set, to) =>
            new Promise<number>((res, rej) => {
              const id = nextId++
              waiting.set(id, { resolve: res, reject: rej })
              child.send({ type: 'send', id, port, set, addresses: to.addresses, offset: to.offset } satisfies ClientSend)
            }),
          stop: () => void child.kill(),
        })
        return
      }
      const w = waiting.get(m.id)
      waiting.delete(m.id)
      if (m.type === 'sent') w?.resolve(m.ms)
      else w?.reject(new Error(`SMTP client: ${m.message}`))
    })
    child.send({ type: 'setup', n: N, warmup: WARMUP, connections: CONNECTIONS } satisfies ClientSetup)
  })
}
let client: ClientProcess

const sendAll = (port: number, set: MessageSet, to: Recipients) => client.send(port, set, to)

/**
 * One Postfix round: the messages to the instance's recipient; done when all are files in the
 * Maildir's new/ (polled every 5 ms once the last 250 is in).
 */
async function postfixRound(pf: PostfixInstance, set: MessageSet) {
  const msgs = sets[set]
  pf.clearDelivered()
  let acceptMs = 0
  const { usage } = await measure(async () => {
    acceptMs = await sendAll(pf.port, set, { addresses: [pf.recipient], offset: 0 })
    let last = -1
    let since = performance.now()
    for (;;) {
      const n = pf.delivered()
      if (n >= msgs.length) return
      if (n !== last) {
        last = n
        since = performance.now()
      } else if (performance.now() - since > 60_000) throw new Error(`Postfix: ${n} of ${msgs.length} delivered, none for 60 s (log: ${pf.dir}/maillog)`)
      await sleep(5)
    }
  }, pf.cpuMs)
  if (pf.delivered() !== msgs.length) throw new Error(`Postfix delivered ${pf.delivered()} of ${msgs.length}`)
  return { accepted: msgs.length / (acceptMs / 1000), rate: msgs.length / (usage.wallMs / 1000), usage }
}

async function baselineRound(set: MessageSet, store?: (raw: Buffer) => Promise<unknown>) {
  const msgs = sets[set]
  const base = await startBaseline(store)
  try {
    const { usage } = await measure(() => sendAll(base.port, set, AGENT))
    if (base.parsed() !== msgs.length) throw new Error(`baseline parsed ${base.parsed()} of ${msgs.length}`)
    return { rate: msgs.length / (usage.wallMs / 1000), usage }
  } finally {
    await base.stop()
  }
}

interface Stage {
  n: number
  totalMs: number
}
const stages = new Map<string, Stage>()
function timeStage(name: string, ms: number) {
  const s = stages.get(name) ?? { n: 0, totalMs: 0 }
  s.n++
  s.totalMs += ms
  stages.set(name, s)
}
function instrument(server: InProcessServer) {
  const ingest = server.running.deps.ingest as any
  const wrap = (obj: any, method: string, name: string) => {
    const orig = obj[method].bind(obj)
    obj[method] = async (...args: unknown[]) => {
      const t = performance.now()
      try {
        return await orig(...args)
      } finally {
        timeStage(name, performance.now() - t)
      }
    }
  }
  // The stages of apps/server/src/messages/ingest/: accept (analyse, then the group commit), the
  // analysis (parse thread + sender checks), the parse thread alone, the commit of a batch.
  wrap(ingest, 'accept', 'accept (analyse + group commit; before 250)')
  wrap(ingest.analyzer, 'analyse', '  analyse (parse + score + sender checks, incl. waiting for a thread)')
  wrap(ingest.o.parser, 'parse', '    parse in worker thread (incl. queueing for a thread)')
  wrap(ingest.commits, 'write', '  write one batch (one transaction, per batch)')
  wrap(ingest.background, 'process', 'background parse (large messages, per message)')
  wrap(ingest.o.database.db, 'transaction', 'any database transaction')
}

/**
 * Samples what the bench database's backends are doing every 20 ms (pg_stat_activity): running,
 * waiting for a lock, idle in a transaction waiting for the next statement from Node, ...
 */
const waitSamples = new Map<string, number>()
let waitSampleCount = 0
function sampleWaits(datname: string): () => void {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  let stop = false
  const loop = (async () => {
    while (!stop) {
      const rows = await admin`select state, wait_event_type, wait_event from pg_stat_activity where datname = ${datname} and application_name = 'mailroom' and pid <> pg_backend_pid()`
      waitSampleCount++
      for (const r of rows) {
        const key = r.state === 'active' ? (r.wait_event_type ? `active, waiting: ${r.wait_event_type}/${r.wait_event}` : 'active, running') : `${r.state}${r.wait_event ? ` (${r.wait_event})` : ''}`
        waitSamples.set(key, (waitSamples.get(key) ?? 0) + 1)
      }
      await sleep(20)
    }
  })()
  return () => {
    stop = true
    void loop.finally(() => admin.end({ timeout: 1 }))
  }
}

/**
 * Counts the SQL statements the server sends, by statement shape: those drizzle runs, and those the
 * ingest path pipelines straight through postgres.js (db/pipeline.ts calls Query.execute()).
 */
const statements = new Map<string, number>()
async function countStatements() {
  const pg = (await import('../apps/server/node_modules/postgres/src/query.js' as string)) as any
  const qproto = pg.Query.prototype
  const origExecute = qproto.execute
  qproto.execute = function (this: { strings: string[] }) {
    const shape = String(this.strings?.[0] ?? '').replace(/\s+/g, ' ').replace(/"/g, '').trim().slice(0, 70)
    statements.set(shape, (statements.get(shape) ?? 0) + 1)
    return origExecute.apply(this)
  }
  // The server's own copy of drizzle (same module instance: ESM resolves the pnpm symlink).
  const mod = (await import('../apps/server/node_modules/drizzle-orm/postgres-js/session.js' as string)) as any
  const proto = mod.PostgresJsPreparedQuery.prototype
  for (const method of ['execute', 'all']) {
    const orig = proto[method]
    proto[method] = function (this: { queryString: string }, ...args: unknown[]) {
      const shape = this.queryString.replace(/\s+/g, ' ').replace(/"/g, '').slice(0, 70)
      statements.set(shape, (statements.get(shape) ?? 0) + 1)
      return orig.apply(this, args)
    }
  }
}

let durableEnd: (() => Promise<void>) | null = null
let postfix: PostfixInstance | null = null

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim()

async function main() {
  const pglite = f.pglite
  console.log(machineBanner('ingest: SMTP -> committed -> parsed and visible in the API', 'see below'))
  console.log(await quietCheck())
  console.log(`loadavg at start: ${loadavg()}`)
  const doBase = !f.only || f.only === 'baseline'
  const doMailroom = !f.only || f.only === 'mailroom'
  const doPostfix = !f['no-postfix'] && (!f.only || f.only === 'postfix')
  if (f.perf) console.log(`${ensurePerf()}: sampling the machine during each Mailroom round (node ${PERF_NODE_FLAG})`)
  if (doPostfix) {
    console.log(ensurePostfixInstalled())
    postfix = await startPostfix({ recipient: 'agent@agents.test' })
    console.log(
      `Postfix: own instance in ${postfix.dir} (${postfix.fsType}${postfix.fsType === 'tmpfs' ? ' <-- WARNING: fsync costs nothing on tmpfs; set TMPDIR to a disk' : ''}), smtpd on 127.0.0.1:${postfix.port}, master pid ${postfix.masterPid}; virtual(8) to a Maildir, done = file in new/`,
    )
  }
  // This process runs the servers (Mailroom, the baselines): with the V8 flags Mailroom ships with,
  // as `mailroom start` sets them.
  applyServerV8Flags()
  client = await startClient()
  const server = await startInProcess({ pglite })
  console.log(`database: ${server.database}`)
  console.log(`this process (the servers): V8 ${SERVER_V8_POLICY}, as \`mailroom start\` sets it`)
  console.log(`SMTP client: nodemailer ${CONNECTIONS} pooled connections, in its own process (pid ${client.pid}), the same for every server; Mailroom inbound SPF/DKIM/DMARC off`)
  try {
    const tenants = []
    for (let t = 0; t < TENANTS; t++) tenants.push(await server.makeTenant(`bench-${t}`))
    const inboxes: { id: string; address: string; key: string }[] = []
    for (let i = 0; i < INBOXES; i++) inboxes.push(await server.makeInbox(tenants[i % TENANTS]!.id, `agent-${i}`))
    console.log(`Mailroom: ${INBOXES} inboxes in ${TENANTS} tenants, messages spread round-robin`)
    sets = await ingestSets(N, WARMUP)
    const { measured: msgs, warm } = sets
    console.log(`messages: ${describeMix(msgs)}`)

    let sent = 0
    const expectPerInbox = new Map<string, number>()
    const toMailroom = (batch: BenchMessage[]) => {
      const offset = sent
      sent += batch.length
      for (let i = 0; i < batch.length; i++) {
        const box = inboxes[(offset + i) % inboxes.length]!
        expectPerInbox.set(box.id, (expectPerInbox.get(box.id) ?? 0) + 1)
      }
      return { addresses: inboxes.map((b) => b.address), offset }
    }

    // The durable baseline stores through its own pool of 10 connections (as many as Mailroom's).
    let store: ((raw: Buffer) => Promise<unknown>) | undefined
    if (server.ownerUrl && !f['no-durable']) {
      const sql = postgres(server.ownerUrl, { max: 10, onnotice: () => {} })
      await sql`create table bench_raw (id bigserial primary key, data bytea not null)`
      store = (raw) => sql`insert into bench_raw (data) values (${raw})`
      durableEnd = () => sql.end({ timeout: 5 })
    }
    if (warm.length) {
      process.stdout.write(`warm-up: ${warm.length} messages to each server... `)
      await baselineRound('warm')
      if (store) await baselineRound('warm', store)
      if (postfix) await postfixRound(postfix, 'warm')
      await sendAll(server.smtpPort, 'warm', toMailroom(warm))
      await server.running.deps.ingest.idle()
      console.log('done')
    }
    if (await analyzeLikeAutovacuum(server.ownerUrl)) console.log('statistics: ANALYZE after the warm-up (autovacuum would have by now on a running system)')
    let stopSampling = () => {}
    if (f.stages) {
      instrument(server)
      await countStatements()
    }
    if (server.databaseName) pgPids = backendPids(ADMIN_URL, server.databaseName)

    const rows: { round: number; base: Measured; durable: Measured; postfix: Measured; mailroom: Measured }[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      const mailroomFirst = round % 2 === 0
      let base: Awaited<ReturnType<typeof baselineRound>> = { rate: NaN, usage: NO_USAGE }
      let dur: Awaited<ReturnType<typeof baselineRound>> = base
      let pf: Awaited<ReturnType<typeof postfixRound>> = { accepted: NaN, rate: NaN, usage: NO_USAGE }
      let mr: { accepted: number; visible: number; usage: Usage; backlog: number } = { accepted: NaN, visible: NaN, usage: base.usage, backlog: 0 }
      let attribution: Attribution | null = null
      const runMailroom = async () => {
        if (!doMailroom) return
        await quiet(`round ${round} Mailroom`)
        const to = toMailroom(msgs)
        let acceptMs = 0
        let backlog = 0
        if (f.stages && server.databaseName) stopSampling = sampleWaits(server.databaseName)
        const sampling = f.perf ? startPerf({ pgPids, clientPid: client.pid, keep: f['perf-keep'] ? join(f['perf-keep'], `round-${round}.perf.data`) : undefined }) : null
        const { usage } = await measure(async () => {
          acceptMs = await sendAll(server.smtpPort, 'measured', to)
          backlog = server.running.deps.ingest.parsesWaiting
          await server.running.deps.ingest.idle()
        })
        stopSampling()
        if (sampling) attribution = await sampling.stop()
        mr = { accepted: N / (acceptMs / 1000), visible: N / (usage.wallMs / 1000), usage, backlog }
      }
      const runBase = async () => {
        if (!doBase) return
        await quiet(`round ${round} baseline`)
        base = await baselineRound('measured')
      }
      const runDurable = async () => {
        if (!doBase || !store) return
        await quiet(`round ${round} durable baseline`)
        dur = await baselineRound('measured', store)
      }
      const runPostfix = async () => {
        if (!postfix) return
        await quiet(`round ${round} Postfix`)
        pf = await postfixRound(postfix, 'measured')
      }
      const phases = mailroomFirst ? [runMailroom, runDurable, runPostfix, runBase] : [runBase, runPostfix, runDurable, runMailroom]
      for (const phase of phases) {
        await phase()
        await sleep(500)
      }
      // Every message of the run must be listed by the API, parsed.
      let listed = 0
      let parsed = 0
      for (const box of inboxes) {
        const all = await listAll(server.baseUrl, box.key, box.id)
        listed += all.length
        parsed += all.filter((m) => m.parseStatus === 'parsed').length
        if (all.length !== expectPerInbox.get(box.id)) throw new Error(`inbox ${box.id}: ${all.length} listed, ${expectPerInbox.get(box.id)} expected`)
      }
      if (parsed !== sent) throw new Error(`API check: ${parsed} parsed of ${sent} sent`)
      console.log(
        `\nround ${round} (${mailroomFirst ? 'Mailroom first' : 'baseline first'}):\n` +
          `  baseline smtp-server + simpleParser: ${fmt(base.rate)} msgs/s   [${usageLine(base.usage, N)}]\n` +
          (store ? `  durable baseline (+ 1 INSERT, commit): ${fmt(dur.rate)} msgs/s   [${usageLine(dur.usage, N)}]\n` : '') +
          (postfix ? `  Postfix, 250 received (queue file fsynced): ${fmt(pf.accepted)} msgs/s\n  Postfix, delivered to the Maildir:    ${fmt(pf.rate)} msgs/s   [${postfixUsageLine(pf.usage, N)}]\n` : '') +
          `  Mailroom, 250 received (committed):  ${fmt(mr.accepted)} msgs/s   (parse backlog when the last 250 arrived: ${mr.backlog})\n` +
          `  Mailroom, parsed and visible:        ${fmt(mr.visible)} msgs/s   [${usageLine(mr.usage, N)}]\n` +
          `  ratio Mailroom visible / baseline:   ${fmt(mr.visible / base.rate, 2)}x    (API check: ${listed} listed, all ${parsed} parsed)`,
      )
      if (attribution) console.log(attributionLines(attribution, N).join('\n'))
      rows.push({
        round,
        base: { rate: base.rate, accepted: base.rate, usage: base.usage },
        durable: { rate: dur.rate, accepted: dur.rate, usage: dur.usage },
        postfix: { rate: pf.rate, accepted: pf.accepted, usage: pf.usage },
        mailroom: { rate: mr.visible, accepted: mr.accepted, usage: mr.usage },
      })
    }

    type Key = 'base' | 'durable' | 'postfix' | 'mailroom'
    const mean = (k: Key, v: (m: Measured) => number) => rows.reduce((acc, r) => acc + v(r[k]), 0) / rows.length
    const perMsg = (ms: number) => ms / N
    console.log(`\nsummary over ${ROUNDS} round(s) of ${N} messages, ${CONNECTIONS} connections (${server.database.split(',')[0]}; means of the rounds):`)
    console.log(`| server | msgs/s, done | msgs/s at 250 | CPU per message, server's processes | CPU per message, the client | machine CPU per message |`)
    console.log(`|---|---|---|---|---|---|`)
    const line = (k: Key, name: string, done: string, external: boolean) => {
      if (!rows.some((r) => Number.isFinite(r[k].rate))) return
      console.log(
        `| ${name} | ${fmt(mean(k, (m) => m.rate))} (${done}) | ${fmt(mean(k, (m) => m.accepted))} | ${fmt(mean(k, (m) => serverCpuPerMsg(m.usage, N, external)), 2)} ms | ${fmt(mean(k, (m) => perMsg(m.usage.clientCpuMs)), 2)} ms | ${fmt(mean(k, (m) => perMsg(m.usage.machineCpuMs)), 2)} ms |`,
      )
    }
    line('base', 'smtp-server + simpleParser, nothing stored', 'parsed', false)
    line('durable', 'durable baseline (+ 1 committed INSERT)', 'parsed', false)
    line('postfix', 'Postfix, virtual(8) to a Maildir, fsync before 250', 'in new/', true)
    line('mailroom', `Mailroom (Postgres${pglite ? ': PGlite' : ''}, inbound auth off)`, 'parsed and visible', false)
    console.log(
      `server's processes: this process (the server) + the bench database's Postgres backends, or Postfix's master and children; the client: the SMTP client's own process, the same for every row (Postgres's own background processes are in machine only). machine: /proc/stat user+nice+system+irq+softirq, all cores; host steal: /proc/stat steal, in cores (time the hypervisor ran others while this VM's cores waited; rounds with more of it ran on a slowed VM).`,
    )
    if (Number.isFinite(mean('postfix', (m) => m.rate)) && Number.isFinite(mean('mailroom', (m) => m.rate))) {
      console.log(
        `Mailroom / Postfix: ${fmt(mean('mailroom', (m) => m.rate) / mean('postfix', (m) => m.rate), 2)}x msgs/s, ${fmt(mean('mailroom', (m) => m.usage.machineCpuMs) / mean('postfix', (m) => m.usage.machineCpuMs), 2)}x machine CPU per message`,
      )
    }
    console.log(`loadavg at end: ${loadavg()}`)

    for (const n of notes) console.log(n)
    if (f.stages) {
      console.log(`\nstages (Mailroom, measured rounds only; times are wall time per call, overlapping across calls):`)
      for (const [name, s] of stages) console.log(`  ${name.padEnd(56)} ${String(s.n).padStart(6)} calls, mean ${fmt(s.totalMs / s.n, 2)} ms`)
      const msgs = N * ROUNDS
      const tx = stages.get('any database transaction')?.n ?? 0
      const stmts = [...statements.values()].reduce((a, b) => a + b, 0)
      console.log(
        `\nSQL per message (Mailroom, measured rounds): ${fmt(tx / msgs, 2)} transactions, ${fmt(stmts / msgs, 1)} statements + ${fmt((2 * tx) / msgs, 1)} BEGIN/COMMIT = ${fmt((stmts + 2 * tx) / msgs, 1)} round trips`,
      )
      for (const [shape, n] of [...statements].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${fmt(n / msgs, 2).padStart(5)}  ${shape}`)
      if (waitSampleCount) {
        console.log(`\nMailroom's Postgres connections during the measured Mailroom phases (its runtime pool of 10; pg_stat_activity every 20 ms; average connections in each state):`)
        for (const [k, n] of [...waitSamples].sort((a, b) => b[1] - a[1])) console.log(`  ${fmt(n / waitSampleCount, 2).padStart(5)}  ${k}`)
      }
    }
  } finally {
    await postfix?.stop()
    await durableEnd?.()
    await server.stop()
    client.stop()
    await dropAll()
  }
}

runBench(main)
