// A real Mailroom process in the test (HTTP + SMTP on loopback, port 0) over the file's database,
// plus factories that create tenants, keys and inboxes the way users do.
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { loadConfig, type Config } from '@mailroom/server/src/config.js'
import type { DnsResolver } from '@mailroom/server/src/mail/sender-auth.js'
import type { MailParser } from '@mailroom/server/src/messages/parser.js'
import { startMailroom, type Running, type StartOptions } from '@mailroom/server/src/server.js'
import { createLogger, silentLogger, type Logger } from '@mailroom/server/src/lib/log.js'
import { createRootTenant } from '@mailroom/server/src/tenancy/service.js'
import { toPublicId } from '@mailroom/server/src/lib/ids.js'
import type { Clock } from '@mailroom/server/src/lib/clock.js'
import { rawRows } from '@mailroom/server/src/db/client.js'
import { NOTIFICATION_ECHO_MS } from '@mailroom/server/src/db/echo.js'
import { createTestDb, type TestDb } from './db.js'

export interface TestServer {
  db: TestDb
  running: Running
  baseUrl: string
  config: Config
  stop(): Promise<void>
}

/** One master key per test process; tests never depend on a dev key file. */
export const TEST_MASTER_KEY = randomBytes(32).toString('base64')

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    masterKey: TEST_MASTER_KEY,
    inboundAuth: false,
    httpPort: 0,
    smtpPort: 0,
    host: '127.0.0.1',
    domain: 'agents.test',
    logLevel: 'silent',
    // Tests make requests as fast as they can and run on loaded machines: the request-rate limits
    // and the wait for a database connection are tested where they are the subject, not in passing.
    apiRequestsPerSecond: 1_000_000,
    apiBurst: 1_000_000,
    dbQueueTimeoutMs: 60_000,
    ...overrides,
  }
}

export interface TestServerOptions {
  config?: Partial<Config>
  clock?: Clock
  db?: TestDb
  resolver?: DnsResolver
  ingestLeaseSeconds?: number
  parser?: MailParser
  /** Outbound delivery options (transport, retry timing, reputation thresholds ...). */
  delivery?: StartOptions['delivery']
  /** Webhook worker options. */
  webhooks?: StartOptions['webhooks']
  /** Where the server logs (default: nowhere). */
  log?: Logger
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.db ?? (await createTestDb())
  const config = testConfig(opts.config)
  const running = await startMailroom({
    config,
    stores: db,
    // MAILROOM_TEST_LOG=error (or warn, info, ...) shows the servers' logs when a test needs reading.
    log: opts.log ?? (process.env.MAILROOM_TEST_LOG ? createLogger(process.env.MAILROOM_TEST_LOG as Parameters<typeof createLogger>[0]) : silentLogger),
    print: () => {},
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.resolver ? { resolver: opts.resolver } : {}),
    ...(opts.ingestLeaseSeconds ? { ingestLeaseSeconds: opts.ingestLeaseSeconds } : {}),
    ...(opts.parser ? { parser: opts.parser } : {}),
    ...(opts.delivery ? { delivery: opts.delivery } : {}),
    ...(opts.webhooks ? { webhooks: opts.webhooks } : {}),
  })
  return {
    db,
    running,
    config,
    baseUrl: `http://127.0.0.1:${running.httpPort}`,
    async stop() {
      await running.stop()
      if (!opts.db) await db.close()
    },
  }
}

/** A tiny HTTP client for tests: JSON in, { status, body, headers } out. */
export function client(baseUrl: string, key?: string, extraHeaders: Record<string, string> = {}) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...extraHeaders,
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: any = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers, text }
  }
  return {
    get: (p: string, h?: Record<string, string>) => call('GET', p, undefined, h),
    post: (p: string, b?: unknown, h?: Record<string, string>) => call('POST', p, b ?? {}, h),
    patch: (p: string, b?: unknown, h?: Record<string, string>) => call('PATCH', p, b ?? {}, h),
    delete: (p: string, h?: Record<string, string>) => call('DELETE', p, undefined, h),
    call,
  }
}

/** The channel of `notificationsHeard`'s markers (nothing in Mailroom listens on it). */
const SYNC_CHANNEL = 'mailroom_test_sync'

/**
 * Resolves once every notification committed before the call has reached the server's listening
 * connection and been handed to its listeners: a marker sent after them comes back after them
 * (Postgres delivers notifications in commit order). A change is forgotten in the process that makes
 * it at once, and again when its notification comes back (a read in between may predate its
 * commit); a test that counts the server's reads, or relies on something kept, waits for this after
 * a change, so that the change's notification, late on a loaded machine, is not heard in the middle
 * of what it checks. On a Citus coordinator every notification is heard again 50 ms, 1 s and 5 s
 * later (db/echo.ts): there it resolves once the marker's last echo is heard, after every earlier
 * notification's (each delay keeps its echoes in the order heard).
 */
export async function notificationsHeard(server: TestServer, timeoutMs = 20_000): Promise<void> {
  const marker = randomBytes(8).toString('hex')
  let heard!: () => void
  const back = new Promise<void>((resolve) => (heard = resolve))
  const times = server.running.deps.database.citus ? 1 + NOTIFICATION_ECHO_MS.length : 1
  let n = 0
  const unlisten = await server.running.deps.database.listen(SYNC_CHANNEL, (payload) => {
    if (payload === marker && ++n === times) heard()
  })
  let timer: NodeJS.Timeout | undefined
  try {
    await rawRows(server.db.runtime.db, sql`select pg_notify(${SYNC_CHANNEL}, ${marker})`)
    await Promise.race([
      back,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the marker notification did not come back in ${timeoutMs} ms`)), timeoutMs))),
    ])
  } finally {
    clearTimeout(timer)
    await unlisten()
  }
}

export interface TenantFixture {
  id: string
  key: string
  api: ReturnType<typeof client>
}

/** A top-level tenant with its tenant key, made as the operator would. */
export async function makeTenant(server: TestServer, name = 'acme'): Promise<TenantFixture> {
  const { tenant, apiKey } = await createRootTenant(server.db.runtime, server.running.deps.crypto, name)
  return { id: toPublicId('tenant', tenant.id), key: apiKey, api: client(server.baseUrl, apiKey) }
}

export interface InboxFixture {
  id: string
  address: string
  key: string
  api: ReturnType<typeof client>
}

export async function makeInbox(server: TestServer, tenant: TenantFixture, name?: string): Promise<InboxFixture> {
  const res = await tenant.api.post('/v1/inboxes', { ...(name ? { name } : {}), createKey: true })
  if (res.status !== 201) throw new Error(`makeInbox: ${res.status} ${res.text}`)
  return { id: res.body.id, address: res.body.address, key: res.body.apiKey, api: client(server.baseUrl, res.body.apiKey) }
}

export async function makeChild(parent: TenantFixture, server: TestServer, name = 'child'): Promise<TenantFixture> {
  const res = await parent.api.post('/v1/tenants', { name })
  if (res.status !== 201) throw new Error(`makeChild: ${res.status} ${res.text}`)
  return { id: res.body.id, key: res.body.apiKey, api: client(server.baseUrl, res.body.apiKey) }
}
