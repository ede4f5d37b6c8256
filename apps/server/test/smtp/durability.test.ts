// "A message that got 250 is never lost, even if the process is killed right after": the real
// server process is SIGKILLed the moment the last 250 arrives, with parsing still to do; a new
// process over the same database takes the parse jobs over once their lease runs out and the
// messages become visible, parsed, byte-exact.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPglite, rawRows } from '../../src/db/client.js'
import { createTestDb, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { killChild, startCli, STARTED_LINE, stopChild } from '../helpers/spawn.js'
import { createRootTenant } from '../../src/tenancy/service.js'
import { TenantCrypto } from '../../src/crypto/service.js'
import { keyringFromConfig } from '../../src/crypto/keyring.js'
import { client, TEST_MASTER_KEY, testConfig } from '@mailroom/testkit/server'
import { listAll, openSmtp } from '@mailroom/testkit/mail'

const STARTED = STARTED_LINE

let db: TestDb | undefined
let dataDir: string | undefined
const children: ChildProcess[] = []

beforeAll(async () => {
  // On PGlite the child owns the store: it gets a data directory of its own instead.
  if (onPostgres) db = await createTestDb()
  else dataDir = mkdtempSync(join(tmpdir(), 'mailroom-durable-'))
})
afterAll(async () => {
  for (const c of children) await killChild(c).catch(() => {})
  await db?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const env = () => ({
  ...(db?.ownerUrl ? { DATABASE_URL: db.ownerUrl } : { MAILROOM_DATA_DIR: dataDir }),
  MAILROOM_MASTER_KEY: TEST_MASTER_KEY,
  MAILROOM_HTTP_PORT: '0',
  MAILROOM_SMTP_PORT: '0',
  MAILROOM_DOMAIN: 'agents.test',
  MAILROOM_INBOUND_AUTH: 'off',
  MAILROOM_LOG_LEVEL: 'info',
  MAILROOM_INGEST_LEASE_SECONDS: '1',
})

async function start() {
  const s = await startCli(env(), STARTED, 60_000, { on: 'stderr', group: true })
  children.push(s.child)
  return { ...s, http: Number(s.match[1]), smtp: Number(s.match[2]) }
}

/**
 * A tenant key: on Postgres made here, over the same database; on PGlite (single process) the one
 * the first embedded start prints for its dev tenant.
 */
async function tenantKey(stdout: () => string): Promise<string> {
  if (db) return (await createRootTenant(db.runtime, new TenantCrypto(keyringFromConfig(testConfig())), 'durable')).apiKey
  for (let i = 0; i < 100 && !/mr_tk_\w+/.test(stdout()); i++) await new Promise((r) => setTimeout(r, 50))
  const key = /mr_tk_\w+/.exec(stdout())?.[0]
  if (!key) throw new Error(`no dev tenant key printed:\n${stdout()}`)
  return key
}

/** Parse states of every message, read straight from the database while no server runs. */
async function parseStates(): Promise<string[]> {
  if (db) {
    const rows = await rawRows<{ parse_status: string }>(db.owner.db as never, sql`select parse_status from messages order by received_at`)
    return rows.map((r) => r.parse_status)
  }
  const store = await openPglite(dataDir)
  try {
    const rows = await rawRows<{ parse_status: string }>(store.db as never, sql`select parse_status from messages order by received_at`)
    return rows.map((r) => r.parse_status)
  } finally {
    await store.close()
  }
}

describe('durability of accepted mail', () => {
  it('keeps every message that got 250 through a SIGKILL right after, and a new process finishes it', async () => {
    const first = await start()
    const apiKey = await tenantKey(first.stdout)
    const api = client(`http://127.0.0.1:${first.http}`, apiKey)
    const made = await api.post('/v1/inboxes', { name: 'durable' })
    expect(made.status).toBe(201)
    const inbox = made.body

    // Three messages in one session; the last carries a large attachment, so that its parsing is
    // surely still to come when the process dies.
    const big = randomBytes(1_500_000).toString('base64').replace(/.{76}/g, '$&\r\n')
    const raws = [
      `From: a@example.com\r\nTo: ${inbox.address}\r\nSubject: durable 1\r\nMessage-ID: <d1@example.com>\r\n\r\none\r\n`,
      `From: a@example.com\r\nTo: ${inbox.address}\r\nSubject: durable 2\r\nMessage-ID: <d2@example.com>\r\n\r\ntwo\r\n`,
      `From: a@example.com\r\nTo: ${inbox.address}\r\nSubject: durable 3\r\nMessage-ID: <d3@example.com>\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nthree\r\n--zz\r\n` +
        `Content-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n--zz--\r\n`,
    ]
    const s = await openSmtp(first.smtp)
    expect(s.greeting).toMatch(/^220 /)
    await s.command('EHLO client.example')
    for (const [i, raw] of raws.entries()) {
      expect(await s.command('MAIL FROM:<a@example.com>')).toMatch(/^250 /)
      expect(await s.command(`RCPT TO:<${inbox.address}>`)).toMatch(/^250 /)
      expect(await s.command('DATA')).toMatch(/^354 /)
      const reply = await s.write(raw + '.\r\n')
      expect(reply).toMatch(/^250 /)
      if (i === raws.length - 1) await killChild(first.child)
    }
    s.socket.destroy()

    // Everything that got 250 is in the database; at least the last one was not parsed yet.
    const states = await parseStates()
    expect(states).toHaveLength(3)
    expect(states).toContain('pending')

    const second = await start()
    const api2 = client(`http://127.0.0.1:${second.http}`, apiKey)
    let list: any[] = []
    for (let i = 0; i < 300; i++) {
      list = await listAll(api2, `/v1/inboxes/${inbox.id}/messages`)
      if (list.length === 3 && list.every((m) => m.parseStatus === 'parsed')) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(list.map((m) => [m.subject, m.parseStatus])).toEqual([
      ['durable 3', 'parsed'],
      ['durable 2', 'parsed'],
      ['durable 1', 'parsed'],
    ])
    expect(list[0].attachments).toMatchObject([{ filename: 'big.bin', size: 1_500_000 }])
    const server2 = { baseUrl: `http://127.0.0.1:${second.http}` }
    for (const [i, m] of [...list].reverse().entries()) {
      const res = await fetch(`${server2.baseUrl}/v1/inboxes/${inbox.id}/messages/${m.id}/raw`, { headers: { authorization: `Bearer ${apiKey}` } })
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(raws[i]!))).toBe(true)
    }
    await stopChild(second.child)
  }, 120_000)
})
