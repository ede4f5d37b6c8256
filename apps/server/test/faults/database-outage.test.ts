// Database faults are survived, not fatal. A real server process talks to real Postgres through a
// TCP proxy this test owns. Under SMTP and HTTP load, every connection is cut and kept cut for 10 s:
// the process stays up, the API answers 503 database_unavailable (with Retry-After), /readyz says
// not ready, SMTP answers 451 4.3.0; once restored, everything works again with no restart, no
// message that got 250 is lost, and a long-poll wait opened before the cut still wakes. Then every
// backend is terminated twenty times in a row under load, with the same outcome.
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import nodemailer from 'nodemailer'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, onPostgres, TEST_URL, type TestDb } from '@mailroom/testkit/db'
import { client, TEST_MASTER_KEY } from '@mailroom/testkit/server'
import { listAll, openSmtp } from '@mailroom/testkit/mail'
import { waitUntil as waitFor } from '@mailroom/testkit'
import { killChild, startCli, STARTED_LINE } from '../helpers/spawn.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

const OPERATOR_KEY = `op_${randomBytes(20).toString('hex')}`
/** Log lines that mean something went unhandled (the process guard caught it) or a driver threw. */
const crashLines = (log: string) => log.split('\n').filter((l) => /uncaught exception|unhandled promise rejection|TypeError/.test(l))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The testkit's, with the minute a database outage may take. */
const waitUntil = <T>(what: string, check: () => Promise<T | null | undefined | false>) => waitFor(what, check, { timeoutMs: 60_000, everyMs: 100 })

/** Mail and API calls running until stopped, recording every outcome. */
function startLoad(base: string, smtpPort: number, key: string, inbox: { id: string; address: string }) {
  const accepted = new Set<string>()
  const refusedSmtp: string[] = []
  const http: { status: number; code?: string; retryAfter: string | null }[] = []
  let running = true
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 })
  let n = 0
  const mail = (async () => {
    while (running) {
      const subject = `load-${n++}`
      try {
        await transport.sendMail({ from: 'load@example.com', to: inbox.address, subject, text: `message ${subject}` })
        accepted.add(subject)
      } catch (err) {
        refusedSmtp.push(String((err as { response?: string }).response ?? err))
        await sleep(100)
      }
    }
  })()
  const api = (async () => {
    while (running) {
      try {
        const res = await fetch(`${base}/v1/inboxes/${inbox.id}/messages?limit=20`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(30_000) })
        const body = (await res.json().catch(() => null)) as { error?: { code: string } } | null
        http.push({ status: res.status, code: body?.error?.code, retryAfter: res.headers.get('retry-after') })
      } catch {
        http.push({ status: 0, retryAfter: null })
      }
      await sleep(25)
    }
  })()
  return {
    accepted,
    refusedSmtp,
    http,
    async stop() {
      running = false
      await Promise.all([mail, api])
      transport.close()
    },
  }
}

describe.runIf(onPostgres)('database outages', () => {
  let db: TestDb
  let proxy: TcpProxy
  let child: ChildProcess
  let stderr: () => string
  let base: string
  let smtpPort: number
  let admin: postgres.Sql
  let dbName: string

  beforeAll(async () => {
    db = await createTestDb()
    const target = new URL(TEST_URL!)
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const viaProxy = new URL(db.ownerUrl!)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    dbName = viaProxy.pathname.slice(1)
    admin = postgres(TEST_URL!, { max: 1, onnotice: () => {} })
    const s = await startCli(
      {
        DATABASE_URL: viaProxy.toString(),
        MAILROOM_MASTER_KEY: TEST_MASTER_KEY,
        MAILROOM_OPERATOR_KEY: OPERATOR_KEY,
        MAILROOM_HTTP_PORT: '0',
        MAILROOM_SMTP_PORT: '0',
        MAILROOM_DOMAIN: 'agents.test',
        MAILROOM_INBOUND_AUTH: 'off',
        MAILROOM_LOG_LEVEL: 'info',
        MAILROOM_API_REQUESTS_PER_SECOND: '100000',
        MAILROOM_API_BURST: '100000',
      },
      STARTED_LINE,
      90_000,
      { on: 'stderr', group: true, via: 'bin' },
    )
    child = s.child
    stderr = s.stderr
    base = `http://127.0.0.1:${s.match[1]}`
    smtpPort = Number(s.match[2])
  }, 180_000)

  afterAll(async () => {
    if (child) await killChild(child).catch(() => {})
    await proxy?.close()
    await admin?.end({ timeout: 5 })
    await db?.close()
  })

  async function setup(name: string) {
    const op = client(base, OPERATOR_KEY)
    const t = await op.post('/v1/tenants', { name })
    expect(t.status).toBe(201)
    const api = client(base, t.body.apiKey)
    const inbox = (await api.post('/v1/inboxes', { name: `${name}-load` })).body
    const waitInbox = (await api.post('/v1/inboxes', { name: `${name}-wait` })).body
    return { key: t.body.apiKey as string, api, inbox, waitInbox }
  }

  /** Every subject that got 250 is listed (none lost), each once. */
  async function assertNothingLost(api: ReturnType<typeof client>, inboxId: string, accepted: Set<string>) {
    const listed = await waitUntil('every accepted message to be listed', async () => {
      const all = await listAll(api, `/v1/inboxes/${inboxId}/messages`)
      const subjects = all.map((m: { subject: string }) => m.subject)
      return [...accepted].every((s) => subjects.includes(s)) ? subjects : null
    })
    expect(new Set(listed).size).toBe(listed.length)
  }

  it('a 10 s cut under load: 503 / 451 while it lasts, back on its own after, nothing lost, a parked wait still wakes', async () => {
    const { key, api, inbox, waitInbox } = await setup('cut')
    const load = startLoad(base, smtpPort, key, inbox)
    // A wait parked before the cut, for mail that will only come after it.
    const waiting = fetch(`${base}/v1/inboxes/${waitInbox.id}/messages/wait?timeout=30&subject=after-the-cut`, { headers: { authorization: `Bearer ${key}` } })
    await waitUntil('load to flow', async () => load.accepted.size >= 5 && load.http.some((h) => h.status === 200))

    await proxy.cut()
    const cutAt = Date.now()
    // While cut: the API says the database is unavailable, readyz says not ready, SMTP defers.
    const during = await waitUntil('a 503 database_unavailable', async () => {
      const r = await fetch(`${base}/v1/inboxes/${inbox.id}/messages`, { headers: { authorization: `Bearer ${key}` } })
      return r.status === 503 ? r : null
    })
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe('database_unavailable')
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await fetch(`${base}/readyz`)).status).toBe(503)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const s = await openSmtp(smtpPort)
    await s.command('EHLO probe.example')
    await s.command('MAIL FROM:<probe@example.com>')
    expect(await s.command(`RCPT TO:<${inbox.address}>`)).toMatch(/^451 4\.3\.0 /)
    await s.close()
    await sleep(Math.max(0, 10_000 - (Date.now() - cutAt)))

    await proxy.restore()
    const restoredAt = Date.now()
    await waitUntil('the API to answer again', async () => (await fetch(`${base}/v1/inboxes/${inbox.id}/messages`, { headers: { authorization: `Bearer ${key}` } })).status === 200)
    const apiBackMs = Date.now() - restoredAt
    const before = load.accepted.size
    await waitUntil('mail to be accepted again', async () => load.accepted.size > before)
    const smtpBackMs = Date.now() - restoredAt
    await waitUntil('ready again', async () => (await fetch(`${base}/readyz`)).status === 200)
    console.log(`[outage] back after the 10 s cut: API ${apiBackMs} ms, SMTP ${smtpBackMs} ms`)

    // The wait opened before the cut wakes for mail that arrives after it.
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
    await t.sendMail({ from: 'a@example.com', to: waitInbox.address, subject: 'after-the-cut', text: 'hello' })
    t.close()
    const woke = await waiting
    expect(woke.status).toBe(200)
    expect(((await woke.json()) as { message: { subject: string } }).message.subject).toBe('after-the-cut')

    await load.stop()
    expect(child.exitCode).toBeNull()
    // Only 200s and 503s, never a 500 (nor a connection the server dropped).
    const statuses = new Set(load.http.map((h) => h.status))
    expect([...statuses].sort()).toEqual([200, 503])
    for (const h of load.http.filter((x) => x.status === 503)) {
      expect(['database_unavailable', 'service_unavailable']).toContain(h.code)
      expect(h.retryAfter).not.toBeNull()
    }
    expect(load.refusedSmtp.every((r) => /^4\d\d /.test(r))).toBe(true)
    await assertNothingLost(api, inbox.id, load.accepted)
    expect(crashLines(stderr())).toEqual([])
  }, 180_000)

  it('every backend terminated twenty times in a row under load: still up, nothing lost, working after', async () => {
    const { key, api, inbox, waitInbox } = await setup('terminate')
    const load = startLoad(base, smtpPort, key, inbox)
    await waitUntil('load to flow', async () => load.accepted.size >= 5)
    for (let i = 0; i < 20; i++) {
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`
      await sleep(150)
    }
    const before = load.accepted.size
    await waitUntil('mail to be accepted after the storm', async () => load.accepted.size > before + 3)
    await waitUntil('the API to answer', async () => (await fetch(`${base}/v1/inboxes/${inbox.id}/messages`, { headers: { authorization: `Bearer ${key}` } })).status === 200)
    await load.stop()
    expect(child.exitCode).toBeNull()
    expect(load.http.filter((h) => h.status !== 200 && h.status !== 503)).toEqual([])
    await assertNothingLost(api, inbox.id, load.accepted)
    // Notifications still reach this process (its LISTEN connection was terminated too).
    const waiting = fetch(`${base}/v1/inboxes/${waitInbox.id}/messages/wait?timeout=30&subject=after-the-storm`, { headers: { authorization: `Bearer ${key}` } })
    await sleep(300)
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
    await t.sendMail({ from: 'a@example.com', to: waitInbox.address, subject: 'after-the-storm', text: 'hello' })
    t.close()
    expect((await waiting).status).toBe(200)
    expect(crashLines(stderr())).toEqual([])
  }, 180_000)
})
