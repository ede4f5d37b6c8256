// waitForMessage: the long-poll loop, cursor hand-over, filter serialisation, its own timeout, abort.
import { WaitQuery } from '@mailroom/contract'
import { delay, http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { type Inbox, MailroomAbortError, MailroomTimeoutError } from '../src/index.js'
import { regexToPattern } from '../src/inbox.js'
import { BASE, client, inboxFixture, messageFixture, server, useMsw } from './helpers.js'

useMsw()

const data = inboxFixture()
const WAIT = `${BASE}/v1/inboxes/${data.id}/messages/wait`

async function inboxHandle(options: Parameters<typeof client>[0] = {}): Promise<Inbox> {
  server.use(http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)))
  return client(options).inboxes.get(data.id)
}

/** Query strings of the long polls, as plain objects. */
function record() {
  const queries: Record<string, string>[] = []
  return { queries, push: (request: Request) => queries.push(Object.fromEntries(new URL(request.url).searchParams)) }
}

describe('waitForMessage', () => {
  it('loops over 204s, passing on the Mailroom-Cursor header, until a message comes', async () => {
    const msg = messageFixture({ subject: 'Your code' })
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        const n = rec.queries.length
        if (n < 3) return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': `cur${n}` } })
        return HttpResponse.json({ message: msg, cursor: 'cur-after-msg' })
      }),
    )
    const inbox = await inboxHandle()
    const got = await inbox.waitForMessage({ timeout: 5_000 })
    expect(got).toEqual({ ...msg, cursor: 'cur-after-msg' })
    expect(rec.queries.map((q) => q.cursor)).toEqual([undefined, 'cur1', 'cur2'])
    // The hold asked of the server never exceeds what is left of our own timeout (in seconds).
    expect(rec.queries[0]!.timeout).toBe('5')
  })

  it('starts from `since` and takes the cursor from a 204 body too', async () => {
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        if (rec.queries.length === 1) return HttpResponse.json({ cursor: 'from-body' }, { status: 200 })
        return HttpResponse.json({ message: messageFixture(), cursor: 'next' })
      }),
    )
    const inbox = await inboxHandle()
    const got = await inbox.waitForMessage({ since: 'prev-cursor' })
    expect(got.cursor).toBe('next')
    expect(rec.queries.map((q) => q.cursor)).toEqual(['prev-cursor', 'from-body'])
    // Default timeout 60 s: the server is asked for its longest hold, 30 s.
    expect(rec.queries[0]!.timeout).toBe('30')
  })

  it('serialises filters: plain from/to exact, plain subject contains, RegExp regex with (?i)', async () => {
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        return HttpResponse.json({ message: messageFixture(), cursor: 'c' })
      }),
    )
    const inbox = await inboxHandle()
    await inbox.waitForMessage({ from: 'alice@example.com', to: 'support@agents.test', subject: 'invoice', hasAttachments: false })
    await inbox.waitForMessage({ from: /@github\.com$/i, subject: /^Order #\d+/ })
    await inbox.waitForMessage({ from: { contains: 'github.com' }, to: { regex: '^sup' }, subject: { exact: 'Hi' }, hasAttachments: true })
    // Every query is one the server's own schema accepts.
    for (const q of rec.queries) expect(() => WaitQuery.strict().parse(q)).not.toThrow()
    const { cursor: _c, timeout: _t, ...first } = rec.queries[0]!
    expect(first).toEqual({
      from: 'alice@example.com',
      fromMatch: 'exact',
      to: 'support@agents.test',
      toMatch: 'exact',
      subject: 'invoice',
      subjectMatch: 'contains',
      hasAttachments: 'false',
    })
    expect(rec.queries[1]).toMatchObject({ from: '(?i)@github\\.com$', fromMatch: 'regex', subject: '^Order #\\d+', subjectMatch: 'regex' })
    expect(rec.queries[2]).toMatchObject({
      from: 'github.com',
      fromMatch: 'contains',
      to: '^sup',
      toMatch: 'regex',
      subject: 'Hi',
      subjectMatch: 'exact',
      hasAttachments: 'true',
    })
  })

  it('keeps only the i flag of a RegExp and refuses m and s', async () => {
    expect(regexToPattern(/a.b/gi)).toBe('(?i)a.b')
    expect(regexToPattern(/a\/b/u)).toBe('a\\/b')
    expect(() => regexToPattern(/^a$/m)).toThrow(/m flag/)
    expect(() => regexToPattern(/a.b/s)).toThrow(TypeError)
    const inbox = await inboxHandle()
    await expect(inbox.waitForMessage({ subject: /x/m })).rejects.toThrow(TypeError)
  })

  it('throws MailroomTimeoutError at its own timeout, however many 204s came', async () => {
    let polls = 0
    server.use(
      http.get(WAIT, async () => {
        polls++
        await delay(40)
        return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': `c${polls}` } })
      }),
    )
    const inbox = await inboxHandle()
    const started = performance.now()
    const err = await inbox.waitForMessage({ timeout: 200 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomTimeoutError)
    expect((err as Error).message).toContain('200 ms')
    expect(polls).toBeGreaterThan(1)
    // Its own deadline, not the server's hold (30 s): a bound that holds on a loaded machine too.
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('a timeout carries the cursor the wait got to, so the next wait misses nothing in between', async () => {
    const rec = record()
    let answered = 0
    server.use(
      http.get(WAIT, async ({ request }) => {
        rec.push(request)
        if (rec.queries.length <= 2) {
          answered++
          return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': `c${answered}` } })
        }
        await delay('infinite') // the third poll is still held when the deadline comes
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const inbox = await inboxHandle()
    const err = (await inbox.waitForMessage({ since: 'c0', timeout: 300 }).catch((e: unknown) => e)) as MailroomTimeoutError
    expect(err).toBeInstanceOf(MailroomTimeoutError)
    expect(err.cursor).toBe('c2')
    expect(rec.queries.map((q) => q.cursor)).toEqual(['c0', 'c1', 'c2'])

    // No poll answered before the deadline: the cursor is the `since` it started from.
    server.use(
      http.get(WAIT, async () => {
        await delay('infinite')
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const early = (await inbox.waitForMessage({ since: 'from-here', timeout: 50 }).catch((e: unknown) => e)) as MailroomTimeoutError
    expect(early).toBeInstanceOf(MailroomTimeoutError)
    expect(early.cursor).toBe('from-here')
  })

  it('cuts a poll in flight at its own timeout', async () => {
    server.use(
      http.get(WAIT, async () => {
        await delay('infinite')
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const inbox = await inboxHandle({ maxRetries: 2 })
    const started = performance.now()
    await expect(inbox.waitForMessage({ timeout: 100 })).rejects.toBeInstanceOf(MailroomTimeoutError)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('a long poll is not cut by the client per-request timeout (it gets hold + 10 s)', async () => {
    server.use(
      http.get(WAIT, async () => {
        await delay(150)
        return HttpResponse.json({ message: messageFixture(), cursor: 'c' })
      }),
    )
    const inbox = await inboxHandle({ timeout: 50 })
    await expect(inbox.waitForMessage({ timeout: 5_000 })).resolves.toMatchObject({ cursor: 'c' })
  })

  it('timeout: Infinity keeps polling at the longest hold; a NaN timeout is refused', async () => {
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        if (rec.queries.length === 1) return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': 'k1' } })
        return HttpResponse.json({ message: messageFixture(), cursor: 'k2' })
      }),
    )
    const inbox = await inboxHandle()
    await expect(inbox.waitForMessage({ timeout: Infinity })).resolves.toMatchObject({ cursor: 'k2' })
    expect(rec.queries.map((q) => q.timeout)).toEqual(['30', '30'])
    await expect(inbox.waitForMessage({ timeout: Number.NaN })).rejects.toThrow(TypeError)
    expect(rec.queries).toHaveLength(2)
  })

  it('rejects with MailroomAbortError when the signal aborts', async () => {
    server.use(
      http.get(WAIT, async () => {
        await delay('infinite')
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const inbox = await inboxHandle()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    await expect(inbox.waitForMessage({ signal: controller.signal })).rejects.toBeInstanceOf(MailroomAbortError)
  })

  it('retries a failed poll with the same cursor', async () => {
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        const n = rec.queries.length
        if (n === 1) return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': 'k1' } })
        if (n === 2) return HttpResponse.error()
        return HttpResponse.json({ message: messageFixture(), cursor: 'k2' })
      }),
    )
    const inbox = await inboxHandle({ maxRetries: 1 })
    vi.spyOn(Math, 'random').mockReturnValue(0) // no backoff wait
    await inbox.waitForMessage({ timeout: 5_000 }).finally(() => vi.restoreAllMocks())
    expect(rec.queries.map((q) => q.cursor)).toEqual([undefined, 'k1', 'k1'])
  })
})

describe('inbox.cursor', () => {
  it('asks the server for "now" (a wait with timeout=0, no cursor) and returns the Mailroom-Cursor', async () => {
    const rec = record()
    server.use(
      http.get(WAIT, ({ request }) => {
        rec.push(request)
        // The cursor taken before the trigger is the one the next wait starts from.
        if (rec.queries.length === 1) return new HttpResponse(null, { status: 204, headers: { 'Mailroom-Cursor': 'now-1' } })
        return HttpResponse.json({ message: messageFixture({ subject: 'Your code 123456' }), cursor: 'after-code' })
      }),
    )
    const inbox = await inboxHandle()
    const since = await inbox.cursor()
    expect(since).toBe('now-1')
    const msg = await inbox.waitForMessage({ since, subject: /code \d{6}/ })
    expect(msg.cursor).toBe('after-code')
    expect(rec.queries[0]).toEqual({ timeout: '0' })
    expect(rec.queries[1]).toMatchObject({ cursor: 'now-1', subject: 'code \\d{6}', subjectMatch: 'regex' })
    for (const q of rec.queries) expect(() => WaitQuery.strict().parse(q)).not.toThrow()
  })

  it('takes the cursor from a body too, refuses an answer without one, and honours its signal', async () => {
    let n = 0
    server.use(
      http.get(WAIT, async () => {
        n++
        if (n === 1) return HttpResponse.json({ cursor: 'from-body' })
        if (n === 2) return new HttpResponse(null, { status: 204 })
        await delay('infinite')
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const inbox = await inboxHandle()
    expect(await inbox.cursor()).toBe('from-body')
    await expect(inbox.cursor()).rejects.toThrow(/without a cursor/)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    await expect(inbox.cursor({ signal: controller.signal })).rejects.toBeInstanceOf(MailroomAbortError)
  })
})
