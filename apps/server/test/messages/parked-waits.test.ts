// Waits that have to hold are parked outside the HTTP framework (src/events/waits.ts) and answered
// from there: a match while parked is 200, the end of the hold 204, a client that goes away frees
// its wait, several waits on one inbox each get only what they match, a wait whose key is revoked
// meanwhile answers 401 rather than the mail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { createApp } from '../../src/http/app.js'
import { fromPublicId } from '../../src/lib/ids.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const waiters = () => server.running.deps.hub.waiterCount
const parked = () => server.running.deps.waits.parked

async function until(what: () => number, n: number) {
  for (let i = 0; i < 400 && what() !== n; i++) await new Promise((r) => setTimeout(r, 25))
  expect(what()).toBe(n)
}
/** Resolves once `n` waits are parked (past their first look, held by the registry). */
const untilParked = (n: number) => until(parked, n)
/** Resolves once `n` waits are open at all (each registers with the hub as it opens). */
const untilWaiters = (n: number) => until(waiters, n)

const waitUrl = (inboxId: string, q: string) => `${server.baseUrl}/v1/inboxes/${inboxId}/messages/wait?${q}`

describe('parked waits', () => {
  it('a parked wait whose key is revoked answers 401 when mail comes, not the mail; a key a change of keys leaves valid gets it', async () => {
    const parent = await makeTenant(server)
    const t = await makeChild(parent, server)
    const inbox = await makeInbox(server, t)
    const revoked = (await t.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })).body
    const kept = (await t.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })).body
    const wait = (key: string) => fetch(waitUrl(inbox.id, 'timeout=20'), { headers: { authorization: `Bearer ${key}` } })
    const waits = [wait(revoked.key), wait(kept.key)]
    await untilParked(2)
    expect((await t.api.delete(`/v1/api-keys/${revoked.id}`)).status).toBe(204)
    // A change of its tenant's standing too (suspended, then resumed before the mail comes): the kept
    // key is asked about again, and still let in.
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { status: 'suspended' })).status).toBe(200)
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { status: 'active' })).status).toBe(200)
    await sendMail(server, { to: inbox.address, subject: 'after revoking' })
    const [refused, answered] = await Promise.all(waits)
    expect(refused!.status).toBe(401)
    expect((await refused!.json()).error).toMatchObject({ code: 'unauthorized', message: 'this API key has been revoked' })
    expect(answered!.status).toBe(200)
    expect((await answered!.json()).message.subject).toBe('after revoking')
    await untilWaiters(0)
    expect(parked()).toBe(0)
  })

  it('without keys kept in memory (MAILROOM_KEY_CACHE_SECONDS=0, no change listened for) a held wait whose key is revoked answers 401 too', async () => {
    const uncached = await startTestServer({ db: server.db, config: { keyCacheSeconds: 0 } })
    try {
      const t = await makeTenant(uncached)
      const inbox = await makeInbox(uncached, t)
      const revoked = (await t.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })).body
      const waiting = fetch(`${uncached.baseUrl}/v1/inboxes/${inbox.id}/messages/wait?timeout=20`, { headers: { authorization: `Bearer ${revoked.key}` } })
      await until(() => uncached.running.deps.waits.parked, 1)
      expect((await t.api.delete(`/v1/api-keys/${revoked.id}`)).status).toBe(204)
      await sendMail(uncached, { to: inbox.address, subject: 'after revoking' })
      const res = await waiting
      expect(res.status).toBe(401)
      expect((await res.json()).error.message).toBe('this API key has been revoked')
    } finally {
      await uncached.stop()
    }
  })

  it('a wait parked before the message arrives answers 200 with the message, its cursor and the request id', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const waiting = fetch(waitUrl(inbox.id, 'timeout=20'), { headers: { authorization: `Bearer ${inbox.key}`, 'x-request-id': 'parked-200' } })
    await untilParked(1)
    await sendMail(server, { to: inbox.address, subject: 'while parked', text: 'hello' })
    const res = await waiting
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('x-request-id')).toBe('parked-200')
    const body = await res.json()
    expect(body.message).toMatchObject({ subject: 'while parked', inboxId: inbox.id, parseStatus: 'parsed' })
    expect(body.message.text).toContain('hello')
    expect(res.headers.get('mailroom-cursor')).toBe(body.cursor)
    await untilWaiters(0)
    expect(parked()).toBe(0)
    // The cursor it handed back continues after that message.
    const next = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=1&cursor=${body.cursor}`)
    expect(next.status).toBe(204)
  })

  it('a parked wait whose hold ends answers 204, no body, with the cursor and the request id', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const res = await fetch(waitUrl(inbox.id, 'timeout=1'), { headers: { authorization: `Bearer ${inbox.key}`, 'x-request-id': 'parked-204' } })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect(res.headers.get('x-request-id')).toBe('parked-204')
    expect(res.headers.get('mailroom-cursor')).toMatch(/^w1\./)
    await untilWaiters(0)
    expect(parked()).toBe(0)
  })

  it('a client that disconnects mid-wait frees its wait', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const controller = new AbortController()
    const waiting = fetch(waitUrl(inbox.id, 'timeout=30'), { headers: { authorization: `Bearer ${inbox.key}` }, signal: controller.signal })
    await untilParked(1)
    controller.abort()
    await expect(waiting).rejects.toThrow()
    // Well before the 30 s hold ends.
    await untilWaiters(0)
    expect(parked()).toBe(0)
    // Mail for that inbox now wakes nobody and the server keeps serving.
    await sendMail(server, { to: inbox.address, subject: 'nobody waits' })
    await settled(server)
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)
    expect(list.body.data.map((m: { subject: string }) => m.subject)).toEqual(['nobody waits'])
  })

  it('several waits parked on one inbox each get only the message they match; the rest keep holding', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const open = (subject: string, timeout: number) =>
      fetch(waitUrl(inbox.id, `timeout=${timeout}&subject=${subject}`), { headers: { authorization: `Bearer ${t.key}` } }).then(async (r) => ({
        status: r.status,
        subject: r.status === 200 ? ((await r.json()) as { message: { subject: string } }).message.subject : null,
      }))
    const alpha = open('alpha', 20)
    const beta = open('beta', 20)
    const gamma = open('gamma', 2)
    await untilParked(3)
    await sendMail(server, { to: inbox.address, subject: 'beta one' })
    expect(await beta).toEqual({ status: 200, subject: 'beta one' })
    await sendMail(server, { to: inbox.address, subject: 'alpha one' })
    expect(await alpha).toEqual({ status: 200, subject: 'alpha one' })
    // Two notifications rescanned gamma; neither matched, so its hold ends with 204.
    expect(await gamma).toEqual({ status: 204, subject: null })
    await untilWaiters(0)
    expect(parked()).toBe(0)
  })

  it('without Node\'s server (app.fetch called directly) a held wait still answers', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const app = createApp(server.running.deps)
    const headers = { authorization: `Bearer ${inbox.key}` }
    const timedOut = await app.request(`/v1/inboxes/${inbox.id}/messages/wait?timeout=1`, { headers })
    expect(timedOut.status).toBe(204)
    const cursor = timedOut.headers.get('mailroom-cursor')!
    expect(cursor).toMatch(/^w1\./)
    const waiting = app.request(`/v1/inboxes/${inbox.id}/messages/wait?timeout=20&cursor=${cursor}`, { headers })
    await untilParked(1)
    await sendMail(server, { to: inbox.address, subject: 'direct' })
    const res = await waiting
    expect(res.status).toBe(200)
    expect(((await res.json()) as { message: { subject: string } }).message.subject).toBe('direct')
    await untilWaiters(0)
    expect(parked()).toBe(0)
  })
})

describe('re-polls whose cursor is current', () => {
  const looks = () => ({ ...server.running.deps.waits.looks })

  it('park without a read, answer what comes next, and look at the database whenever the cursor is behind', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const first = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0`)
    expect(first.status).toBe(204)
    const c0 = first.headers.get('mailroom-cursor')!
    await sendMail(server, { to: inbox.address, subject: 'one' })
    await settled(server)
    const tenantId = fromPublicId('tenant', t.id)!
    const inboxId = fromPublicId('inbox', inbox.id)!
    await until(() => server.running.deps.hub.heardUpTo(tenantId, inboxId) ?? 0, 1)

    // Behind what was heard: a look at the database, answered at once.
    let before = looks()
    const behind = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=20&cursor=${c0}`)
    expect(behind.status).toBe(200)
    expect(behind.body.message.subject).toBe('one')
    expect(looks().database).toBeGreaterThan(before.database)

    // Current: parked with no read at all, then answered by the next arrival.
    before = looks()
    const waiting = fetch(waitUrl(inbox.id, `timeout=20&cursor=${behind.body.cursor}`), { headers: { authorization: `Bearer ${inbox.key}` } })
    await untilParked(1)
    expect(looks()).toEqual({ database: before.database, memory: before.memory + 1 })
    await sendMail(server, { to: inbox.address, subject: 'two' })
    const res = await waiting
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.message.subject).toBe('two')
    await untilWaiters(0)

    // The skip never stands in for the look's access check: another tenant's key, or a key of
    // another inbox of the same tenant, with the current cursor still gets the look's 404.
    const stranger = await makeInbox(server, await makeTenant(server, 'stranger'))
    const sibling = await makeInbox(server, t)
    for (const key of [stranger.key, sibling.key]) {
      const other = await fetch(waitUrl(inbox.id, `timeout=1&cursor=${body.cursor}`), { headers: { authorization: `Bearer ${key}` } })
      expect(other.status).toBe(404)
    }
    // After a lost LISTEN connection nothing heard before counts: the next re-poll looks again.
    server.running.deps.hub.resync()
    expect(server.running.deps.hub.heardUpTo(tenantId, inboxId)).toBeNull()
    before = looks()
    const after = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0&cursor=${body.cursor}`)
    expect(after.status).toBe(204)
    expect(looks().database).toBeGreaterThan(before.database)
  })
})

describe('re-polls on an inbox that has had no mail', () => {
  const looks = () => ({ ...server.running.deps.waits.looks })

  it('park without a read once a look has read its counter, still answer what comes next, and never stand in for the access check', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const tenantId = fromPublicId('tenant', t.id)!
    const inboxId = fromPublicId('inbox', inbox.id)!
    // Nothing was ever heard of this inbox: the first wait looks (and reads the counter, 0).
    expect(server.running.deps.hub.heardUpTo(tenantId, inboxId)).toBeNull()
    let before = looks()
    const first = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0`)
    expect(first.status).toBe(204)
    expect(looks().database).toBe(before.database + 1)
    expect(server.running.deps.hub.heardUpTo(tenantId, inboxId)).toBe(0)

    // The re-poll at that cursor: parked with no read; each further one too.
    const c0 = first.headers.get('mailroom-cursor')!
    before = looks()
    const idle = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0&cursor=${c0}`)
    expect(idle.status).toBe(204)
    expect(idle.headers.get('mailroom-cursor')).toBe(c0)
    expect(looks()).toEqual({ database: before.database, memory: before.memory + 1 })
    before = looks()
    const waiting = fetch(waitUrl(inbox.id, `timeout=20&cursor=${c0}`), { headers: { authorization: `Bearer ${inbox.key}` } })
    await untilParked(1)
    expect(looks()).toEqual({ database: before.database, memory: before.memory + 1 })
    await sendMail(server, { to: inbox.address, subject: 'first ever' })
    const res = await waiting
    expect(res.status).toBe(200)
    expect((await res.json()).message.subject).toBe('first ever')
    await untilWaiters(0)

    // Another tenant's key, or a key of another inbox of the same tenant, with that cursor: the
    // look's 404, and what it read is not taken as theirs.
    const strangerTenant = await makeTenant(server, 'stranger')
    const stranger = await makeInbox(server, strangerTenant)
    const sibling = await makeInbox(server, t)
    for (const key of [stranger.key, sibling.key]) {
      before = looks()
      const other = await fetch(waitUrl(inbox.id, `timeout=0&cursor=${c0}`), { headers: { authorization: `Bearer ${key}` } })
      expect(other.status).toBe(404)
      expect(looks().database).toBe(before.database + 1)
    }
    expect(server.running.deps.hub.heardUpTo(fromPublicId('tenant', strangerTenant.id)!, inboxId)).toBeNull()
  })
})

describe('waits answered from the messages this process commits', () => {
  it('parked waits are answered from the committed message, never read back, also when the notification overtakes the COMMIT', async () => {
    // With the notification heard before the COMMIT's answer (it often is, on Postgres), the wait
    // would otherwise look at the database first (events/hub.ts, committing).
    const t = await makeTenant(server)
    const inboxes = await Promise.all(Array.from({ length: 20 }, (_, i) => makeInbox(server, t, `fast-${i}`)))
    const waiting = inboxes.map((inbox) =>
      fetch(waitUrl(inbox.id, 'timeout=30'), { headers: { authorization: `Bearer ${inbox.key}` } }).then(async (r) => ({ status: r.status, body: r.status === 200 ? await r.json() : null })),
    )
    await untilParked(inboxes.length)
    const before = { ...server.running.deps.waits.looks }
    await Promise.all(inboxes.map((inbox, i) => sendMail(server, { to: inbox.address, subject: `for ${i}` })))
    const answers = await Promise.all(waiting)
    expect(answers.map((a) => [a.status, a.body?.message.subject])).toEqual(inboxes.map((_, i) => [200, `for ${i}`]))
    const after = server.running.deps.waits.looks
    expect(after.database - before.database).toBe(0)
    expect(after.memory - before.memory).toBe(inboxes.length)
    await untilWaiters(0)
  })

  // A server of its own with its LISTEN connection stopped: the database's notifications no longer
  // reach it, so only what the ingest hands the hub after each commit can wake a wait.
  let deaf: TestServer
  beforeAll(async () => {
    deaf = await startTestServer()
    await deaf.running.deps.hub.stop()
  })
  afterAll(() => deaf?.stop())

  const deafParked = async (n: number) => {
    for (let i = 0; i < 400 && deaf.running.deps.waits.parked !== n; i++) await new Promise((r) => setTimeout(r, 25))
    expect(deaf.running.deps.waits.parked).toBe(n)
  }
  const wait = (inbox: { id: string; key: string }, q: string) =>
    fetch(`${deaf.baseUrl}/v1/inboxes/${inbox.id}/messages/wait?${q}`, { headers: { authorization: `Bearer ${inbox.key}` } })

  it('answers a parked wait with the message as a read shows it, without hearing from the database', async () => {
    const inbox = await makeInbox(deaf, await makeTenant(deaf))
    const waiting = wait(inbox, 'timeout=20&subject=second')
    await deafParked(1)
    // The first does not match: the cursor moves past it in memory, and the second is the next seq.
    await sendMail(deaf, { to: inbox.address, subject: 'first', text: 'one' })
    await sendMail(deaf, { to: inbox.address, subject: 'second', text: 'two', attachments: [{ filename: 'a.txt', content: 'attached' }] })
    const res = await waiting
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.message.subject).toBe('second')
    // Field for field what the API reads back from the database.
    const read = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${body.message.id}`)
    expect(read.status).toBe(200)
    expect(body.message).toEqual(read.body)
    expect(body.message.attachments).toHaveLength(1)
    // Its cursor continues after the second message: nothing newer.
    const next = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/wait?timeout=0&cursor=${body.cursor}`)
    expect(next.status).toBe(204)
  })

  it('reads instead when a message between the cursor and the arrival was not seen here, so none is skipped', async () => {
    const inbox = await makeInbox(deaf, await makeTenant(deaf))
    const hub = deaf.running.deps.hub
    const original = hub.arrivedHere.bind(hub)
    // The first commit is not told to this process (as if another node had stored it).
    let drop = true
    hub.arrivedHere = (arrivals) => {
      if (drop) {
        drop = false
        return
      }
      original(arrivals)
    }
    try {
      const waiting = wait(inbox, 'timeout=20')
      await deafParked(1)
      await sendMail(deaf, { to: inbox.address, subject: 'unseen here' })
      await settled(deaf)
      await sendMail(deaf, { to: inbox.address, subject: 'seen here' })
      const res = await waiting
      expect(res.status).toBe(200)
      // The arrival of seq 2 woke it; the look went back to seq 1.
      expect((await res.json()).message.subject).toBe('unseen here')
    } finally {
      hub.arrivedHere = original
    }
  })
  it('a failure while telling waiters after the commit neither fails the message nor stores it twice', async () => {
    const inbox = await makeInbox(deaf, await makeTenant(deaf))
    const hub = deaf.running.deps.hub
    const original = hub.arrivedHere.bind(hub)
    hub.arrivedHere = () => {
      throw new Error('listener broke')
    }
    try {
      const info = await sendMail(deaf, { to: inbox.address, subject: 'stored once' })
      expect(info.response).toMatch(/^250 /)
      await settled(deaf)
    } finally {
      hub.arrivedHere = original
    }
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)
    expect(list.body.data.map((m: { subject: string }) => m.subject)).toEqual(['stored once'])
  })
})

describe('held requests per tenant and per inbox', () => {
  let capped: TestServer
  beforeAll(async () => {
    capped = await startTestServer({ config: { maxHeldPerInbox: 2, maxHeldPerTenant: 3 } })
  })
  afterAll(() => capped?.stop())

  const open = (inboxId: string, key: string, signal: AbortSignal) =>
    fetch(`${capped.baseUrl}/v1/inboxes/${inboxId}/messages/wait?timeout=30`, { headers: { authorization: `Bearer ${key}` }, signal })
  const cappedParked = async (n: number) => {
    for (let i = 0; i < 400 && capped.running.deps.waits.parked !== n; i++) await new Promise((r) => setTimeout(r, 25))
    expect(capped.running.deps.waits.parked).toBe(n)
  }
  const expect429 = async (res: Response) => {
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await res.json()).error.code).toBe('rate_limited')
  }

  it("refuses waits and event streams past an inbox's or a tenant's cap with 429, other tenants unaffected, and frees a place when a wait ends", async () => {
    const t = await makeTenant(capped)
    const [a, b] = [await makeInbox(capped, t), await makeInbox(capped, t)]
    const stranger = await makeInbox(capped, await makeTenant(capped))
    const controllers: AbortController[] = []
    const hold = (inboxId: string, key: string) => {
      const c = new AbortController()
      controllers.push(c)
      return open(inboxId, key, c.signal).catch(() => null)
    }
    try {
      void hold(a.id, a.key)
      void hold(a.id, a.key)
      await cappedParked(2)
      // A third wait on the same inbox: the inbox's cap (2).
      await expect429(await open(a.id, a.key, new AbortController().signal))
      // Another inbox of the tenant still may, up to the tenant's cap (3).
      void hold(b.id, b.key)
      await cappedParked(3)
      await expect429(await open(b.id, b.key, new AbortController().signal))
      // An event stream of that tenant counts too.
      await expect429(await fetch(`${capped.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${t.key}` } }))
      // Another tenant is not affected.
      void hold(stranger.id, stranger.key)
      await cappedParked(4)
      // One of a's waits goes away: its place is free again.
      controllers[0]!.abort()
      await cappedParked(3)
      void hold(a.id, a.key)
      await cappedParked(4)
      expect(capped.running.deps.held.heldBy(fromPublicId('tenant', t.id)!)).toBe(3)
    } finally {
      for (const c of controllers) c.abort()
    }
    await cappedParked(0)
    const tenantId = fromPublicId('tenant', t.id)!
    const heldNow = async (n: number) => {
      for (let i = 0; i < 400 && capped.running.deps.held.heldBy(tenantId) !== n; i++) await new Promise((r) => setTimeout(r, 25))
      expect(capped.running.deps.held.heldBy(tenantId)).toBe(n)
    }
    await heldNow(0)
    // An event stream holds a place while it is open and gives it back when the client goes.
    const streaming = new AbortController()
    const stream = await fetch(`${capped.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${t.key}` }, signal: streaming.signal })
    expect(stream.status).toBe(200)
    await heldNow(1)
    streaming.abort()
    await heldNow(0)
  })
})
