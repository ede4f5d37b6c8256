// Mailroom under test. In this process (ingest: direct access to the ingest queue), or in a child
// process (latency and memory: its event loop and its RSS are its own).
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig, type Config } from '../../apps/server/src/config.js'
import { startMailroom, type Running } from '../../apps/server/src/server.js'
import { silentLogger } from '../../apps/server/src/lib/log.js'
import { SERVER_NODE_FLAGS, SERVER_V8_POLICY } from '../../apps/server/src/lib/v8-flags.js'
import { createRootTenant } from '../../apps/server/src/tenancy/service.js'
import { fromPublicId, toPublicId } from '../../apps/server/src/lib/ids.js'
import { withTenant } from '../../apps/server/src/db/scope.js'
import { createInbox } from '../../apps/server/src/inboxes/service.js'
import { createEmptyDatabase, openBenchStores, type BenchDatabase } from './db.js'
import { sleep } from './common.js'

export const BENCH_DOMAIN = 'agents.test'

export interface InProcessServer {
  running: Running
  baseUrl: string
  smtpPort: number
  database: string
  /** Database name (Postgres only): its backends' CPU is measured. */
  databaseName: string | undefined
  /** Owner URL of the bench database (Postgres only). */
  ownerUrl: string | undefined
  makeTenant(name: string): Promise<{ id: string; key: string }>
  /** An inbox with its inbox key, made the way the route does (service call, no HTTP). */
  makeInbox(tenantId: string, name: string): Promise<{ id: string; address: string; key: string }>
  stop(): Promise<void>
}

export async function startInProcess(opts: { pglite: boolean; config?: Partial<Config> }): Promise<InProcessServer> {
  const stores = await openBenchStores({ pglite: opts.pglite })
  const config: Config = {
    ...loadConfig({}),
    masterKey: randomBytes(32).toString('base64'),
    inboundAuth: false,
    httpPort: 0,
    smtpPort: 0,
    host: '127.0.0.1',
    domain: BENCH_DOMAIN,
    logLevel: 'warn',
    dataDir: mkdtempSync(join(tmpdir(), 'mailroom-bench-')),
    ...opts.config,
  }
  const running = await startMailroom({ config, stores, print: () => {}, log: silentLogger })
  const baseUrl = `http://127.0.0.1:${running.httpPort}`
  return {
    running,
    baseUrl,
    smtpPort: running.smtpPort,
    database: stores.describe,
    databaseName: stores.name,
    ownerUrl: stores.ownerUrl,
    async makeTenant(name) {
      const { tenant, apiKey } = await createRootTenant(stores.runtime, running.deps.crypto, name)
      return { id: toPublicId('tenant', tenant.id), key: apiKey }
    },
    async makeInbox(tenantId, name) {
      const internal = fromPublicId('tenant', tenantId)!
      const { inbox, apiKey } = await withTenant(stores.runtime, { tenantId: internal }, (tx) =>
        createInbox(tx, { tenantId: internal, domain: config.domain, name, createKey: true }),
      )
      return { id: toPublicId('inbox', inbox.id), address: inbox.address, key: apiKey! }
    },
    async stop() {
      await running.stop()
      await stores.close()
      rmSync(config.dataDir, { recursive: true, force: true })
    },
  }
}

export interface ChildStats {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  waiters: number
}

export interface ChildServer {
  pid: number
  baseUrl: string
  smtpPort: number
  operatorKey: string
  /** How the server process runs: tsx or compiled. */
  runtime: string
  database: string
  databaseName: string | undefined
  /** `gc`: run a full garbage collection in the server first (it runs with --expose-gc). */
  stats(opts?: { gc?: boolean }): Promise<ChildStats>
  /** Diagnosis: writes a heap snapshot of the server (after a GC) and returns its path. */
  snapshot(file: string): Promise<string>
  stop(): Promise<void>
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url))
const SERVER_DIR = fileURLToPath(new URL('../../apps/server/', import.meta.url))

/**
 * The server child compiled to one JavaScript file with esbuild (the server's npm dependencies
 * stay external), so it runs on plain `node` without the tsx loader, as a built deployment would.
 * Laid out as apps/server/src/x/ in a temp dir, with `migrations` and `node_modules` linked to the
 * real ones, so the paths the server derives from import.meta.url still resolve.
 */
async function compileChild(root: string): Promise<string> {
  const { build } = await import('esbuild')
  const deps = Object.keys((JSON.parse(readFileSync(join(SERVER_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies)
  const external = deps.filter((d) => !d.startsWith('@mailroom/')).flatMap((d) => [d, `${d}/*`])
  const out = join(root, 'apps/server/src/x/server-child.mjs')
  mkdirSync(dirname(out), { recursive: true })
  symlinkSync(join(SERVER_DIR, 'migrations'), join(root, 'apps/server/migrations'))
  symlinkSync(join(SERVER_DIR, 'node_modules'), join(root, 'apps/server/node_modules'))
  await build({ entryPoints: [CHILD], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', external, logLevel: 'warning' })
  // The parse threads' code beside it, as scripts/build.mjs lays it out for `pnpm start`.
  await build({ entryPoints: [join(SERVER_DIR, 'src/messages/parse-worker.ts')], outfile: join(dirname(out), 'parse-worker.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', external, logLevel: 'warning' })
  return out
}

/**
 * Mailroom in a child process, configured through the environment exactly like
 * `pnpm mailroom start` (DATABASE_URL, MAILROOM_MASTER_KEY, ...), run by tsx like `pnpm dev`, or compiled
 * on plain node with the V8 flag `pnpm start` sets (`--compiled`).
 * It answers `stats` over IPC (its memory, its waiter count) so the bench can tell when all the
 * waits it opened are registered.
 */
export async function startChild(opts: { pglite: boolean; compiled?: boolean; env?: Record<string, string> }): Promise<ChildServer> {
  let db: BenchDatabase | null = null
  let dataDir: string | null = null
  const operatorKey = `op_${randomBytes(24).toString('hex')}`
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MAILROOM_MASTER_KEY: randomBytes(32).toString('base64'),
    MAILROOM_OPERATOR_KEY: operatorKey,
    MAILROOM_HTTP_PORT: '0',
    MAILROOM_SMTP_PORT: '0',
    MAILROOM_HOST: '127.0.0.1',
    MAILROOM_DOMAIN: BENCH_DOMAIN,
    MAILROOM_INBOUND_AUTH: 'off',
    MAILROOM_LOG_LEVEL: 'warn',
    ...opts.env,
  }
  delete env.MAILROOM_RUNTIME_DATABASE_URL
  // Its own data dir always (embedded database, generated DKIM key ...): never the repo's ./.mailroom.
  dataDir = mkdtempSync(join(tmpdir(), 'mailroom-bench-'))
  env.MAILROOM_DATA_DIR = dataDir
  if (opts.pglite) {
    delete env.DATABASE_URL
  } else {
    db = await createEmptyDatabase()
    env.DATABASE_URL = db.ownerUrl!
  }
  let buildDir: string | null = null
  let entry = CHILD
  // BENCH_NODE_FLAGS: extra node/V8 flags for the server child, for experiments.
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  if (opts.compiled) {
    buildDir = mkdtempSync(join(tmpdir(), 'mailroom-bench-build-'))
    entry = await compileChild(buildDir)
  }
  // The flags node takes only at start, as `pnpm start` and `pnpm dev` give them (the child sets the
  // rest itself, applyServerV8Flags, as `mailroom start` does); tsx's loader unless compiled (plain node).
  const execArgv = [...SERVER_NODE_FLAGS, ...(opts.compiled ? [] : ['--import', 'tsx']), '--expose-gc', ...extra]
  const child: ChildProcess = fork(entry, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))])
    }
    await db?.drop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    if (buildDir) rmSync(buildDir, { recursive: true, force: true })
  }
  const ready = await new Promise<{ httpPort: number; smtpPort: number }>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the server child exited (${code}) before it was ready`))
    child.once('exit', onExit)
    child.once('message', (m: any) => {
      child.off('exit', onExit)
      if (m?.type === 'ready') resolve(m)
      else reject(new Error(`unexpected message from the server child: ${JSON.stringify(m)}`))
    })
  }).catch(async (err) => {
    await cleanup()
    throw err
  })
  let seq = 0
  const pending = new Map<number, (s: any) => void>()
  child.on('message', (m: any) => {
    if (m?.type === 'stats' || m?.type === 'heapsnapshot') {
      pending.get(m.id)?.(m.type === 'stats' ? m.stats : m.file)
      pending.delete(m.id)
    }
  })
  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${ready.httpPort}`,
    smtpPort: ready.smtpPort,
    operatorKey,
    runtime: `${opts.compiled ? 'plain node, server compiled to one JS file by esbuild (as `pnpm start` runs it)' : 'tsx, TypeScript loaded at run time (as `pnpm dev` runs it)'}; V8 ${SERVER_V8_POLICY}`,
    database: db ? db.describe : `embedded PGlite in ${dataDir} (in the server process)`,
    databaseName: db?.name,
    stats(o = {}) {
      const id = ++seq
      return new Promise<ChildStats>((resolve) => {
        pending.set(id, resolve)
        child.send({ type: 'stats', id, gc: Boolean(o.gc) })
      })
    },
    snapshot(file) {
      const id = ++seq
      return new Promise<string>((resolve) => {
        pending.set(id, resolve)
        child.send({ type: 'heapsnapshot', id, file })
      })
    },
    stop: cleanup,
  }
}
