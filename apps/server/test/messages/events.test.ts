// GET /v1/events: Server-Sent Events of the caller's events, resuming without gaps from Last-Event-ID,
// and ending once its key no longer lets it in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { waitUntil } from '@mailroom/testkit'
import { sendMail, settled } from '@mailroom/testkit/mail'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

interface SseEvent {
  id: string
  event: string
  data: { id: string; type: string; inboxId: string | null; data: { message: { subject: string; id: string } } }
}

/** Reads SSE events from an open stream until `count` arrived. */
async function readEvents(key: string, count: number, headers: Record<string, string> = {}, query = '') {
  const controller = new AbortController()
  const res = await fetch(`${server.baseUrl}/v1/events${query}`, { headers: { authorization: `Bearer ${key}`, ...headers }, signal: controller.signal })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buf = ''
  const events: SseEvent[] = []
  const opened = { ready: Promise.resolve() }
  const done = (async () => {
    while (events.length < count) {
      const { value, done: end } = await reader.read()
      if (end) break
      buf += decoder.decode(value, { stream: true })
      let idx
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, idx)
        buf = buf.slice(idx + 2)
        const fields: Record<string, string> = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const i = line.indexOf(':')
          if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trimStart()
        }
        if (fields.data) events.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) })
      }
    }
    controller.abort()
    return events
  })()
  return { done, opened }
}

describe('GET /v1/events', () => {
  it('streams message.received live and resumes from Last-Event-ID without gaps or repeats', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const live = await readEvents(t.key, 2)
    await sendMail(server, { to: inbox.address, subject: 'one' })
    await sendMail(server, { to: inbox.address, subject: 'two' })
    const first = await live.done
    expect(first.map((e) => e.data.data.message.subject)).toEqual(['one', 'two'])
    expect(first.every((e) => e.event === 'message.received' && e.data.inboxId === inbox.id)).toBe(true)
    const lastId = first[1]!.id

    // While disconnected, two more arrive; resuming gets exactly those.
    await sendMail(server, { to: inbox.address, subject: 'three' })
    await sendMail(server, { to: inbox.address, subject: 'four' })
    await settled(server)
    const resumed = await (await readEvents(t.key, 2, { 'last-event-id': lastId })).done
    expect(resumed.map((e) => e.data.data.message.subject)).toEqual(['three', 'four'])
    expect(Number(resumed[0]!.id)).toBe(Number(lastId) + 1)
    // ?after= works the same way, from the very beginning.
    const all = await (await readEvents(t.key, 4, {}, '?after=0')).done
    expect(all.map((e) => e.data.data.message.subject)).toEqual(['one', 'two', 'three', 'four'])
  })

  it("an inbox key streams only its inbox's events; another tenant sees none of them", async () => {
    const t = await makeTenant(server)
    const other = await makeTenant(server)
    const a = await makeInbox(server, t)
    const b = await makeInbox(server, t)
    await sendMail(server, { to: a.address, subject: 'for a' })
    await sendMail(server, { to: b.address, subject: 'for b' })
    await sendMail(server, { to: b.address, subject: 'for b again' })
    await settled(server)
    const onlyB = await (await readEvents(b.key, 2, {}, '?after=0')).done
    expect(onlyB.map((e) => e.data.data.message.subject)).toEqual(['for b', 'for b again'])
    // The other tenant's stream from 0 is empty: prove it by sending it one message of its own.
    const otherInbox = await makeInbox(server, other)
    const stream = await readEvents(other.key, 1, {}, '?after=0')
    await sendMail(server, { to: otherInbox.address, subject: 'mine' })
    const mine = await stream.done
    expect(mine.map((e) => e.data.data.message.subject)).toEqual(['mine'])
  })

  it('ends once its key is revoked, its inbox deleted or its tenant suspended or deleted, and sends nothing after', async () => {
    const parent = await makeTenant(server)
    const t = await makeChild(parent, server)
    const inbox = await makeInbox(server, t)
    const gone = await makeInbox(server, t)
    const revoked = (await t.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })).body
    const tenantKey = (await t.api.post('/v1/api-keys', { scope: 'tenant' })).body
    const subjects = (s: Awaited<ReturnType<typeof open>>) => s.events.map((e) => e.data.data.message.subject)
    const streams = { revoked: await open(revoked.key), gone: await open(gone.key), tenant: await open(t.key), tenantToo: await open(tenantKey.key) }
    await sendMail(server, { to: inbox.address, subject: 'before' })
    await sendMail(server, { to: gone.address, subject: 'before' })
    await waitUntil('every stream had its first event', () => Object.values(streams).every((s) => s.events.length >= 1))

    // The inbox key revoked: its stream ends, and the next message does not reach it.
    expect((await t.api.delete(`/v1/api-keys/${revoked.id}`)).status).toBe(204)
    await sendMail(server, { to: inbox.address, subject: 'after revoking' })
    await waitUntil('revoked ended', () => streams.revoked.done)
    expect(subjects(streams.revoked)).toEqual(['before'])
    // The inbox deleted (its key with it): its stream ends without another event to wake it.
    expect((await t.api.delete(`/v1/inboxes/${gone.id}`)).status).toBe(204)
    await waitUntil('gone ended', () => streams.gone.done)
    expect(subjects(streams.gone)).toEqual(['before'])
    // The tenant suspended: the streams of both its keys end.
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { status: 'suspended' })).status).toBe(200)
    await waitUntil('tenant ended', () => streams.tenant.done)
    await waitUntil('tenantToo ended', () => streams.tenantToo.done)
    for (const s of [streams.tenant, streams.tenantToo]) expect(subjects(s)).toEqual(['before', 'before', 'after revoking'])
    // Resumed, its keys stream again; deleted, that stream ends too.
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { status: 'active' })).status).toBe(200)
    const again = await open(tenantKey.key)
    await sendMail(server, { to: inbox.address, subject: 'resumed' })
    await waitUntil('the new stream had its event', () => again.events.length === 1)
    expect(again.done).toBe(false)
    expect((await parent.api.delete(`/v1/tenants/${t.id}`)).status).toBe(204)
    await waitUntil('again ended', () => again.done)
    expect(subjects(again)).toEqual(['resumed'])
    // A reconnection is refused, as any request would be.
    expect((await fetch(`${server.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${revoked.key}` } })).status).toBe(401)
  })

  it("a tenant's suspension or deletion wakes the streams of its subtree only, not another tenant's", async () => {
    const parent = await makeTenant(server)
    const t = await makeChild(parent, server)
    const grandchild = await makeChild(t, server)
    const sibling = await makeChild(parent, server)
    const stranger = await makeTenant(server)
    const touched = { t: await open(t.key), grandchild: await open(grandchild.key) }
    // The parent's own key, a sibling's and another top-level tenant's: none is on the subtree's path.
    const untouched = { parent: await open(parent.key), sibling: await open(sibling.key), stranger: await open(stranger.key) }
    const wakes = () => Object.values(untouched).map((s) => s.keepAlives)
    const before = wakes()
    expect((await parent.api.patch(`/v1/tenants/${t.id}`, { status: 'suspended' })).status).toBe(200)
    await waitUntil('the suspended subtree\'s streams ended', () => touched.t.done && touched.grandchild.done)
    expect((await parent.api.delete(`/v1/tenants/${t.id}`)).status).toBe(204)
    // A stream touched by a change of a subtree asks again within a second of its own
    // (events/routes.ts): past that, one that was not woken never will be.
    await new Promise((r) => setTimeout(r, 1_500))
    expect(wakes()).toEqual(before)
    expect(Object.values(untouched).every((s) => !s.done)).toBe(true)
  })
})

/** An open stream: its events as they come, and whether the server has ended it. */
async function open(key: string) {
  const res = await fetch(`${server.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status).toBe(200)
  const events: SseEvent[] = []
  // keepAlives: the comments sent when the stream woke without an event to send (or every 15 s).
  const state = { events, done: false, keepAlives: 0 }
  void (async () => {
    const decoder = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true })
      let idx
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const fields = Object.fromEntries(
          buf
            .slice(0, idx)
            .split('\n')
            .filter((l) => !l.startsWith(':') && l.includes(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
        )
        if (buf.startsWith(': keep-alive')) state.keepAlives++
        buf = buf.slice(idx + 2)
        if (fields.data) events.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) })
      }
    }
  })()
    // A body cut off (the server stopping) ends the stream too.
    .catch(() => {})
    .finally(() => (state.done = true))
  return state
}
