// The SDK's error classes, and the mapping from an HTTP error response to one of them.
import type { ApiErrorCode } from '../types.js'

/**
 * Codes of errors raised by the SDK itself, with no (or no usable) answer from the API.
 *
 * @example
 * if (err.code === 'connection_error') console.log('is the server running?')
 */
export type ClientErrorCode = 'timeout' | 'aborted' | 'connection_error' | 'missing_api_key' | 'invalid_response' | 'http_error'

/**
 * A field-level problem in a rejected request.
 *
 * @example
 * for (const issue of err.issues) console.log(issue.path, issue.message) // "body.name", "Required"
 */
export interface ErrorIssue {
  path: string
  message: string
}

interface ErrorInit {
  status?: number | undefined
  code: ApiErrorCode | ClientErrorCode | (string & {})
  requestId?: string | undefined
  headers?: Headers | undefined
  cause?: unknown | undefined
  retryAfter?: number | undefined
}

/**
 * Base class of every error the SDK throws. `status` is the HTTP status (undefined when no answer
 * came), `code` the API's error code (or the SDK's own: `timeout`, `aborted`, `connection_error` ...),
 * `requestId` the server's `X-Request-Id` (quote it when asking for help).
 *
 * @example
 * try {
 *   await mailroom.inboxes.get('inb_missing')
 * } catch (err) {
 *   if (err instanceof MailroomError) console.error(err.status, err.code, err.message, err.requestId)
 * }
 */
export class MailroomError extends Error {
  override name = 'MailroomError'
  readonly status: number | undefined
  readonly code: ApiErrorCode | ClientErrorCode | (string & {})
  readonly requestId: string | undefined
  /** Response headers, when the API answered. */
  readonly headers: Headers | undefined
  /** Seconds the server asked to wait before trying again (`Retry-After` of a 429 or 503), if it said. */
  readonly retryAfter: number | undefined

  constructor(message: string, init: ErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.status = init.status
    this.code = init.code
    this.requestId = init.requestId
    this.headers = init.headers
    this.retryAfter = init.retryAfter
  }
}

/**
 * The request (or a `waitForMessage`) ran out of time. No answer arrived in time: a write may or may
 * not have happened (retrying it with the same `idempotencyKey` is safe).
 *
 * From `waitForMessage`, `cursor` is where the wait got to: pass it as `since` to the next wait and
 * nothing that arrived in between is missed.
 *
 * @example
 * let since = await inbox.cursor()
 * for (;;) {
 *   try {
 *     const msg = await inbox.waitForMessage({ since, timeout: 10_000 })
 *     since = msg.cursor
 *   } catch (err) {
 *     if (!(err instanceof MailroomTimeoutError)) throw err
 *     since = err.cursor ?? since // no mail within 10 s: go on from where the wait got to
 *   }
 * }
 */
export class MailroomTimeoutError extends MailroomError {
  override name = 'MailroomTimeoutError'
  /** From `waitForMessage`: the cursor to continue from (undefined when no poll answered before the deadline and no `since` was given). */
  readonly cursor: string | undefined
  constructor(message = 'request timed out', init: Partial<ErrorInit> & { cursor?: string | undefined } = {}) {
    super(message, { ...init, code: init.code ?? 'timeout' })
    this.cursor = init.cursor
  }
}

/**
 * The call was cancelled through its `signal`.
 *
 * @example
 * const controller = new AbortController()
 * setTimeout(() => controller.abort(), 1000)
 * await inbox.waitForMessage({ signal: controller.signal }).catch((err) => {
 *   if (err instanceof MailroomAbortError) console.log('cancelled')
 * })
 */
export class MailroomAbortError extends MailroomError {
  override name = 'MailroomAbortError'
  constructor(message = 'request aborted', init: Partial<ErrorInit> = {}) {
    super(message, { ...init, code: 'aborted' })
  }
}

/**
 * The API could not be reached (DNS, refused connection, reset ...) after all retries.
 *
 * @example
 * catch (err) { if (err instanceof MailroomConnectionError) console.error('cannot reach', mailroom.baseUrl, err.cause) }
 */
export class MailroomConnectionError extends MailroomError {
  override name = 'MailroomConnectionError'
  constructor(message = 'could not connect to the Mailroom API', init: Partial<ErrorInit> = {}) {
    super(message, { ...init, code: 'connection_error' })
  }
}

/**
 * HTTP 429: too many requests or messages. `retryAfter` is the server's `Retry-After`, in seconds.
 * The SDK already waited and retried (`maxRetries`) before throwing this.
 *
 * @example
 * catch (err) { if (err instanceof MailroomRateLimitError) await sleep((err.retryAfter ?? 1) * 1000) }
 */
export class MailroomRateLimitError extends MailroomError {
  override name = 'MailroomRateLimitError'
  /** Seconds to wait before trying again, from `Retry-After` (undefined when the server sent none). */
  declare readonly retryAfter: number | undefined
}

/**
 * HTTP 404: no such object, or one that belongs to another tenant (the API does not tell them apart).
 *
 * @example
 * const inbox = await mailroom.inboxes.get(id).catch((err) => {
 *   if (err instanceof MailroomNotFoundError) return null
 *   throw err
 * })
 */
export class MailroomNotFoundError extends MailroomError {
  override name = 'MailroomNotFoundError'
}

/**
 * HTTP 401 (missing, invalid, revoked or expired key) or 403 (the key may not do this; `code`
 * says why: `forbidden`, `tenant_suspended`, `sending_paused`).
 *
 * @example
 * catch (err) { if (err instanceof MailroomAuthError && err.status === 401) console.error('check MAILROOM_API_KEY') }
 */
export class MailroomAuthError extends MailroomError {
  override name = 'MailroomAuthError'
}

/**
 * HTTP 400: the request was refused as invalid; `issues` lists the offending fields.
 *
 * @example
 * catch (err) {
 *   if (err instanceof MailroomValidationError) for (const i of err.issues) console.error(i.path, i.message)
 * }
 */
export class MailroomValidationError extends MailroomError {
  override name = 'MailroomValidationError'
  readonly issues: ErrorIssue[]
  constructor(message: string, init: ErrorInit & { issues?: ErrorIssue[] }) {
    super(message, init)
    this.issues = init.issues ?? []
  }
}

const FALLBACK_CODES: Record<number, ApiErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
}

interface Envelope {
  error: { code: string; message: string; requestId?: string; issues?: ErrorIssue[] }
}

function envelopeOf(body: string): Envelope | undefined {
  try {
    const v = JSON.parse(body) as unknown
    if (v && typeof v === 'object' && 'error' in v) {
      const e = (v as { error: unknown }).error
      if (e && typeof e === 'object' && typeof (e as Envelope['error']).code === 'string') return v as Envelope
    }
  } catch {
    // not JSON: a proxy's HTML page, for instance
  }
  return undefined
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000)
}

/** The error for a non-2xx response, by status, carrying the envelope's code, message and request id. */
export function errorFromResponse(status: number, headers: Headers, body: string): MailroomError {
  const envelope = envelopeOf(body)
  const requestId = envelope?.error.requestId ?? headers.get('x-request-id') ?? undefined
  const code = envelope?.error.code ?? FALLBACK_CODES[status] ?? (status >= 500 ? 'internal_error' : 'http_error')
  const snippet = body.trim().slice(0, 200)
  const message = envelope?.error.message ?? `HTTP ${status}${snippet ? `: ${snippet}` : ''}`
  const init = { status, code, requestId, headers, retryAfter: parseRetryAfter(headers.get('retry-after')) }
  if (status === 400) return new MailroomValidationError(message, { ...init, issues: envelope?.error.issues })
  if (status === 401 || status === 403) return new MailroomAuthError(message, init)
  if (status === 404) return new MailroomNotFoundError(message, init)
  if (status === 429) return new MailroomRateLimitError(message, init)
  return new MailroomError(message, init)
}
