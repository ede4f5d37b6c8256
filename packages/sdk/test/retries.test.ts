// Retries: which failures are retried, how long the SDK waits, and the idempotency key of writes.
import { http, HttpResponse } from 'msw'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MailroomError, MailroomRateLimitError, MailroomValidationError } from '../src/index.js'
import { BASE, client, inboxFixture, server, tenantFixture, useMsw } from './helpers.js'

useMsw()

const rateLimited = (retryAfter?: string) =>
  HttpResponse.json(
    { error: { code: 'rate_limited', message: 'slow down', requestId: 'req_1' } },
    { status: 429, headers: retryAfter === undefined ? {} : { 'Retry-After': retryAfter } },
  )
const unavailable = () => HttpResponse.json({ error: { code: 'service_unavailable', message: 'busy', requestId: 'req_2' } }, { status: 503 })

describe('retries', () => {
  // Full jitter draws the wait from [0, cap): pin the draw to 0 so backoff costs nothing here.
  beforeEach(() => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('waits out Retry-After on a 429, then succeeds', async () => {
    const times: number[] = []
    server.use(
      http.get(`${BASE}/v1/tenants/:id`, () => {
        times.push(performance.now())
        return times.length === 1 ? rateLimited('0.3') : HttpResponse.json(tenantFixture())
      }),
    )
    await client({ maxRetries: 2 }).tenants.get('tnt_1')
    expect(times).toHaveLength(2)
    // The jitter draw is 0, so any wait comes from Retry-After.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(290)
  })

  it('waits out Retry-After on a 503 exactly as on a 429, then succeeds', async () => {
    const times: number[] = []
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        times.push(performance.now())
        return times.length === 1
          ? HttpResponse.json({ error: { code: 'service_unavailable', message: 'draining', requestId: 'r' } }, { status: 503, headers: { 'Retry-After': '0.3' } })
          : HttpResponse.json({ ok: true })
      }),
    )
    await expect(client({ maxRetries: 2 }).me()).resolves.toEqual({ ok: true })
    expect(times).toHaveLength(2)
    // The jitter draw is 0, so the wait comes from Retry-After.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(290)
  })

  it('a write answered 503 + Retry-After is retried after it with the same Idempotency-Key', async () => {
    const seen: { key: string | null; at: number }[] = []
    server.use(
      http.post(`${BASE}/v1/inboxes`, ({ request }) => {
        seen.push({ key: request.headers.get('idempotency-key'), at: performance.now() })
        return seen.length === 1
          ? HttpResponse.json({ error: { code: 'service_unavailable', message: 'draining', requestId: 'r' } }, { status: 503, headers: { 'Retry-After': '0.2' } })
          : HttpResponse.json(inboxFixture(), { status: 201 })
      }),
    )
    await client({ maxRetries: 1 }).createInbox({ name: 'a' })
    expect(seen).toHaveLength(2)
    expect(seen[0]!.key).toBeTruthy()
    expect(seen[1]!.key).toBe(seen[0]!.key)
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(190)
  })

  it('a 503 whose Retry-After is over 60 s is not waited out: the caller gets it, with retryAfter', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        calls++
        return HttpResponse.json({ error: { code: 'service_unavailable', message: 'maintenance', requestId: 'r' } }, { status: 503, headers: { 'Retry-After': '600' } })
      }),
    )
    const err = await client({ maxRetries: 3 }).me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomError)
    expect(err).toMatchObject({ status: 503, code: 'service_unavailable', retryAfter: 600 })
    expect(calls).toBe(1)
  })

  it('never repeats a write that carries no idempotency key (the caller blanked it)', async () => {
    let calls = 0
    server.use(
      http.post(`${BASE}/v1/inboxes`, () => {
        calls++
        return HttpResponse.json({ error: { code: 'service_unavailable', message: 'busy', requestId: 'r' } }, { status: 503, headers: { 'Retry-After': '0' } })
      }),
    )
    await expect(client({ maxRetries: 3 }).createInbox({ name: 'a' }, { headers: { 'Idempotency-Key': '' } })).rejects.toMatchObject({ status: 503 })
    expect(calls).toBe(1)
  })

  it('retries a 503 then succeeds', async () => {
    let calls = 0
    server.use(http.get(`${BASE}/v1/me`, () => (++calls === 1 ? unavailable() : HttpResponse.json({ ok: true }))))
    await expect(client({ maxRetries: 2 }).me()).resolves.toEqual({ ok: true })
    expect(calls).toBe(2)
  })

  it('retries a network error then succeeds', async () => {
    let calls = 0
    server.use(http.get(`${BASE}/v1/me`, () => (++calls === 1 ? HttpResponse.error() : HttpResponse.json({ ok: true }))))
    await expect(client({ maxRetries: 1 }).me()).resolves.toEqual({ ok: true })
    expect(calls).toBe(2)
  })

  it('retries 408 too', async () => {
    let calls = 0
    server.use(http.get(`${BASE}/v1/me`, () => (++calls === 1 ? new HttpResponse(null, { status: 408 }) : HttpResponse.json({ ok: 1 }))))
    await client({ maxRetries: 1 }).me()
    expect(calls).toBe(2)
  })

  it('retries a write with the same Idempotency-Key; the next call gets a new one', async () => {
    const keys: (string | null)[] = []
    server.use(
      http.post(`${BASE}/v1/inboxes`, ({ request }) => {
        keys.push(request.headers.get('idempotency-key'))
        return keys.length % 3 !== 0 ? unavailable() : HttpResponse.json(inboxFixture(), { status: 201 })
      }),
    )
    const m = client({ maxRetries: 2 })
    await m.createInbox({ name: 'a' })
    await m.createInbox({ name: 'b' })
    expect(keys).toHaveLength(6)
    expect(new Set(keys.slice(0, 3)).size).toBe(1)
    expect(new Set(keys.slice(3)).size).toBe(1)
    expect(keys[0]).not.toBe(keys[3])
    expect(keys[0]).toBeTruthy()
  })

  it('retries a DELETE after a network error with the same key, and uses a key given by the caller', async () => {
    const keys: (string | null)[] = []
    server.use(
      http.delete(`${BASE}/v1/api-keys/:id`, ({ request }) => {
        keys.push(request.headers.get('idempotency-key'))
        return keys.length === 1 ? HttpResponse.error() : new HttpResponse(null, { status: 204 })
      }),
    )
    await client({ maxRetries: 1 }).apiKeys.revoke('key_1', { idempotencyKey: 'my-key-1' })
    expect(keys).toEqual(['my-key-1', 'my-key-1'])
  })

  it('gives up after maxRetries and throws the last error', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        calls++
        return unavailable()
      }),
    )
    const err = await client({ maxRetries: 2 }).me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomError)
    expect(err).toMatchObject({ status: 503, code: 'service_unavailable' })
    expect(calls).toBe(3)
  })

  it('a per-call maxRetries overrides the client default', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        calls++
        return unavailable()
      }),
    )
    await expect(client({ maxRetries: 5 }).me({ maxRetries: 0 })).rejects.toBeInstanceOf(MailroomError)
    expect(calls).toBe(1)
  })

  it('does not retry a 4xx other than 408/429', async () => {
    let calls = 0
    server.use(
      http.post(`${BASE}/v1/tenants`, () => {
        calls++
        return HttpResponse.json({ error: { code: 'validation_error', message: 'bad', requestId: 'r' } }, { status: 400 })
      }),
    )
    await expect(client({ maxRetries: 3 }).tenants.create({ name: '' })).rejects.toBeInstanceOf(MailroomValidationError)
    expect(calls).toBe(1)
  })

  it('does not silently wait out a Retry-After over 60 s: the caller gets the 429', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        calls++
        return rateLimited('3600')
      }),
    )
    const err = await client({ maxRetries: 3 }).me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomRateLimitError)
    expect((err as MailroomRateLimitError).retryAfter).toBe(3600)
    expect(calls).toBe(1)
  })

  it('backs off exponentially with full jitter when there is no Retry-After', async () => {
    vi.mocked(Math.random).mockReturnValue(0.2)
    const times: number[] = []
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        times.push(performance.now())
        return times.length < 3 ? rateLimited() : HttpResponse.json({})
      }),
    )
    // The waits the SDK asks for, read from its timers rather than from the clock (which a loaded
    // machine stretches): the per-attempt timeouts are the client's 30 s, the rest are backoffs.
    const timers = vi.spyOn(globalThis, 'setTimeout')
    await client({ maxRetries: 2 }).me()
    const waits = timers.mock.calls.map((c) => c[1]).filter((ms) => typeof ms === 'number' && ms > 0 && ms < 30_000)
    // random 0.2: 0.2 * 500 ms, then 0.2 * 1000 ms.
    expect(waits).toEqual([100, 200])
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(95)
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(195)
  })
})
