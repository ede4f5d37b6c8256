// The first-contact limit (at most N recipients a day the inbox was never in conversation with, per
// inbox and per tenant, decided atomically: 16 parallel sends cannot overshoot it) and scheduled
// sends (`sendAt`: held in the outbox until then, delivered by the workers of a restarted server,
// cancellable before they go).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { createTestDb, type TestDb } from '@mailroom/testkit/db'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { startSink, eventually, type Sink } from '../delivery/sink.js'
import { waitForStatus } from '../delivery/helpers.js'

let sink: Sink
let db: TestDb
let server: TestServer
beforeAll(async () => {
  sink = await startSink()
  db = await createTestDb()
  server = await startTestServer({ db, config: { relayUrl: sink.url }, delivery: { pollMs: 50, retryBaseMs: 100 } })
})
afterAll(async () => {
  await server?.stop()
  await db?.close()
  await sink?.close()
})

let n = 0
const unique = (p: string) => `${p}-${++n}-${Math.random().toString(36).slice(2, 7)}`

describe('first-contact limit', () => {
  it('16 parallel sends to 16 new recipients under a limit of 5: exactly 5 go, 11 get 429 first_contact_limit with Retry-After; known contacts are not counted', async () => {
    const t = await makeTenant(server, unique('fcl'))
    const inbox = await makeInbox(server, t, unique('fcl'))
    expect((await t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { newRecipientsPerDay: 5 })).status).toBe(200)
    const known = `${unique('known')}@example.com`
    await sendMail(server, { from: known, to: inbox.address, subject: 'hi', text: 'x' })
    await settled(server)
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: `${unique(`new${i}`)}@example.com`, subject: 's', text: 'x' })),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 201).length).toBe(5)
    expect(statuses.filter((s) => s === 429).length).toBe(11)
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body.error.code).toBe('first_contact_limit')
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    // Mail to someone already in conversation still goes; a message with one new recipient does not.
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: known, subject: 's', text: 'x' })).status).toBe(201)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: [known, 'brand-new@example.com'], subject: 's', text: 'x' })).status).toBe(429)
    // Recipients it has mailed (the 5 that went) are contacts now: writing to them again is not counted.
    const sentTo = results.filter((r) => r.status === 201).map((r) => r.body.deliveries[0].recipient)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: sentTo, subject: 'again', text: 'x' })).status).toBe(201)
  })

  it("a parent's tenant limit binds the child's inboxes (capped like other limits), counted across the tenant's inboxes", async () => {
    const parent = await makeTenant(server, unique('cap'))
    const child = await makeChild(parent, server, unique('capkid'))
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { newRecipientsPerDay: 3 } })).status).toBe(200)
    const a = await makeInbox(server, child, unique('a'))
    const b = await makeInbox(server, child, unique('b'))
    // An inbox cannot be given more than its tenant has.
    expect((await child.api.call('PUT', `/v1/inboxes/${a.id}/limits`, { newRecipientsPerDay: 10 })).status).toBe(400)
    expect((await child.api.get(`/v1/inboxes/${a.id}/limits`)).body.effective.newRecipientsPerDay).toBe(3)
    expect((await a.api.post(`/v1/inboxes/${a.id}/messages`, { to: ['n1@example.com', 'n2@example.com'], subject: 's', text: 'x' })).status).toBe(201)
    expect((await b.api.post(`/v1/inboxes/${b.id}/messages`, { to: 'n3@example.com', subject: 's', text: 'x' })).status).toBe(201)
    const over = await b.api.post(`/v1/inboxes/${b.id}/messages`, { to: 'n4@example.com', subject: 's', text: 'x' })
    expect({ status: over.status, code: over.body.error.code }).toEqual({ status: 429, code: 'first_contact_limit' })
  })
})

describe('scheduled sends', () => {
  it('sendAt holds the message until then; a server started afterwards delivers it; a cancelled one never goes', async () => {
    // A server with no delivery workers takes the sends, and stops before they are due.
    await server.stop()
    const quiet = await startTestServer({ db, config: { relayUrl: sink.url }, delivery: { start: false } })
    const t = await makeTenant(quiet, unique('sched'))
    const inbox = await makeInbox(quiet, t, unique('sched'))
    const sendAt = new Date(Date.now() + 2_000)
    const to = `${unique('later')}@example.com`
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'scheduled', text: 'x', sendAt: sendAt.toISOString() })
    expect(res.status).toBe(201)
    expect(res.body.status).toBe('scheduled')
    expect(res.body.deliveries[0].nextAttemptAt).toBe(sendAt.toISOString())
    const cancelTo = `${unique('never')}@example.com`
    const doomed = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: cancelTo, subject: 'cancelled', text: 'x', sendAt: sendAt.toISOString() })
    const cancelled = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${doomed.body.id}/cancel`, {})
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe('cancelled')
    expect(cancelled.body.deliveries).toEqual([])
    // Cancelling twice answers the same; a message that is not scheduled cannot be cancelled.
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${doomed.body.id}/cancel`, {})).status).toBe(200)
    const now = await t.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'now@example.com', subject: 'now', text: 'x' })
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${now.body.id}/cancel`, {})).status).toBe(409)
    await quiet.stop()

    // The restarted server's workers find it in the outbox and deliver it, not before its time.
    server = await startTestServer({ db, config: { relayUrl: sink.url }, delivery: { pollMs: 50, retryBaseMs: 100 } })
    const got = await eventually(async () => sink.received.find((m) => m.to.includes(to)), 30_000, 'the scheduled message')
    expect(got.at).toBeGreaterThanOrEqual(sendAt.getTime())
    await waitForStatus(client(server.baseUrl, inbox.key), inbox.id, res.body.id, ['sent'])
    // The message sent at once went too, and the cancelled one never did.
    await eventually(async () => sink.received.some((m) => m.to.includes('now@example.com')), 30_000, 'the direct send')
    expect(sink.received.filter((m) => m.to.includes(cancelTo))).toEqual([])
  })
})
