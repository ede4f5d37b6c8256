// GET /v1/events: Server-Sent Events of the caller's events, resuming without gaps from Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
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
})
