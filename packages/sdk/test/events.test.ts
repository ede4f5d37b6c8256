// The event stream: the SSE parser on awkward chunkings, and events.stream() over msw streaming
// bodies: request shape, resuming with Last-Event-ID after a close, a drop, a 5xx or silence,
// fatal errors, abort and break.
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { parseSse, type SseMessage, type SseState } from '../src/core/sse.js'
import { MailroomAuthError, MailroomError, type MailroomEvent } from '../src/index.js'
import { BASE, client, eventFixture, server, useMsw } from './helpers.js'

useMsw()

const enc = new TextEncoder()
const EVENTS = `${BASE}/v1/events`

/** A byte stream of `chunks`; then (once they are read) it closes, errors (a dropped connection) or stays open. */
function byteStream(chunks: (string | Uint8Array)[], end: 'close' | 'error' | 'open' = 'close') {
  const state = { cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c)
    },
    // Called when the queue runs dry: erroring in start() would throw the queued chunks away, and
    // so would msw's own copy of the body if the error came before the client read them.
    async pull(controller) {
      if (end === 'close') return controller.close()
      if (end === 'open') await new Promise<void>(() => {})
      await new Promise((r) => setTimeout(r, 20))
      controller.error(new TypeError('terminated'))
    },
    cancel() {
      state.cancelled = true
    },
  })
  return { stream, state }
}

async function parseAll(chunks: (string | Uint8Array)[], state: SseState = {}): Promise<SseMessage[]> {
  const out: SseMessage[] = []
  for await (const m of parseSse(byteStream(chunks).stream, state)) out.push(m)
  return out
}

/** One SSE frame as the server writes it. */
const frame = (e: MailroomEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
const sse = (body: ReadableStream<Uint8Array>) => new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } })

describe('parseSse', () => {
  it('parses id, event and multi-line data, skips comments, and copes with any chunking', async () => {
    const text = '\uFEFF: hello\r\nretry: 2500\r\nid: 1\r\nevent: message.received\r\ndata: {"a":\r\ndata:1}\r\n\r\n: keep-alive\n\nid: 2\rdata: é€😀\r\rdata\n\n'
    const expected: SseMessage[] = [
      { id: '1', event: 'message.received', data: '{"a":\n1}' },
      { id: '2', event: 'message', data: 'é€😀' },
      { id: '2', event: 'message', data: '' },
    ]
    const bytes = enc.encode(text)
    const state: SseState = {}
    expect(await parseAll([bytes], state)).toEqual(expected)
    expect(state).toEqual({ lastEventId: '2', retry: 2500 })
    // Every split point, including inside CRLF pairs and inside multi-byte characters.
    for (let i = 1; i < bytes.length; i++) {
      expect(await parseAll([bytes.slice(0, i), bytes.slice(i)]), `split at ${i}`).toEqual(expected)
    }
    // One byte at a time.
    expect(await parseAll(Array.from(bytes, (b) => new Uint8Array([b])))).toEqual(expected)
  })

  it('an event without data is not dispatched but its id counts; an unterminated last event is dropped', async () => {
    const state: SseState = { lastEventId: '0' }
    expect(await parseAll(['id: 7\n\n', 'id: 8\ndata: x\n', 'data: y'], state)).toEqual([])
    expect(state.lastEventId).toBe('7')
    // A field without a colon, an unknown field, `data:` without a space, an id with NUL (ignored).
    expect(await parseAll(['foo: bar\ndata:no-space\nid: a\0b\n\n'], { lastEventId: '3' })).toEqual([{ id: '3', event: 'message', data: 'no-space' }])
  })
})

describe('mailroom.events.stream', () => {
  it('GETs /v1/events?after= with Accept text/event-stream, then resumes with Last-Event-ID after a close', async () => {
    const e1 = eventFixture({ id: '6' })
    const e2 = eventFixture({ id: '7', type: 'message.sent' })
    const e3 = eventFixture({ id: '8' })
    const requests: { query: string; lastEventId: string | null; accept: string | null; idem: string | null; auth: string | null }[] = []
    server.use(
      http.get(EVENTS, ({ request }) => {
        requests.push({
          query: new URL(request.url).search,
          lastEventId: request.headers.get('last-event-id'),
          accept: request.headers.get('accept'),
          idem: request.headers.get('idempotency-key'),
          auth: request.headers.get('authorization'),
        })
        // First connection: two events, then the server closes it; the second: one more, held open.
        if (requests.length === 1) return sse(byteStream(['retry: 1\n\n', frame(e1), ': keep-alive\n\n', frame(e2)]).stream)
        return sse(byteStream([frame(e3)], 'open').stream)
      }),
    )
    const controller = new AbortController()
    const got: MailroomEvent[] = []
    for await (const e of client().events.stream({ after: '5', signal: controller.signal })) {
      got.push(e)
      if (got.length === 3) controller.abort()
    }
    expect(got).toEqual([e1, e2, e3])
    expect(requests).toEqual([
      { query: '?after=5', lastEventId: null, accept: 'text/event-stream', idem: null, auth: 'Bearer mr_tk_test' },
      { query: '', lastEventId: '7', accept: 'text/event-stream', idem: null, auth: 'Bearer mr_tk_test' },
    ])
  })

  it('reconnects after a dropped connection and after a 503, then stops quietly on abort while waiting', async () => {
    const ids: (string | null)[] = []
    server.use(
      http.get(EVENTS, ({ request }) => {
        ids.push(request.headers.get('last-event-id'))
        if (ids.length === 1) return sse(byteStream(['retry: 1\n\n', frame(eventFixture({ id: '1' }))], 'error').stream)
        if (ids.length === 2) return HttpResponse.json({ error: { code: 'service_unavailable', message: 'restarting' } }, { status: 503 })
        return sse(byteStream([frame(eventFixture({ id: '2' }))], 'open').stream)
      }),
    )
    const controller = new AbortController()
    const got: string[] = []
    const started = Date.now()
    for await (const e of client().events.stream({ signal: controller.signal })) {
      got.push(e.id)
      if (e.id === '2') setTimeout(() => controller.abort(), 20) // aborts a pending read
    }
    expect(got).toEqual(['1', '2'])
    expect(ids).toEqual([null, '1', '1'])
    expect(Date.now() - started).toBeLessThan(10_000) // not stuck on the open stream
  })

  it('replaces a connection that goes silent (idle timeout)', async () => {
    const ids: (string | null)[] = []
    server.use(
      http.get(EVENTS, ({ request }) => {
        ids.push(request.headers.get('last-event-id'))
        // Both connections stay open; the first one sends nothing more after its event.
        const first = ids.length === 1
        return sse(byteStream(first ? ['retry: 1\n\n', frame(eventFixture({ id: '4' }))] : [frame(eventFixture({ id: '5' }))], 'open').stream)
      }),
    )
    const got: string[] = []
    for await (const e of client().events.stream({ idleTimeout: 100 })) {
      got.push(e.id)
      if (got.length === 2) break
    }
    expect(got).toEqual(['4', '5'])
    expect(ids).toEqual([null, '4'])
  })

  it('break closes the connection', async () => {
    // A fetch of our own here (not msw): the test needs to see the very body stream being cancelled.
    const body = byteStream([frame(eventFixture({ id: '1' }))], 'open')
    let signal: AbortSignal | undefined
    const fetch = async (_url: string, init: RequestInit) => {
      signal = init.signal ?? undefined
      return new Response(body.stream, { headers: { 'Content-Type': 'text/event-stream' } })
    }
    for await (const _ of client({ fetch }).events.stream()) break
    await new Promise((r) => setTimeout(r, 10))
    expect(body.state.cancelled).toBe(true)
    expect(signal?.aborted).toBe(true)
  })

  it('does not reconnect after 401, a bad `after` (400) or an event that is not JSON', async () => {
    let calls = 0
    server.use(
      http.get(EVENTS, () => {
        calls++
        return HttpResponse.json({ error: { code: 'unauthorized', message: 'bad key' } }, { status: 401 })
      }),
    )
    const iterate = async (params = {}) => {
      for await (const _ of client().events.stream(params)) void _
    }
    await expect(iterate()).rejects.toBeInstanceOf(MailroomAuthError)
    expect(calls).toBe(1)

    server.use(http.get(EVENTS, () => sse(byteStream(['id: 1\ndata: not json\n\n'], 'open').stream)))
    const err = await iterate().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomError)
    expect((err as MailroomError).code).toBe('invalid_response')
  })

  it('gives up after maxReconnects failures in a row', async () => {
    let calls = 0
    server.use(
      http.get(EVENTS, () => {
        calls++
        return sse(byteStream(['retry: 1\n\n'], 'close').stream)
      }),
    )
    const err = await (async () => {
      for await (const _ of client().events.stream({ maxReconnects: 2 })) void _
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomError)
    expect((err as MailroomError).code).toBe('connection_error')
    expect(calls).toBe(3)
  })

  it('an already aborted signal makes no request', async () => {
    const controller = new AbortController()
    controller.abort()
    const got = []
    for await (const e of client().events.stream({ signal: controller.signal })) got.push(e)
    expect(got).toEqual([])
  })
})
