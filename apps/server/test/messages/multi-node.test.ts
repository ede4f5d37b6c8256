// Two Mailroom processes on one Postgres: mail taken in by one wakes a waiter on the other, a
// route or a sender rule changed through one is seen by the other's SMTP door, and a key revoked,
// an inbox deleted or a tenant suspended through one is refused by the other's HTTP door, through
// LISTEN/NOTIFY (one listening connection per process, fanned out in memory).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, TEST_MASTER_KEY, type TestServer } from '@mailroom/testkit/server'
import { cleanEnv, STARTED_LINE, stopChild } from '../helpers/spawn.js'
import { onPostgres } from '@mailroom/testkit/db'
import nodemailer from 'nodemailer'
import { rcptReply, rcptReplyUntil } from '@mailroom/testkit/mail'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { keyPrefix } from '../../src/apikeys/secret.js'

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))

/** A second server process over the same database; resolves with its ports once it is up. */
function startNode(databaseUrl: string) {
  return new Promise<{ child: ChildProcess; http: number; smtp: number }>((resolve, reject) => {
    const child = spawn(TSX, [CLI, 'start'], {
      env: cleanEnv({
        DATABASE_URL: databaseUrl,
        MAILROOM_MASTER_KEY: TEST_MASTER_KEY,
        MAILROOM_HTTP_PORT: '0',
        MAILROOM_SMTP_PORT: '0',
        MAILROOM_DOMAIN: 'agents.test',
        MAILROOM_INBOUND_AUTH: 'off',
        MAILROOM_LOG_LEVEL: 'info',
        // Only the announcement of a change can make node B forget a route (or a policy) it looked up.
        MAILROOM_SMTP_ROUTE_CACHE_SECONDS: '3600',
        // The same for what an API key stands for at its HTTP door.
        MAILROOM_KEY_CACHE_SECONDS: '3600',
      }),
    })
    let err = ''
    const timer = setTimeout(() => reject(new Error(`second node did not start:\n${err}`)), 60_000)
    child.stderr!.on('data', (d) => {
      err += d
      const m = STARTED_LINE.exec(err)
      if (m) {
        clearTimeout(timer)
        resolve({ child, http: Number(m[1]), smtp: Number(m[2]) })
      }
    })
    child.on('close', (code) => reject(new Error(`second node exited ${code}:\n${err}`)))
  })
}

describe.skipIf(!onPostgres)('two server processes on one Postgres', () => {
  let a: TestServer
  let b: Awaited<ReturnType<typeof startNode>>
  beforeAll(async () => {
    a = await startTestServer()
    b = await startNode(a.db.ownerUrl!)
  })
  afterAll(async () => {
    if (b) await stopChild(b.child)
    await a?.stop()
  })

  it('mail taken in by one process wakes a waiter on the other', async () => {
    const t = await makeTenant(a)
    const inbox = await makeInbox(a, t)
    // The waiter holds on node A...
    const waiting = inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=20&subject=cross-node`)
    await new Promise((r) => setTimeout(r, 300))
    // ...while the mail arrives over SMTP at node B.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: b.smtp, secure: false, ignoreTLS: true })
    await transport.sendMail({ from: 'x@example.com', to: inbox.address, subject: 'cross-node hello', text: 'hi' })
    transport.close()
    const res = await waiting
    expect(res.status).toBe(200)
    expect(res.body.message.subject).toBe('cross-node hello')
    // Node B serves the same data (it is the same database).
    const viaB = await fetch(`http://127.0.0.1:${b.http}/v1/inboxes/${inbox.id}/messages/${res.body.message.id}`, {
      headers: { authorization: `Bearer ${inbox.key}` },
    })
    expect(viaB.status).toBe(200)
  })

  it("an inbox deleted and a tenant suspended through one process are refused by the other's SMTP door", async () => {
    const rcptAtB = (address: string) => rcptReply(b.smtp, address)
    // The notification reaches node B a moment after node A's commit: look until it has.
    const rcptAtBUntil = (address: string, pattern: RegExp) => rcptReplyUntil(b.smtp, address, pattern)
    const root = await makeTenant(a)
    const gone = await makeInbox(a, root)
    const child = await makeChild(root, a)
    const kept = await makeInbox(a, child)
    for (const inbox of [gone, kept]) expect(await rcptAtB(inbox.address)).toMatch(/^250 /)
    expect((await root.api.delete(`/v1/inboxes/${gone.id}`)).status).toBe(204)
    expect(await rcptAtBUntil(gone.address, /^550 /)).toMatch(/^550 5\.1\.1 /)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    expect(await rcptAtBUntil(kept.address, /^451 /)).toMatch(/^451 4\.7\.1 /)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect(await rcptAtBUntil(kept.address, /^250 /)).toMatch(/^250 /)
  })

  it("a sender rule created and deleted through one process holds at the other's SMTP door", async () => {
    const t = await makeTenant(a)
    const inbox = await makeInbox(a, t)
    expect(await rcptReply(b.smtp, inbox.address)).toMatch(/^250 /)
    const rule = await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'example.com' })
    expect(rule.status).toBe(201)
    expect(await rcptReplyUntil(b.smtp, inbox.address, /^550 /)).toMatch(/^550 5\.7\.1 /)
    expect((await t.api.delete(`/v1/sender-rules/${rule.body.id}`)).status).toBe(204)
    expect(await rcptReplyUntil(b.smtp, inbox.address, /^250 /)).toMatch(/^250 /)
  })

  it("a key revoked, an inbox deleted and a tenant suspended (also acted in by its parent) through one process are refused by the other's HTTP door", async () => {
    // `key`, or (with `actAs`) a tenant key acting in that descendant (Mailroom-Tenant), at node B.
    const meAtB = async (key: string, actAs?: string) =>
      (await fetch(`http://127.0.0.1:${b.http}/v1/me`, { headers: { authorization: `Bearer ${key}`, ...(actAs ? { 'mailroom-tenant': actAs } : {}) } })).status
    // The notification reaches node B a moment after node A's commit: ask until it has.
    const meAtBUntil = async (key: string, status: number, actAs?: string) => {
      for (let i = 0; i < 200 && (await meAtB(key, actAs)) !== status; i++) await new Promise((r) => setTimeout(r, 50))
      return meAtB(key, actAs)
    }
    const root = await makeTenant(a)
    const child = await makeChild(root, a)
    const inbox = await makeInbox(a, root)
    const minted = (await root.api.post('/v1/api-keys', { scope: 'tenant' })).body
    for (const key of [root.key, child.key, inbox.key, minted.key]) expect(await meAtB(key)).toBe(200)
    expect(await meAtB(root.key, child.id)).toBe(200)
    // Node B keeps what it looked up: a key revoked by SQL (announcing nothing) is still served there.
    await rawRows(a.db.owner.db, sql`update api_keys set revoked_at = now() where prefix = ${keyPrefix(minted.key)}`)
    expect(await meAtB(minted.key)).toBe(200)
    // Revoked through node A (already revoked, so only the announcement changes anything): refused at B.
    expect((await root.api.delete(`/v1/api-keys/${minted.id}`)).status).toBe(204)
    expect(await meAtBUntil(minted.key, 401)).toBe(401)
    expect((await root.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect(await meAtBUntil(inbox.key, 401)).toBe(401)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    expect(await meAtBUntil(child.key, 403)).toBe(403)
    expect(await meAtB(root.key, child.id)).toBe(403)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect(await meAtBUntil(child.key, 200)).toBe(200)
    expect(await meAtB(root.key, child.id)).toBe(200)
    expect(await meAtB(root.key)).toBe(200)
  })
})
