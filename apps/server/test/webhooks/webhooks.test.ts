// Webhooks end to end: a real Mailroom process, real SMTP in, a real HTTP receiver on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHmac } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { verifyWebhook } from '../../../../packages/sdk/src/webhooks.js'
import { client, makeInbox, makeTenant, type TestServer } from '@mailroom/testkit/server'
import { sendMail } from '@mailroom/testkit/mail'
import { createTestDb, type TestDb } from '@mailroom/testkit/db'
import { eventually } from '../delivery/sink.js'
import { eventsOf } from '../delivery/helpers.js'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { DatabaseUnavailable } from '../../src/db/health.js'
import { startReceiver, startWebhookServer, type Receiver } from './helpers.js'

let db: TestDb
let server: TestServer
let rx: Receiver

beforeAll(async () => {
  db = await createTestDb()
  server = await startWebhookServer({ db, webhooks: { disableAfterFailures: 3, timeoutMs: 1500 } })
  rx = await startReceiver()
})
afterAll(async () => {
  await server?.stop()
  await rx?.close()
  await db?.close()
})

const deliveries = async (api: ReturnType<typeof client>, hookId: string) => (await api.get(`/v1/webhooks/${hookId}/deliveries?limit=100`)).body.data as any[]

describe('webhooks', () => {
  it('delivers message.received with the full parsed message, signed per Standard Webhooks', async () => {
    const t = await makeTenant(server, 'wh-happy')
    const inbox = await makeInbox(server, t, 'happy')
    const created = await t.api.post('/v1/webhooks', { url: `${rx.url}/happy`, eventTypes: ['message.received'] })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(created.body).toMatchObject({ status: 'enabled', payload: 'full', eventTypes: ['message.received'], inboxId: null })
    // The secret is shown once: never in reads.
    const read = await t.api.get(`/v1/webhooks/${created.body.id}`)
    expect(read.status).toBe(200)
    expect(read.body.secret).toBeUndefined()
    expect(JSON.stringify((await t.api.get('/v1/webhooks')).body)).not.toContain(created.body.secret)

    await sendMail(server, { to: inbox.address, subject: 'Your code', text: 'The code is 123456', attachments: [{ filename: 'a.txt', content: 'A' }] })
    const [hit] = await rx.waitFor(1, 15_000, '/happy')
    // Independent check of the signature (node:crypto) and with the SDK helper (Web Crypto).
    const id = hit!.headers['webhook-id'] as string
    const ts = hit!.headers['webhook-timestamp'] as string
    expect(id).toMatch(/^whd_[0-9a-f]{32}$/)
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30)
    const key = Buffer.from(created.body.secret.slice(6), 'base64')
    expect(hit!.headers['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(`${id}.${ts}.${hit!.body}`).digest('base64')}`)
    const event = await verifyWebhook<any>({ payload: hit!.body, headers: hit!.headers as Record<string, string>, secret: created.body.secret })
    expect(event).toMatchObject({ type: 'message.received', tenantId: t.id, inboxId: inbox.id })
    const m = event.data.message
    expect(m).toMatchObject({ subject: 'Your code', inboxId: inbox.id, direction: 'inbound' })
    expect(m.text).toContain('The code is 123456')
    expect(m.headers.length).toBeGreaterThan(0)
    expect(m.attachments).toEqual([expect.objectContaining({ filename: 'a.txt', size: 1 })])
    await expect(verifyWebhook({ payload: hit!.body + ' ', headers: hit!.headers as Record<string, string>, secret: created.body.secret })).rejects.toThrow()

    const list = await eventually(async () => {
      const d = await deliveries(t.api, created.body.id)
      return d[0]?.status === 'succeeded' ? d : undefined
    })
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ id, eventType: 'message.received', attempts: 1, lastStatusCode: 200 })
    expect(list[0].attemptLog).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null })])
  })

  it('filters by event type and by inbox; summary mode carries the summary only', async () => {
    const t = await makeTenant(server, 'wh-filter')
    const a = await makeInbox(server, t, 'filter-a')
    const b = await makeInbox(server, t, 'filter-b')
    const onlyA = await t.api.post('/v1/webhooks', { url: `${rx.url}/only-a`, inboxId: a.id, payload: 'summary' })
    const onlySent = await t.api.post('/v1/webhooks', { url: `${rx.url}/only-sent`, eventTypes: ['message.sent'] })
    expect([onlyA.status, onlySent.status]).toEqual([201, 201])
    await sendMail(server, { to: b.address, subject: 'to b', text: 'b' })
    await sendMail(server, { to: a.address, subject: 'to a', text: 'a' })
    const [hit] = await rx.waitFor(1, 15_000, '/only-a')
    expect(hit!.json.data.message.subject).toBe('to a')
    expect(hit!.json.data.message.text).toBeUndefined()
    expect(hit!.json.data.message.preview).toBe('a')
    await new Promise((r) => setTimeout(r, 500))
    expect(rx.hits.filter((h) => h.path === '/only-a')).toHaveLength(1)
    expect(rx.hits.filter((h) => h.path === '/only-sent')).toHaveLength(0)
    // Another tenant's inbox cannot be named.
    const other = await makeTenant(server, 'wh-filter-other')
    expect((await other.api.post('/v1/webhooks', { url: `${rx.url}/x`, inboxId: a.id })).status).toBe(404)
  })

  it('retries failures with growing backoff, logs every attempt, never coalesces events', async () => {
    const t = await makeTenant(server, 'wh-retry')
    const inbox = await makeInbox(server, t, 'retry')
    rx.rule = (h, n) => (h.path === '/retry' && n <= 2 ? 503 : 200)
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/retry` })
    for (let i = 0; i < 3; i++) await sendMail(server, { to: inbox.address, subject: `retry ${i}`, text: String(i) })
    const list = await eventually(async () => {
      const d = await deliveries(t.api, hook.body.id)
      return d.length === 3 && d.every((x) => x.status === 'succeeded') ? d : undefined
    })
    // Three events, three deliveries, three distinct webhook-ids: nothing merged.
    const ids = new Set(rx.hits.filter((h) => h.path === '/retry' && h.headers['webhook-id']).map((h) => h.headers['webhook-id']))
    expect(ids.size).toBe(3)
    const subjects = new Set(rx.hits.filter((h) => h.path === '/retry' && (h.json as any)?.data).map((h) => (h.json as any).data.message.subject))
    expect(subjects).toEqual(new Set(['retry 0', 'retry 1', 'retry 2']))
    const all = list.flatMap((d) => d.attemptLog.map((a: any) => a.statusCode))
    expect(all.filter((s: number) => s === 503)).toHaveLength(2)
    const retried = list.find((d) => d.attempts > 1)
    expect(retried.attemptLog[retried.attemptLog.length - 1]).toMatchObject({ attempt: 1, statusCode: 503, error: expect.stringContaining('HTTP 503') })
    rx.rule = () => 200
  })

  it('backoff is exponential with jitter and capped', () => {
    const w = server.running.deps.webhooks!
    const samples = (n: number) => Array.from({ length: 200 }, () => w.backoffMs(n))
    for (const s of samples(1)) expect(s >= 25 && s <= 50, String(s)).toBe(true)
    for (const s of samples(2)) expect(s >= 50 && s <= 100, String(s)).toBe(true)
    for (const s of samples(20)) expect(s).toBeLessThanOrEqual(200)
    expect(new Set(samples(3)).size).toBeGreaterThan(10)
  })

  it('disables an endpoint after N consecutive failures with a webhook.disabled event; its deliveries wait, then resume', async () => {
    const t = await makeTenant(server, 'wh-disable')
    const inbox = await makeInbox(server, t, 'disable')
    rx.rule = (h) => (h.path === '/down' ? 500 : 200)
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/down`, eventTypes: ['message.received'] })
    const watcher = await t.api.post('/v1/webhooks', { url: `${rx.url}/watcher`, eventTypes: ['webhook.disabled'] })
    await sendMail(server, { to: inbox.address, subject: 'while down', text: 'x' })
    const disabled = await eventually(async () => {
      const r = await t.api.get(`/v1/webhooks/${hook.body.id}`)
      return r.body.status === 'disabled' ? r.body : undefined
    })
    expect(disabled.disabledReason).toMatch(/3 consecutive failed deliveries/)
    const [note] = await rx.waitFor(1, 10_000, '/watcher')
    expect(note!.json).toMatchObject({ type: 'webhook.disabled', data: { webhook: { id: hook.body.id } } })
    expect((await eventsOf(server, t.id)).map((e) => e.type)).toContain('webhook.disabled')
    // Not dropped: still pending, and no more attempts while disabled.
    const before = await deliveries(t.api, hook.body.id)
    expect(before).toEqual([expect.objectContaining({ status: 'pending', attempts: 3 })])
    await new Promise((r) => setTimeout(r, 400))
    expect(rx.hits.filter((h) => h.path === '/down')).toHaveLength(3)
    // A replay on a disabled endpoint is refused with a reason.
    const refused = await t.api.post(`/v1/webhooks/${hook.body.id}/deliveries/${before[0].id}/replay`)
    expect(refused.status).toBe(409)
    rx.rule = () => 200
    const enabled = await t.api.patch(`/v1/webhooks/${hook.body.id}`, { status: 'enabled' })
    expect(enabled.body).toMatchObject({ status: 'enabled', disabledReason: null })
    const hits = await rx.waitFor(4, 10_000, '/down')
    expect(hits[3]!.json.data.message.subject).toBe('while down')
    expect(watcher.status).toBe(201)
  })

  it('replays a delivery with the same webhook-id', async () => {
    const t = await makeTenant(server, 'wh-replay')
    const inbox = await makeInbox(server, t, 'replay')
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/replay` })
    await sendMail(server, { to: inbox.address, subject: 'replay me', text: 'x' })
    const [first] = await rx.waitFor(1, 15_000, '/replay')
    const [d] = await eventually(async () => {
      const l = await deliveries(t.api, hook.body.id)
      return l[0]?.status === 'succeeded' ? l : undefined
    })
    const res = await t.api.post(`/v1/webhooks/${hook.body.id}/deliveries/${d.id}/replay`)
    expect(res.status).toBe(200)
    const hits = await rx.waitFor(2, 10_000, '/replay')
    expect(hits[1]!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
    expect(hits[1]!.body).toBe(first!.body)
    const after = await eventually(async () => {
      const l = await deliveries(t.api, hook.body.id)
      return l[0]?.attempts === 2 && l[0].status === 'succeeded' ? l : undefined
    })
    expect(after[0].attemptLog).toHaveLength(2)
  })

  it('an outcome the database cannot take for a moment is recorded a moment later: one POST, one attempt', async () => {
    const worker = server.running.deps.webhooks! as unknown as { record: (...a: unknown[]) => Promise<void> }
    const record = worker.record
    const cases = [
      // Refused before anything is written: left to its lease, the delivery would be POSTed again 32 s later.
      { path: '/blip-before', fail: async (self: unknown, a: unknown[]) => void [self, a] },
      // Written, but the answer to COMMIT lost: trying again must not log the attempt twice.
      { path: '/blip-after', fail: async (self: unknown, a: unknown[]) => record.apply(self, a) },
    ]
    try {
      for (const c of cases) {
        const t = await makeTenant(server, `wh${c.path.replace('/', '-')}`)
        const inbox = await makeInbox(server, t, c.path.slice(1))
        const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}${c.path}` })
        let tries = 0
        let settled = 0
        worker.record = async function (this: unknown, ...a: unknown[]) {
          try {
            if (tries++ > 0) return await record.apply(this, a)
            await c.fail(this, a)
            throw new DatabaseUnavailable(new Error('connection ended'))
          } finally {
            settled++
          }
        }
        await sendMail(server, { to: inbox.address, subject: `blip ${c.path}`, text: 'x' })
        // Done once the second try has ended (the first one's rows may be visible before it).
        const [d] = await eventually(async () => {
          if (settled < 2) return undefined
          const l = await deliveries(t.api, hook.body.id)
          return l[0]?.status === 'succeeded' ? l : undefined
        }, 15_000, `${c.path} recorded`)
        expect(tries).toBe(2)
        expect(d).toMatchObject({ attempts: 1, lastStatusCode: 200 })
        expect(d.attemptLog).toHaveLength(1)
        expect(rx.hits.filter((h) => h.path === c.path)).toHaveLength(1)
      }
    } finally {
      worker.record = record
    }
  })

  it('a request that hangs times out and is logged as such', async () => {
    const t = await makeTenant(server, 'wh-timeout')
    const inbox = await makeInbox(server, t, 'timeout')
    rx.rule = (h) => (h.path === '/hang' ? 'hang' : 200)
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/hang` })
    await sendMail(server, { to: inbox.address, subject: 'hang', text: 'x' })
    const d = await eventually(async () => {
      const l = await deliveries(t.api, hook.body.id)
      return l[0]?.attemptLog.length ? l[0] : undefined
    })
    expect(d.attemptLog[0].error).toMatch(/timed out after 1500 ms/)
    expect(d.attemptLog[0].durationMs).toBeGreaterThanOrEqual(1400)
    await t.api.delete(`/v1/webhooks/${hook.body.id}`)
    rx.rule = () => 200
  })

  it('deliveries are durable: queued with no worker running, delivered by the next process', async () => {
    await server.stop()
    const paused = await startWebhookServer({ db, webhooks: { start: false } })
    const t = await makeTenant(paused, 'wh-durable')
    const inbox = await makeInbox(paused, t, 'durable')
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/durable` })
    for (let i = 0; i < 3; i++) await sendMail(paused, { to: inbox.address, subject: `durable ${i}`, text: 'x' })
    await eventually(async () => ((await deliveries(t.api, hook.body.id)).length === 3 ? true : undefined))
    const [row] = await rawRows<{ n: number }>(db.owner.db, sql`select count(*)::int as n from webhook_deliveries where status = 'pending' and tenant_id = ${fromPublicId('tenant', t.id)}`)
    expect(row!.n).toBe(3)
    expect(rx.hits.filter((h) => h.path === '/durable')).toHaveLength(0)
    await paused.stop()
    server = await startWebhookServer({ db, webhooks: { disableAfterFailures: 3, timeoutMs: 1500 } })
    const hits = await rx.waitFor(3, 15_000, '/durable')
    expect(new Set(hits.map((h) => h.json.data.message.subject))).toEqual(new Set(['durable 0', 'durable 1', 'durable 2']))
  })

  it('payloads and secrets are stored encrypted', async () => {
    const t = await makeTenant(server, 'wh-at-rest')
    const inbox = await makeInbox(server, t, 'at-rest')
    const hook = await t.api.post('/v1/webhooks', { url: `${rx.url}/at-rest` })
    const secret: string = hook.body.secret
    const marker = `at-rest-${Date.now().toString(36)}`
    await sendMail(server, { to: inbox.address, subject: marker, text: `body ${marker}` })
    const [hit] = await rx.waitFor(1, 15_000, '/at-rest')
    expect(hit!.body).toContain(marker) // the receiver gets it in clear...
    const tenantId = fromPublicId('tenant', t.id)!
    const rows = await rawRows<{ p: Buffer; s: Buffer }>(
      db.owner.db,
      sql`select d.payload_enc as p, w.secret_enc as s from webhook_deliveries d join webhooks w on w.tenant_id = d.tenant_id and w.id = d.webhook_id where d.tenant_id = ${tenantId}`,
    )
    expect(rows.length).toBe(1)
    for (const r of rows) {
      // ...the database holds neither the payload nor the secret readable.
      expect(Buffer.from(r.p).toString('latin1')).not.toMatch(new RegExp(`${marker}|message\\.received`))
      expect(Buffer.from(r.s).toString('latin1')).not.toContain(secret.slice(6, 20))
      expect(Buffer.from(r.s).toString('latin1')).not.toContain('whsec_')
    }
  })
})
