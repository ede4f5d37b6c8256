// Error mapping: each status to its class, with code, message, requestId (and issues / retryAfter).
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  MailroomAuthError,
  MailroomConnectionError,
  MailroomError,
  MailroomNotFoundError,
  MailroomRateLimitError,
  MailroomValidationError,
} from '../src/index.js'
import { BASE, client, server, useMsw } from './helpers.js'

useMsw()

const envelope = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message, requestId: 'req_123', ...extra },
})

/** The error `GET /v1/me` rejects with when the server answers `status` with `body`. */
async function errorFor(status: number, body: unknown, headers: Record<string, string> = {}): Promise<MailroomError> {
  server.use(
    http.get(`${BASE}/v1/me`, () =>
      typeof body === 'string' ? new HttpResponse(body, { status, headers }) : HttpResponse.json(body as object, { status, headers }),
    ),
  )
  const err = await client().me().catch((e: unknown) => e)
  expect(err).toBeInstanceOf(MailroomError)
  return err as MailroomError
}

describe('error mapping', () => {
  it('400 -> MailroomValidationError with issues', async () => {
    const issues = [{ path: 'body.name', message: 'Required' }]
    const err = await errorFor(400, envelope('validation_error', 'body.name: Required', { issues }))
    expect(err).toBeInstanceOf(MailroomValidationError)
    expect(err).toMatchObject({ status: 400, code: 'validation_error', message: 'body.name: Required', requestId: 'req_123', issues })
    expect(err.name).toBe('MailroomValidationError')
  })

  it('400 without issues still has an empty issues list', async () => {
    const err = await errorFor(400, envelope('bad_request', 'request body is not valid JSON'))
    expect(err).toBeInstanceOf(MailroomValidationError)
    expect((err as MailroomValidationError).issues).toEqual([])
  })

  it('401 and 403 -> MailroomAuthError', async () => {
    const e401 = await errorFor(401, envelope('unauthorized', 'invalid API key'))
    expect(e401).toBeInstanceOf(MailroomAuthError)
    expect(e401).toMatchObject({ status: 401, code: 'unauthorized', message: 'invalid API key' })
    const e403 = await errorFor(403, envelope('tenant_suspended', 'this tenant is suspended'))
    expect(e403).toBeInstanceOf(MailroomAuthError)
    expect(e403).toMatchObject({ status: 403, code: 'tenant_suspended' })
  })

  it('404 -> MailroomNotFoundError', async () => {
    const err = await errorFor(404, envelope('not_found', 'inbox not found'))
    expect(err).toBeInstanceOf(MailroomNotFoundError)
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'inbox not found', requestId: 'req_123' })
  })

  it('429 -> MailroomRateLimitError with retryAfter in seconds', async () => {
    const err = await errorFor(429, envelope('rate_limited', 'slow down'), { 'Retry-After': '7' })
    expect(err).toBeInstanceOf(MailroomRateLimitError)
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 7 })
  })

  it('other statuses -> the base MailroomError with the envelope code', async () => {
    const err = await errorFor(409, envelope('address_taken', 'support@x is taken'))
    expect(err.constructor).toBe(MailroomError)
    expect(err).toMatchObject({ status: 409, code: 'address_taken', message: 'support@x is taken' })
  })

  it('a body that is not the envelope: status-derived code, X-Request-Id header, a snippet of the body', async () => {
    const err = await errorFor(502, '<html>Bad Gateway</html>', { 'X-Request-Id': 'req_proxy', 'Content-Type': 'text/html' })
    expect(err.constructor).toBe(MailroomError)
    expect(err).toMatchObject({ status: 502, code: 'internal_error', requestId: 'req_proxy' })
    expect(err.message).toContain('HTTP 502')
    expect(err.message).toContain('Bad Gateway')
  })

  it('a network failure -> MailroomConnectionError with the cause', async () => {
    server.use(http.get(`${BASE}/v1/me`, () => HttpResponse.error()))
    const err = await client().me().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomConnectionError)
    expect(err).toBeInstanceOf(MailroomError)
    expect(err).toMatchObject({ code: 'connection_error', status: undefined })
    expect((err as Error).cause).toBeDefined()
    expect((err as Error).message).toContain(BASE)
  })

  it('a 2xx body that is not JSON is an invalid_response error', async () => {
    server.use(http.get(`${BASE}/v1/me`, () => new HttpResponse('not json', { status: 200 })))
    await expect(client().me()).rejects.toMatchObject({ code: 'invalid_response', status: 200 })
  })
})
