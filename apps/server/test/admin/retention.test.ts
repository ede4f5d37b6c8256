// Retention with a controllable clock: mail older than retentionDays goes, newer mail stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { purgeExpired } from '../../src/retention/service.js'
import { silentLogger } from '../../src/lib/log.js'

let server: TestServer
let offsetDays = 0
const clock = { now: () => new Date(Date.now() + offsetDays * 86_400_000) }
beforeAll(async () => {
  server = await startTestServer({ clock })
})
afterAll(() => server?.stop())

describe('retention', () => {
  it("purges mail past the tenant's retention, in batches, leaving other tenants alone", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const keep = await makeInbox(server, child)
    const short = await makeInbox(server, child)
    const unaffected = await makeTenant(server)
    const unaffectedInbox = await makeInbox(server, unaffected)
    await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { retentionDays: 30 } })
    // One inbox keeps mail for less (an inbox can only shorten its tenant's retention).
    expect((await child.api.call('PUT', `/v1/inboxes/${short.id}/limits`, { retentionDays: 5 })).status).toBe(200)
    expect((await child.api.call('PUT', `/v1/inboxes/${keep.id}/limits`, { retentionDays: 60 })).status).toBe(400)
    for (let i = 0; i < 5; i++) await sendMail(server, { to: keep.address, subject: `old ${i}` })
    await sendMail(server, { to: short.address, subject: 'old short' })
    await sendMail(server, { to: unaffectedInbox.address, subject: 'forever' })
    await settled(server)

    // Ten days later only the 5-day inbox's mail is due.
    offsetDays = 10
    expect((await purgeExpired(server.running.deps.database, clock, silentLogger, 2)).deleted).toBe(1)
    expect((await short.api.get(`/v1/inboxes/${short.id}/messages`)).body.data).toEqual([])
    expect((await keep.api.get(`/v1/inboxes/${keep.id}/messages`)).body.data).toHaveLength(5)
    // A month later all of it is; the tenant without retention keeps its mail.
    offsetDays = 31
    const r = await purgeExpired(server.running.deps.database, clock, silentLogger, 2)
    expect(r.deleted).toBe(5)
    expect((await keep.api.get(`/v1/inboxes/${keep.id}/messages`)).body.data).toEqual([])
    expect((await unaffectedInbox.api.get(`/v1/inboxes/${unaffectedInbox.id}/messages`)).body.data).toHaveLength(1)
    offsetDays = 0
  })
})
