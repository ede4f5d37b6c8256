// SSRF guard (creation and delivery time, after DNS) and per-tenant fairness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, type TestServer } from '@mailroom/testkit/server'
import { sendMail } from '@mailroom/testkit/mail'
import { eventually } from '../delivery/sink.js'
import { addressAllowed, classify, refuseTarget } from '../../src/webhooks/ssrf.js'
import { startReceiver, startWebhookServer, type Receiver } from './helpers.js'

describe('address classes', () => {
  it('refuses loopback, private, link-local, metadata, unspecified unless allowed; metadata never', () => {
    const table: [string, string][] = [
      ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
      ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['192.168.1.1', 'private'], ['fd12::1', 'private'], ['100.64.0.1', 'private'],
      ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'],
      ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['224.0.0.1', 'reserved'], ['93.184.216.34', 'public'], ['2606:4700::1111', 'public'],
    ]
    for (const [ip, cls] of table) expect({ ip, cls: classify(ip) }).toEqual({ ip, cls })
    expect(addressAllowed('127.0.0.1', 'none')).toBe(false)
    expect(addressAllowed('127.0.0.1', 'loopback')).toBe(true)
    expect(addressAllowed('10.0.0.1', 'loopback')).toBe(false)
    expect(addressAllowed('10.0.0.1', 'private')).toBe(true)
    for (const p of ['none', 'loopback', 'private'] as const) {
      expect(addressAllowed('169.254.169.254', p)).toBe(false)
      expect(addressAllowed('fd00:ec2::254', p)).toBe(false)
      expect(addressAllowed('0.0.0.0', p)).toBe(false)
    }
    // The URL parser's normal forms of a loopback address are caught too.
    for (const u of ['http://2130706433/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/', 'http://127.1/']) expect(refuseTarget(u, 'none'), u).not.toBeNull()
    expect(refuseTarget('ftp://example.com/', 'private')).toMatch(/http/)
    expect(refuseTarget('https://hooks.example.com/x', 'none')).toBeNull()
  })
})

describe('webhook targets, default policy (no private addresses)', () => {
  let server: TestServer
  let rx: Receiver
  beforeAll(async () => {
    rx = await startReceiver()
    const port = new URL(rx.url).port
    server = await startWebhookServer({
      config: { webhookAllowPrivate: 'none' },
      // A name whose DNS answer is loopback (rebinding): allowed at creation, refused at delivery.
      webhooks: { lookup: async (host) => (host === 'rebind.example' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '93.184.216.34', family: 4 }]) },
    })
    void port
  })
  afterAll(async () => {
    await server?.stop()
    await rx?.close()
  })

  it('refuses literal private and metadata targets at creation and on update', async () => {
    const t = await makeTenant(server, 'ssrf')
    for (const url of ['http://127.0.0.1:8080/x', 'http://[::1]/x', 'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/', 'http://10.0.0.5/', 'http://0.0.0.0/', 'http://localhost:3000/']) {
      const res = await t.api.post('/v1/webhooks', { url })
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status: 400, code: 'validation_error' })
    }
    const ok = await t.api.post('/v1/webhooks', { url: 'https://hooks.example.com/x' })
    expect(ok.status).toBe(201)
    expect((await t.api.patch(`/v1/webhooks/${ok.body.id}`, { url: 'http://192.168.0.1/' })).status).toBe(400)
    await t.api.delete(`/v1/webhooks/${ok.body.id}`)
  })

  it('refuses at delivery time when DNS answers a loopback address (rebinding), and nothing reaches it', async () => {
    const t = await makeTenant(server, 'rebind')
    const inbox = await makeInbox(server, t, 'rebind')
    const port = new URL(rx.url).port
    const hook = await t.api.post('/v1/webhooks', { url: `http://rebind.example:${port}/rebind` })
    expect(hook.status).toBe(201)
    await sendMail(server, { to: inbox.address, subject: 'rebind', text: 'x' })
    const d = await eventually(async () => {
      const l = (await t.api.get(`/v1/webhooks/${hook.body.id}/deliveries`)).body.data
      return l[0]?.attemptLog.length ? l[0] : undefined
    })
    expect(d.attemptLog[0].error).toMatch(/resolves to 127\.0\.0\.1 \(loopback\); refused/)
    expect(rx.hits).toHaveLength(0)
  })
})

describe('fairness: a tenant whose endpoint hangs does not delay another tenant', () => {
  let server: TestServer
  let rx: Receiver
  beforeAll(async () => {
    rx = await startReceiver()
    // B's requests hang until they time out (60 s): were A queued behind them it would wait that long.
    server = await startWebhookServer({ webhooks: { timeoutMs: 60_000, tenantInFlight: 2, concurrency: 8 } })
  })
  afterAll(async () => {
    await rx?.close() // ends B's hanging requests first, so the server stops at once
    await server?.stop()
  })

  it("tenant A's event arrives promptly while tenant B's endpoint holds every request", async () => {
    rx.rule = (h) => (h.path === '/slow' ? 'hang' : 200)
    const b = await makeTenant(server, 'slow')
    const bInbox = await makeInbox(server, b, 'slow')
    await b.api.post('/v1/webhooks', { url: `${rx.url}/slow` })
    for (let i = 0; i < 12; i++) await sendMail(server, { to: bInbox.address, subject: `slow ${i}`, text: 'x' })
    await rx.waitFor(2, 10_000, '/slow')
    const a = await makeTenant(server, 'fast')
    const aInbox = await makeInbox(server, a, 'fast')
    await a.api.post('/v1/webhooks', { url: `${rx.url}/fast` })
    await sendMail(server, { to: aInbox.address, subject: 'fast', text: 'x' })
    const [hit] = await rx.waitFor(1, 60_000, '/fast')
    // The mechanism, not a stopwatch: A's event arrived while every request of B was still hanging,
    // so it was not queued behind them (however slow the machine, short of B's 60 s timeout).
    const slow = rx.hits.filter((h) => h.path === '/slow')
    expect(slow.filter((h) => h.closedAt !== undefined && h.closedAt <= hit!.at)).toEqual([])
    // B never had more than its cap in flight.
    expect(slow.length).toBeLessThanOrEqual(2)
  })
})
