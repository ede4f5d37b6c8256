// Sending policy: atomic rate limits (429 + Retry-After, parallel requests never overshoot),
// idempotency keys, suppression-driven pause/resume, fair claiming with a per-tenant in-flight cap,
// and IP pools (the relay sees the pool's source address).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { rawRows } from '../../src/db/client.js'
import { withoutTenant } from '../../src/db/scope.js'
import { startSink, eventually, type Sink } from './sink.js'
import { eventsOf, waitForStatus } from './helpers.js'
import { onCitus } from '@mailroom/testkit/db'

const OPERATOR_KEY = randomBytes(24).toString('hex')
let server: TestServer
let sink: Sink

beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({
    config: { relayUrl: sink.url, operatorKey: OPERATOR_KEY, ipPools: { shared: ['127.0.0.2'], premium: ['127.0.0.3'] } },
    delivery: { pollMs: 50, retryBaseMs: 100, reputation: { minSends: 4, maxBounceRate: 0.25 } },
  })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

/** `n` calls of `fn`, `width` at a time, in order of `i` within each batch. */
async function inBatches<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)))))
  return out
}

const sendFrom = (inbox: { id: string; api: ReturnType<typeof client> }, to = 'x@example.com', headers?: Record<string, string>) =>
  inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 's', text: 'x' }, headers)

describe('sending limits, decided atomically', () => {
  /**
   * A server whose clock stands still: a test's parallel requests (served a few at a time, tenants
   * taking turns) all fall in one minute's window, however long the machine takes over them and
   * whenever the minute turns.
   */
  async function withStillClock(fn: (server: TestServer) => Promise<void>): Promise<void> {
    const fixed = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1_000)
    const still = await startTestServer({ clock: { now: () => new Date(fixed) }, config: { relayUrl: sink.url } })
    try {
      await fn(still)
    } finally {
      await still.stop()
    }
  }

  it('per tenant per minute: parallel requests get exactly the limit through, the rest 429 + Retry-After', () => withStillClock(sendsOnceInTheWindow))

  async function sendsOnceInTheWindow(server: TestServer): Promise<void> {
    const parent = await makeTenant(server, 'p')
    const res = await parent.api.post('/v1/tenants', { name: 'limited', limits: { sendPerMinute: 5 } })
    expect(res.status).toBe(201)
    const child = { id: res.body.id, key: res.body.apiKey, api: client(server.baseUrl, res.body.apiKey) }
    const inbox = await makeInbox(server, child)
    const answers = await Promise.all(Array.from({ length: 16 }, () => sendFrom(inbox)))
    const ok = answers.filter((a) => a.status === 201)
    const limited = answers.filter((a) => a.status === 429)
    expect(ok).toHaveLength(5)
    expect(limited).toHaveLength(11)
    for (const l of limited) {
      expect(l.body.error.code).toBe('rate_limited')
      expect(Number(l.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(Number(l.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    }
    // Nothing from a refused request was stored.
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?limit=100`)
    expect(list.body.data).toHaveLength(5)
  }

  it('per inbox, set through PUT /v1/inboxes/{id}/limits, capped by the tenant; per day too', () => withStillClock(inboxLimits))

  async function inboxLimits(server: TestServer): Promise<void> {
    const parent = await makeTenant(server, 'p2')
    const res = await parent.api.post('/v1/tenants', { name: 'c', limits: { sendPerMinute: 100, sendPerDay: 1000 } })
    const child = { id: res.body.id, key: res.body.apiKey, api: client(server.baseUrl, res.body.apiKey) }
    const a = await makeInbox(server, child, 'a')
    const b = await makeInbox(server, child, 'b')
    const over = await child.api.call('PUT', `/v1/inboxes/${a.id}/limits`, { sendPerMinute: 101 })
    expect(over.status).toBe(400)
    expect(over.body.error.code).toBe('validation_error')
    expect((await a.api.call('PUT', `/v1/inboxes/${a.id}/limits`, { sendPerMinute: 3 })).status).toBe(403)
    const set = await child.api.call('PUT', `/v1/inboxes/${a.id}/limits`, { sendPerMinute: 3, sendPerDay: 500 })
    expect(set.status).toBe(200)
    // The request rate in force is the deployment's default (this server's test config) until someone sets one.
    expect(set.body.effective).toEqual({ sendPerMinute: 3, sendPerDay: 500, newRecipientsPerDay: null, receivePerMinute: null, retentionDays: null, apiRequestsPerSecond: 1_000_000, apiBurst: 1_000_000 })
    expect((await a.api.get(`/v1/inboxes/${a.id}/limits`)).body.limits).toEqual({ sendPerMinute: 3, sendPerDay: 500 })

    const answers = await Promise.all(Array.from({ length: 10 }, () => sendFrom(a)))
    expect(answers.filter((x) => x.status === 201)).toHaveLength(3)
    const refused = answers.find((x) => x.status === 429)!
    expect(refused.body.error.message).toMatch(/inbox sending limit/)
    // Another inbox of the same tenant is not affected.
    expect((await sendFrom(b)).status).toBe(201)

    await child.api.call('PUT', `/v1/inboxes/${b.id}/limits`, { sendPerDay: 2 })
    expect((await sendFrom(b)).status).toBe(201)
    const day = await sendFrom(b)
    expect(day.status).toBe(429)
    expect(Number(day.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(day.body.error.message).toMatch(/per day/)
  }
})

describe('idempotency keys', () => {
  it('the same key and body replays the first answer and sends nothing again; another body is a 409', async () => {
    const t = await makeTenant(server, 'idem')
    const inbox = await makeInbox(server, t)
    const key = `k-${randomBytes(6).toString('hex')}`
    const body = { to: 'once@example.com', subject: 'once', text: 'only once' }
    const first = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, body, { 'idempotency-key': key })
    expect(first.status).toBe(201)
    const again = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, body, { 'idempotency-key': key })
    expect(again.status).toBe(201)
    expect(again.body.id).toBe(first.body.id)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    const other = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { ...body, text: 'different' }, { 'idempotency-key': key })
    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('idempotency_conflict')
    await waitForStatus(inbox.api, inbox.id, first.body.id, ['sent'])
    await new Promise((r) => setTimeout(r, 200))
    expect(sink.received.filter((m) => m.to[0] === 'once@example.com')).toHaveLength(1)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data).toHaveLength(1)
  })

  it('parallel retries with one key store one message; keys are per tenant; every write route honours them', async () => {
    const t = await makeTenant(server, 'idem2')
    const inbox = await makeInbox(server, t)
    const key = 'same-key'
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'p@example.com', text: 'x' }, { 'idempotency-key': key })),
    )
    const ids = new Set(answers.filter((a) => a.status === 201).map((a) => a.body.id))
    expect(ids.size).toBe(1)
    for (const a of answers) expect([201, 409]).toContain(a.status)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data).toHaveLength(1)

    // Another tenant may use the same key for its own request.
    const t2 = await makeTenant(server, 'idem3')
    const i2 = await makeInbox(server, t2)
    const theirs = await i2.api.post(`/v1/inboxes/${i2.id}/messages`, { to: 'p@example.com', text: 'x' }, { 'idempotency-key': key })
    expect(theirs.status).toBe(201)
    expect(theirs.body.id).not.toBe([...ids][0])

    // Not only sends: creating an inbox twice with one key creates it once.
    const c1 = await t.api.post('/v1/inboxes', { name: 'idem-box' }, { 'idempotency-key': 'create-1' })
    const c2 = await t.api.post('/v1/inboxes', { name: 'idem-box' }, { 'idempotency-key': 'create-1' })
    expect(c1.status).toBe(201)
    expect(c2.status).toBe(201)
    expect(c2.body.id).toBe(c1.body.id)
  })
})

describe('reputation: suppression, pause and resume', () => {
  it('too many hard bounces pause the tenant (403 sending_paused + event); only an ancestor resumes; others keep sending', async () => {
    const parent = await makeTenant(server, 'rep-parent')
    const child = await makeChild(parent, server, 'spammy')
    const inbox = await makeInbox(server, child)
    const stranger = await makeTenant(server, 'bystander')
    const bystander = await makeInbox(server, stranger)
    sink.rule = (rcpt) => (rcpt.startsWith('gone') ? { code: 550, message: '5.1.1 user unknown' } : undefined)
    try {
      const sent = []
      for (const to of ['ok1@example.com', 'gone1@example.com', 'gone2@example.com', 'gone3@example.com']) sent.push(await sendFrom(inbox, to))
      for (const s of sent) await waitForStatus(inbox.api, inbox.id, s.body.id, ['sent', 'bounced'])
      const state = await eventually(async () => {
        const r = await child.api.get(`/v1/tenants/${child.id}/sending`)
        return r.body.paused ? r.body : undefined
      })
      expect(state.pausedReason).toMatch(/bounce rate 75\.0%/)
      const refused = await sendFrom(inbox)
      expect(refused.status).toBe(403)
      expect(refused.body.error.code).toBe('sending_paused')
      expect(refused.body.error.message).toMatch(/bounce rate/)
      expect((await eventsOf(server, child.id)).map((e) => e.type)).toContain('sending.paused')
      expect((await sendFrom(bystander)).status).toBe(201)

      // The paused tenant cannot lift its own pause; an unrelated tenant cannot even see it.
      expect((await child.api.post(`/v1/tenants/${child.id}/sending/resume`)).status).toBe(403)
      expect((await stranger.api.post(`/v1/tenants/${child.id}/sending/resume`)).status).toBe(404)
      const resumed = await parent.api.post(`/v1/tenants/${child.id}/sending/resume`)
      expect(resumed.status).toBe(200)
      expect(resumed.body).toMatchObject({ paused: false, windowSends: 0 })
      expect((await sendFrom(inbox)).status).toBe(201)
      expect((await eventsOf(server, child.id)).map((e) => e.type)).toContain('sending.resumed')
    } finally {
      sink.rule = () => undefined
    }
  })
})

describe('IP pools', () => {
  it('external delivery binds the tenant pool address; the operator assigns dedicated pools', async () => {
    const basic = await makeTenant(server, 'basic')
    const vip = await makeTenant(server, 'vip')
    const bi = await makeInbox(server, basic)
    const vi = await makeInbox(server, vip)
    const operator = client(server.baseUrl, OPERATOR_KEY, { 'mailroom-tenant': vip.id })
    const child = await makeChild(vip, server, 'vip-child')
    // A tenant cannot give itself or a child a dedicated pool; unknown pools are refused.
    expect((await vip.api.patch(`/v1/tenants/${vip.id}/sending`, { ipPool: 'premium' })).status).toBe(403)
    expect((await vip.api.patch(`/v1/tenants/${child.id}/sending`, { ipPool: 'premium' })).status).toBe(403)
    expect((await operator.patch(`/v1/tenants/${vip.id}/sending`, { ipPool: 'nope' })).status).toBe(400)
    const set = await operator.patch(`/v1/tenants/${vip.id}/sending`, { ipPool: 'premium' })
    expect(set.status).toBe(200)
    expect(set.body.ipPool).toBe('premium')
    // Now its own pool is one it may hand down.
    expect((await vip.api.patch(`/v1/tenants/${child.id}/sending`, { ipPool: 'premium' })).status).toBe(200)

    const a = await bi.api.post(`/v1/inboxes/${bi.id}/messages`, { to: 'pool-basic@example.com', text: 'x' })
    const b = await vi.api.post(`/v1/inboxes/${vi.id}/messages`, { to: 'pool-vip@example.com', text: 'x' })
    await waitForStatus(bi.api, bi.id, a.body.id, ['sent'])
    await waitForStatus(vi.api, vi.id, b.body.id, ['sent'])
    expect(sink.received.find((m) => m.to[0] === 'pool-basic@example.com')!.remoteAddress).toBe('127.0.0.2')
    expect(sink.received.find((m) => m.to[0] === 'pool-vip@example.com')!.remoteAddress).toBe('127.0.0.3')
  })
})

describe('fair claiming', () => {
  // On Citus every server of a file shares one database (vitest.config.ts): the file's server's
  // delivery workers would claim this test's server's mail. They stop for these last tests.
  beforeAll(async () => {
    if (onCitus) await server.running.deps.delivery?.stop()
  })

  it('round-robin across tenants with a per-tenant in-flight cap: a backlog never starves another tenant', async () => {
    const s = await startTestServer({ config: { relayUrl: sink.url }, delivery: { start: false, tenantInFlight: 2 } })
    try {
      const big = await makeInbox(s, await makeTenant(s, 'big'))
      const small = await makeInbox(s, await makeTenant(s, 'small'))
      // Eight requests at a time: the backlog builds in a third of the time it takes one by one.
      const big30 = await inBatches(30, 8, (i) => sendFrom(big, `fair-big-${i}@example.com`))
      expect(big30.map((r) => r.status)).toEqual(Array(30).fill(201))
      for (let i = 0; i < 3; i++) expect((await sendFrom(small, `fair-small-${i}@example.com`)).status).toBe(201)
      const claim = (n: number) =>
        withoutTenant(s.running.deps.database, (tx) => rawRows<{ tenant_id: string }>(tx, sql`select tenant_id from mailroom_claim_outbox(${n}, 60, 2)`))
      const first = await claim(10)
      const per = new Map<string, number>()
      for (const r of first) per.set(r.tenant_id, (per.get(r.tenant_id) ?? 0) + 1)
      expect([...per.values()]).toEqual([2, 2])
      // Both tenants are at their cap while those are in flight: nothing more is handed out.
      expect(await claim(10)).toEqual([])
    } finally {
      await s.stop()
    }
  })

  it('with the workers running, the small tenant is done while the big backlog is still draining', async () => {
    const slow = await startSink()
    slow.rule = () => undefined
    const s = await startTestServer({ config: { relayUrl: slow.url }, delivery: { start: false, tenantInFlight: 2, concurrency: 8, pollMs: 20 } })
    try {
      const big = await makeInbox(s, await makeTenant(s, 'big'))
      const small = await makeInbox(s, await makeTenant(s, 'small'))
      // 30 at 2 in flight is 15 rounds of delivery; the small tenant's 3 need two.
      const backlog = await inBatches(30, 8, (i) => sendFrom(big, `b${i}@example.com`))
      expect(backlog.every((r) => r.status === 201)).toBe(true)
      // The small tenant's mail is queued after all of the big backlog.
      const mine = []
      for (let i = 0; i < 3; i++) mine.push((await sendFrom(small, `s${i}@example.com`)).body.id)
      s.running.deps.delivery!.start()
      for (const id of mine) await waitForStatus(small.api, small.id, id, ['sent'], 20_000)
      const delivered = slow.received.filter((m) => m.to[0]!.startsWith('b')).length
      expect(delivered).toBeLessThan(30)
      await slow.waitFor(33, 60_000)
    } finally {
      await s.stop()
      await slow.close()
    }
  })
})
