// Quotas decided atomically: inboxes per tenant (API), stored bytes and messages per day (SMTP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('quotas', () => {
  it('maxInboxes holds under concurrent creation, and nothing is half-written', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxInboxes: 3 } })).status).toBe(200)
    const stamp = Date.now()
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => child.api.post('/v1/inboxes', { name: `q${i}-${stamp}` })))
    const created = results.filter((r) => r.status === 201)
    const refused = results.filter((r) => r.status !== 201)
    expect(created).toHaveLength(3)
    for (const r of refused) {
      expect(r.status).toBe(422)
      expect(r.body.error.code).toBe('quota_exceeded')
    }
    expect((await child.api.get('/v1/inboxes?limit=100')).body.data).toHaveLength(3)
    // A refused address was not claimed: another tenant can take it.
    const refusedIndex = results.findIndex((r) => r.status !== 201)
    const other = await makeTenant(server)
    expect((await other.api.post('/v1/inboxes', { name: `q${refusedIndex}-${stamp}` })).status).toBe(201)
  })

  it("lowering a parent's cap caps its descendants", async () => {
    const root = await makeTenant(server)
    const mid = await makeChild(root, server)
    const leaf = await makeChild(mid, server)
    await makeInbox(server, leaf)
    expect((await root.api.patch(`/v1/tenants/${mid.id}`, { limits: { maxInboxes: 1 } })).status).toBe(200)
    const res = await leaf.api.post('/v1/inboxes', {})
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('quota_exceeded')
  })

  it('maxStoredBytes: mail over the quota is refused with 552, nothing stored', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const inbox = await makeInbox(server, child)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxStoredBytes: 6000 } })).status).toBe(200)
    await sendMail(server, { to: inbox.address, subject: 'fits', text: 'x'.repeat(2000) })
    await expect(sendMail(server, { to: inbox.address, subject: 'too much', text: 'y'.repeat(5000) })).rejects.toMatchObject({ responseCode: 552 })
    await settled(server)
    const list = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data
    expect(list.map((m: { subject: string }) => m.subject)).toEqual(['fits'])
    // Deleting mail frees the quota again.
    expect((await inbox.api.delete(`/v1/inboxes/${inbox.id}/messages/${list[0].id}`)).status).toBe(204)
    await sendMail(server, { to: inbox.address, subject: 'fits again', text: 'y'.repeat(5000) })
  })

  it('maxMessagesPerDay: the next message that day gets 452', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const inbox = await makeInbox(server, child)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxMessagesPerDay: 2 } })).status).toBe(200)
    await sendMail(server, { to: inbox.address, subject: '1' })
    await sendMail(server, { to: inbox.address, subject: '2' })
    await expect(sendMail(server, { to: inbox.address, subject: '3' })).rejects.toMatchObject({ responseCode: 452 })
    await settled(server)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data).toHaveLength(2)
  })
})
