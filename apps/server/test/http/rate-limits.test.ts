// The HTTP door shares itself fairly: request-rate limits per tenant and per inbox key (429 with
// Retry-After and the IETF RateLimit headers, inherited and capped down the tree), a refusal that
// costs no database work, and a per-tenant share of the database connections with load shed as
// 503 before a request waits past its deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, notificationsHeard, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { onPostgres } from '@mailroom/testkit/db'
import { fromPublicId } from '../../src/lib/ids.js'
import { turnsAsked } from '../helpers/turns.js'

/** A clock the test moves: token buckets refill only when it says so (no wall-clock in the assertions). */
function manualClock(start = Date.UTC(2026, 0, 5, 12)) {
  let now = start
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) }
}

describe('request-rate limits', () => {
  let server: TestServer
  const clock = manualClock()

  beforeAll(async () => {
    // Deployment defaults: 1 request a second, 4 at once.
    server = await startTestServer({ clock, config: { apiRequestsPerSecond: 1, apiBurst: 4 } })
  })
  afterAll(() => server?.stop())

  /** Whose turns `f` asked for (test/helpers/turns.ts). */
  const gateTurns = (f: () => Promise<unknown>) => turnsAsked(server.db.runtime, f)

  /** A 429 from the limit named in its RateLimit-Policy header (`policy`). */
  function expectRefusedBy(res: { status: number; headers: Headers }, policy: string) {
    expect(res.status).toBe(429)
    expect(res.headers.get('ratelimit-policy')).toBe(policy)
  }

  it('a tenant gets its burst, then 429 rate_limited with Retry-After and RateLimit headers; time refills it', async () => {
    const t = await makeTenant(server, 'bursty')
    for (let i = 0; i < 4; i++) {
      const ok = await t.api.get('/v1/inboxes')
      expect(ok.status).toBe(200)
      expect(ok.headers.get('ratelimit-policy')).toBe('"tenant";q=4;w=4')
      expect(ok.headers.get('ratelimit')).toBe(`"tenant";r=${3 - i};t=${i + 1}`)
    }
    const refused = await t.api.get('/v1/inboxes')
    expect(refused.status).toBe(429)
    expect(refused.body.error).toMatchObject({ code: 'rate_limited' })
    expect(refused.body.error.message).toMatch(/1 per second, 4 at once/)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.headers.get('ratelimit')).toBe('"tenant";r=0;t=4')
    clock.advance(1000)
    expect((await t.api.get('/v1/inboxes')).status).toBe(200)
    expect((await t.api.get('/v1/inboxes')).status).toBe(429)
  })

  it("one tenant's refusals leave another tenant's requests alone", async () => {
    const noisy = await makeTenant(server, 'noisy')
    const quiet = await makeTenant(server, 'quiet')
    for (let i = 0; i < 10; i++) await noisy.api.get('/v1/inboxes')
    expect((await noisy.api.get('/v1/inboxes')).status).toBe(429)
    for (let i = 0; i < 4; i++) expect((await quiet.api.get('/v1/inboxes')).status).toBe(200)
  })

  it("a known key whose tenant is over its rate is refused before any database work", async () => {
    const t = await makeTenant(server, 'known')
    for (let i = 0; i < 4; i++) expect((await t.api.get('/v1/me')).status).toBe(200)
    expect((await t.api.get('/v1/me')).status).toBe(429)
    // The admitted requests' usage counts are written now, so the meter's next flush has nothing to do.
    await server.running.deps.usage.flush()
    // Watch who gets database connections.
    const asked = await gateTurns(async () => {
      for (let i = 0; i < 20; i++) expect((await t.api.get('/v1/me')).status).toBe(429)
    })
    // Not one connection was asked for those 20 requests: no key lookup, no query of the tenant.
    expect(asked.filter((k) => k.startsWith('auth:') || k === fromPublicId('tenant', t.id))).toEqual([])
  })

  it('limits set by a parent bind the child and its descendants, and never exceed the parent', async () => {
    const root = await makeTenant(server, 'platform')
    clock.advance(10_000)
    const mid = await makeChild(root, server, 'reseller')
    const leaf = await makeChild(mid, server, 'client')
    // More than the parent holds (the deployment default of 4 at once): refused, naming the limit.
    const tooMuch = await mid.api.patch(`/v1/tenants/${leaf.id}`, { limits: { apiBurst: 50 } })
    expect(tooMuch.status).toBe(400)
    expect(tooMuch.body.error.message).toMatch(/apiBurst \(parent allows 4\)/)
    // The root tightens the reseller after the client exists: the client is bound by it too.
    clock.advance(10_000)
    await changeLimits(() => root.api.patch(`/v1/tenants/${mid.id}`, { limits: { apiRequestsPerSecond: 1, apiBurst: 2 } }))
    expect((await leaf.api.get('/v1/inboxes')).status).toBe(200)
    expect((await leaf.api.get('/v1/inboxes')).status).toBe(200)
    expectRefusedBy(await leaf.api.get('/v1/inboxes'), '"tenant";q=2;w=2')
    // The root itself keeps the default.
    for (let i = 0; i < 3; i++) expect((await root.api.get('/v1/inboxes')).status).toBe(200)
  })

  it("an inbox key is held to its inbox's own rate, within its tenant's; the tenant key is not", async () => {
    const t = await makeTenant(server, 'agents')
    clock.advance(10_000)
    const inbox = await makeInbox(server, t, 'agent')
    const over = await t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { apiRequestsPerSecond: 1, apiBurst: 9 })
    expect(over.status).toBe(400)
    expect(over.body.error.message).toMatch(/apiBurst \(parent allows 4\)/)
    const set = await changeLimits(() => t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { apiRequestsPerSecond: 1, apiBurst: 1 }))
    expect(set.body.effective).toMatchObject({ apiRequestsPerSecond: 1, apiBurst: 1 })
    clock.advance(10_000)
    expect((await inbox.api.get('/v1/me')).status).toBe(200)
    expectRefusedBy(await inbox.api.get('/v1/me'), '"inbox";q=1;w=1')
    // The inbox's refusal did not use up its tenant's requests.
    for (let i = 0; i < 3; i++) expect((await t.api.get('/v1/inboxes')).status).toBe(200)
  })

  /**
   * Runs `f` with the usage meter's flush (once a second, in each tenant) stopped, handing it
   * `reads`: one request of `call` (answered 200), and how many turns at the connection gate it asked
   * for under the tenant `tenant` (a public id).
   */
  async function countingReads(tenant: string, call: () => Promise<{ status: number }>, f: (reads: () => Promise<number>) => Promise<void>) {
    const tenantId = fromPublicId('tenant', tenant)!
    const reads = async () => (await gateTurns(async () => expect((await call()).status).toBe(200))).filter((k) => k === tenantId).length
    const usage = server.running.deps.usage
    await usage.stop()
    try {
      await f(reads)
    } finally {
      usage.start()
    }
  }

  /**
   * Makes a change of limits (`request`, answered 200) and waits until its notification has come
   * back: the change is forgotten here at once and again when its notification is heard, with any
   * read made in between. Counted reads must not straddle that notification (on a loaded machine it
   * can arrive in the middle of the next request, whose read is then made twice).
   */
  async function changeLimits<R extends { status: number }>(request: () => Promise<R>): Promise<R> {
    const res = await request()
    expect(res.status).toBe(200)
    await notificationsHeard(server)
    return res
  }

  /** The first request reads its rates; past the limiter's own few seconds they are not read again. */
  async function readOnceThenKept(reads: () => Promise<number>, first: number) {
    expect(await reads()).toBe(first)
    // An idle agent's re-poll comes every 30 s or so.
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000)
      expect(await reads()).toBe(first - 1)
    }
  }

  it("an inbox key's rates are read once and kept until its limits change, not read again every few seconds", async () => {
    const t = await makeTenant(server, 'idle agents')
    clock.advance(10_000)
    const inbox = await makeInbox(server, t, 'idle')
    await countingReads(t.id, () => inbox.api.get('/v1/me'), async (reads) => {
      // /v1/me reads the tenant and the inbox besides the rates.
      await readOnceThenKept(reads, 2)
      // Its limits change: read again at once, and in force.
      await changeLimits(() => t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { apiRequestsPerSecond: 1, apiBurst: 1 }))
      clock.advance(10_000)
      expect(await reads()).toBe(2)
      expectRefusedBy(await inbox.api.get('/v1/me'), '"inbox";q=1;w=1')
    })
  })

  it("a tenant key's rates are read once and kept until a limit in its ancestry changes", async () => {
    const root = await makeTenant(server, 'platform of idle tenants')
    clock.advance(10_000)
    const mid = await makeChild(root, server, 'reseller of idle tenants')
    const t = await makeChild(mid, server, 'idle tenant')
    await countingReads(t.id, () => t.api.get('/v1/me'), async (reads) => {
      // /v1/me reads the tenant besides the rates.
      await readOnceThenKept(reads, 2)
      // Its parent sets its limits: read again at once, then kept again.
      await changeLimits(() => mid.api.patch(`/v1/tenants/${t.id}`, { limits: { apiRequestsPerSecond: 1, apiBurst: 3 } }))
      clock.advance(10_000)
      await readOnceThenKept(reads, 2)
      // The tenant between is tightened by the root: read again at once, and in force.
      await changeLimits(() => root.api.patch(`/v1/tenants/${mid.id}`, { limits: { apiRequestsPerSecond: 1, apiBurst: 1 } }))
      clock.advance(10_000)
      expect(await reads()).toBe(2)
      expectRefusedBy(await t.api.get('/v1/me'), '"tenant";q=1;w=1')
    })
  })

  it("a limit changed through the API holds from the key's next request, without waiting out the limiter's few seconds", async () => {
    // The clock does not move between a change and the requests after it: rates the limiter kept
    // would be served for 5 s more.
    const parent = await makeTenant(server, 'quick platform')
    const t = await makeChild(parent, server, 'quick tenant')
    const inbox = await makeInbox(server, t, 'quick')
    clock.advance(10_000)
    // An inbox's own limits.
    expect((await inbox.api.get('/v1/me')).headers.get('ratelimit-policy')).toBe('"tenant";q=4;w=4')
    expect((await t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { apiRequestsPerSecond: 1, apiBurst: 1 })).status).toBe(200)
    const first = await inbox.api.get('/v1/me')
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-policy')).toBe('"inbox";q=1;w=1')
    expect((await inbox.api.get('/v1/me')).status).toBe(429)
    // A tenant's limits, set by its parent, for its tenant key.
    clock.advance(10_000)
    expect((await t.api.get('/v1/me')).headers.get('ratelimit-policy')).toBe('"tenant";q=4;w=4')
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { limits: { apiRequestsPerSecond: 1, apiBurst: 1 } })).status).toBe(200)
    const next = await t.api.get('/v1/me')
    expect(next.status).toBe(200)
    expect(next.headers.get('ratelimit-policy')).toBe('"tenant";q=1;w=1')
    expect((await t.api.get('/v1/me')).status).toBe(429)
  })

  it('counts the refusals in /metrics', async () => {
    const metrics = await server.running.deps.metrics.render()
    expect(metrics.body).toMatch(/mailroom_rate_limited_total\{limit="api_tenant"\} [1-9]/)
    expect(metrics.body).toMatch(/mailroom_rate_limited_total\{limit="api_inbox"\} [1-9]/)
  })
})

// The embedded store runs one transaction at a time and sheds nothing (db/client.ts): these need Postgres.
describe.runIf(onPostgres)('database connections: a share per tenant, and load shed before a deadline', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ config: { dbQueueTimeoutMs: 150 } })
  })
  afterAll(() => server?.stop())

  it('a tenant holding its whole share waits (then gets 503 + Retry-After), while another tenant is served', async () => {
    const a = await makeTenant(server, 'greedy')
    const b = await makeTenant(server, 'patient')
    const gate = server.db.runtime.gate
    const aId = fromPublicId('tenant', a.id)!
    // Tenant a's share of the 10 connections is 5: hold them as a flood of its requests would.
    const held = await Promise.all(Array.from({ length: 5 }, () => gate.acquire(aId, null)))
    try {
      const refused = await a.api.get('/v1/inboxes')
      expect(refused.status).toBe(503)
      expect(refused.body.error.code).toBe('service_unavailable')
      expect(refused.headers.get('retry-after')).toBe('1')
      expect((await b.api.get('/v1/inboxes')).status).toBe(200)
    } finally {
      for (const r of held) r()
    }
    expect((await a.api.get('/v1/inboxes')).status).toBe(200)
  })

  it('with every connection taken, a request is shed with 503 at its deadline, never a 500 from the pool', async () => {
    const t = await makeTenant(server, 'late')
    const gate = server.db.runtime.gate
    const held = await Promise.all(Array.from({ length: 10 }, (_, i) => gate.acquire(`holder-${i}`, null)))
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => t.api.get('/v1/inboxes')))
      for (const r of results) {
        expect(r.status).toBe(503)
        expect(r.body.error.code).toBe('service_unavailable')
      }
      // Shed at the database gate: the key's lookup no longer waits there (db/client.ts, `single`), and
      // the five requests share one load of their tenant's limits, so at least that one waited and was shed.
      expect(gate.shed.deadline).toBeGreaterThanOrEqual(1)
    } finally {
      for (const r of held) r()
    }
    expect((await t.api.get('/v1/inboxes')).status).toBe(200)
  })
})

describe('requests in flight: a few per tenant at once, the rest in their own line', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ config: { dbQueueTimeoutMs: 200, httpMaxInFlightPerTenant: 2 } })
  })
  afterAll(() => server?.stop())

  it("a tenant's requests past its turns wait in its own line (past the database deadline, not refused) while another tenant passes", async () => {
    const a = await makeTenant(server, 'busy')
    const b = await makeTenant(server, 'calm')
    const inbox = await makeInbox(server, a, 'waiter')
    const turns = server.running.deps.requestTurns
    const aId = fromPublicId('tenant', a.id)!
    // Tenant a's two turns taken, as two slow requests of its own would.
    const held = await Promise.all([turns.acquire(aId, null), turns.acquire(aId, null)])
    try {
      expect((await b.api.get('/v1/inboxes')).status).toBe(200)
      // Waits for mail hold no turn.
      const wait = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=1`)
      expect(wait.status).toBe(204)
      let answered = false
      const waiting = a.api.get('/v1/inboxes').then((r) => ((answered = true), r))
      await until(() => turns.stats.waiting === 1)
      // Held longer than the database deadline (200 ms): the queued request is still not refused.
      await new Promise((r) => setTimeout(r, 400))
      expect(answered).toBe(false)
      held.pop()!()
      expect((await waiting).status).toBe(200)
    } finally {
      for (const r of held) r()
    }
    expect((await a.api.get('/v1/inboxes')).status).toBe(200)
  })
})

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(cond()).toBe(true)
}
