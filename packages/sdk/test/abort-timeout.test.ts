// Cancellation and per-request timeouts. Elapsed-time bounds sit far below what a missing abort
// would cost (an endless answer or a 30 s Retry-After) and far above a loaded
// machine's delays.
import { delay, http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { MailroomAbortError, MailroomError, MailroomTimeoutError } from '../src/index.js'
import { BASE, client, server, useMsw } from './helpers.js'

useMsw()

describe('abort', () => {
  it('an already aborted signal rejects without sending anything', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, () => {
        calls++
        return HttpResponse.json({})
      }),
    )
    const controller = new AbortController()
    controller.abort()
    const err = await client().me({ signal: controller.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomAbortError)
    expect(err).toBeInstanceOf(MailroomError)
    expect(err).toMatchObject({ code: 'aborted' })
    expect(calls).toBe(0)
  })

  it('aborting a request in flight rejects with MailroomAbortError, not retried', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, async () => {
        calls++
        await delay('infinite')
        return HttpResponse.json({})
      }),
    )
    const controller = new AbortController()
    const started = performance.now()
    setTimeout(() => controller.abort(), 30)
    await expect(client({ maxRetries: 3 }).me({ signal: controller.signal })).rejects.toBeInstanceOf(MailroomAbortError)
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(calls).toBe(1)
  })

  it('aborting during the wait between retries stops at once', async () => {
    server.use(
      http.get(`${BASE}/v1/me`, () =>
        HttpResponse.json({ error: { code: 'rate_limited', message: 'x', requestId: 'r' } }, { status: 429, headers: { 'Retry-After': '30' } }),
      ),
    )
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const started = performance.now()
    await expect(client({ maxRetries: 2 }).me({ signal: controller.signal })).rejects.toBeInstanceOf(MailroomAbortError)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})

describe('timeout', () => {
  it('a request slower than the timeout rejects with MailroomTimeoutError', async () => {
    server.use(
      http.get(`${BASE}/v1/me`, async () => {
        await delay('infinite')
        return HttpResponse.json({})
      }),
    )
    const started = performance.now()
    const err = await client({ timeout: 50 }).me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomTimeoutError)
    expect(err).toMatchObject({ code: 'timeout', status: undefined })
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('a timed-out attempt is retried, and a per-call timeout overrides the client one', async () => {
    let calls = 0
    server.use(
      http.get(`${BASE}/v1/me`, async () => {
        if (++calls === 1) await delay(2_000)
        return HttpResponse.json({ ok: true })
      }),
    )
    vi.spyOn(Math, 'random').mockReturnValue(0) // no backoff wait
    await expect(client({ timeout: 10_000, maxRetries: 1 }).me({ timeout: 50 }))
      .resolves.toEqual({ ok: true })
      .finally(() => vi.restoreAllMocks())
    expect(calls).toBe(2)
  })
})
