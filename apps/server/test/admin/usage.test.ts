// Usage metering: counts match exactly what happened, under concurrency; JSON and CSV; rolled up
// over the caller's descendants and invisible to anyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled, smtpTransport } from '@mailroom/testkit/mail'
import { fromPublicId } from '../../src/lib/ids.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const today = () => new Date().toISOString().slice(0, 10)

describe('GET /v1/usage', () => {
  it('counts received messages, stored bytes and API requests exactly, per tenant, inbox and day', async () => {
    const root = await makeTenant(server)
    const a = await makeChild(root, server, 'a')
    const b = await makeChild(root, server, 'b')
    const a1 = await makeInbox(server, a)
    const a2 = await makeInbox(server, a)
    const b1 = await makeInbox(server, b)
    // Concurrent mail: 12 to a1, 7 to a2, 5 to b1, and 3 messages to a1+b1 at once.
    const transport = smtpTransport(server, { pool: true })
    const send = (to: string | string[]) => transport.sendMail({ from: 'sender@example.com', to, text: 'x' })
    const jobs = [
      ...Array.from({ length: 12 }, () => send(a1.address)),
      ...Array.from({ length: 7 }, () => send(a2.address)),
      ...Array.from({ length: 5 }, () => send(b1.address)),
      ...Array.from({ length: 3 }, () => send([a1.address, b1.address])),
    ]
    await Promise.all(jobs)
    transport.close()
    await settled(server)
    // Concurrent sends: 4 from a2 (each stored as the sender's copy too).
    const sends = await Promise.all(
      Array.from({ length: 4 }, (_, i) => a2.api.post(`/v1/inboxes/${a2.id}/messages`, { to: `c${i}@customer.example`, subject: 's', text: 'x' })),
    )
    expect(sends.map((r) => r.status)).toEqual([201, 201, 201, 201])
    // API requests: 9 by a1's key (plus the list calls below, counted after the flush).
    await Promise.all(Array.from({ length: 9 }, () => a1.api.get('/v1/me')))
    await server.running.deps.usage.flush()

    const q = `/v1/usage?from=${today()}&to=${today()}`
    const byTenant = (await root.api.get(`${q}&groupBy=tenant`)).body
    const rowOf = (id: string) => byTenant.data.find((r: { tenantId: string }) => r.tenantId === id)
    expect(rowOf(a.id)).toMatchObject({ messagesReceived: 12 + 7 + 3, messagesSent: 4 })
    expect(rowOf(b.id)).toMatchObject({ messagesReceived: 5 + 3 })
    expect(rowOf(a.id).apiRequests).toBeGreaterThanOrEqual(9)
    expect(byTenant.total.messagesReceived).toBe(30)

    const byInbox = (await a.api.get(`${q}&groupBy=inbox`)).body.data
    const inboxRow = (id: string) => byInbox.find((r: { inboxId: string }) => r.inboxId === id)
    expect(inboxRow(a1.id)).toMatchObject({ messagesReceived: 15, apiRequests: 9 })
    expect(inboxRow(a2.id)).toMatchObject({ messagesReceived: 7, messagesSent: 4 })
    expect(byInbox.find((r: { inboxId: string }) => r.inboxId === b1.id)).toBeUndefined()

    // Stored bytes equal the sizes of what is stored.
    const sizes = async (inbox: typeof a1) =>
      (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?limit=100`)).body.data.reduce((sum: number, m: { size: number }) => sum + m.size, 0)
    expect(inboxRow(a1.id).bytesStored).toBe(await sizes(a1))
    expect(inboxRow(a2.id).bytesStored).toBe(await sizes(a2))

    const byDay = (await root.api.get(`${q}&groupBy=day`)).body.data
    expect(byDay).toEqual([expect.objectContaining({ day: today(), messagesReceived: 30 })])

    // A child sees only its own subtree.
    expect((await b.api.get(`${q}&groupBy=tenant`)).body.total.messagesReceived).toBe(8)
  })

  it("writes a flush of API request counts, many inboxes and days of a tenant at once, adding to what is there", async () => {
    const t = await makeTenant(server)
    const inboxes = [await makeInbox(server, t), await makeInbox(server, t), await makeInbox(server, t)]
    // Past days, which no live request counts into.
    const day = (back: number) => new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10)
    const [d1, d2] = [day(2), day(1)]
    const meter = server.running.deps.usage
    const tenantId = fromPublicId('tenant', t.id)!
    const inboxId = (i: number) => fromPublicId('inbox', inboxes[i]!.id)!
    // Inbox k: k + 1 requests on d1 and one on d2; two tenant-level requests on d2.
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i <= k; i++) meter.record(tenantId, inboxId(k), d1)
      meter.record(tenantId, inboxId(k), d2)
    }
    meter.record(tenantId, null, d2)
    meter.record(tenantId, null, d2)
    await meter.flush()
    // A second flush adds to the rows the first one wrote.
    meter.record(tenantId, inboxId(0), d1)
    meter.record(tenantId, null, d1)
    await meter.flush()

    const q = `/v1/usage?from=${d1}&to=${d2}`
    const byInbox = (await t.api.get(`${q}&groupBy=inbox`)).body.data as { inboxId: string; apiRequests: number }[]
    expect(Object.fromEntries(byInbox.map((r) => [r.inboxId, r.apiRequests]))).toEqual({ [inboxes[0]!.id]: 3, [inboxes[1]!.id]: 3, [inboxes[2]!.id]: 4 })
    const byDay = (await t.api.get(`${q}&groupBy=day`)).body.data as { day: string; apiRequests: number }[]
    expect(byDay.map((r) => [r.day, r.apiRequests])).toEqual([
      [d1, 1 + 2 + 3 + 1 + 1],
      [d2, 3 + 2],
    ])
  })

  it('answers CSV for billing', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await sendMail(server, { to: inbox.address })
    await settled(server)
    const res = await fetch(`${server.baseUrl}/v1/usage?from=${today()}&to=${today()}`, { headers: { authorization: `Bearer ${t.key}`, accept: 'text/csv' } })
    expect(res.headers.get('content-type')).toContain('text/csv')
    const lines = (await res.text()).trim().split('\r\n')
    expect(lines[0]).toBe('tenantId,inboxId,day,messagesReceived,messagesSent,apiRequests,bytesStored')
    expect(lines[1]!.startsWith(`${t.id},,,1,0,`)).toBe(true)
    expect(lines[lines.length - 1]!.startsWith('total,,,1,0,')).toBe(true)
  })

  it('rejects bad ranges', async () => {
    const t = await makeTenant(server)
    expect((await t.api.get('/v1/usage?from=2026-02-01&to=2026-01-01')).status).toBe(400)
    expect((await t.api.get('/v1/usage?from=yesterday&to=2026-01-01')).status).toBe(400)
    expect((await t.api.get('/v1/usage?from=2020-01-01&to=2026-01-01')).status).toBe(400)
  })
})
