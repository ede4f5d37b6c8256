// The one place that talks HTTP: auth headers, idempotency keys, timeouts, retries with backoff,
// cancellation and error mapping. Resources only build paths and call `request`.
import {
  MailroomAbortError,
  MailroomConnectionError,
  MailroomError,
  MailroomTimeoutError,
  errorFromResponse,
  parseRetryAfter,
} from './errors.js'
import { abortError, randomId, sleep } from './runtime.js'

/**
 * Per-call options, accepted as the last argument of every method.
 *
 * @example
 * const controller = new AbortController()
 * await mailroom.inboxes.get(id, { signal: controller.signal, timeout: 5_000, maxRetries: 0 })
 */
export interface RequestOptions {
  /** Cancels the call; it then rejects with `MailroomAbortError`. */
  signal?: AbortSignal | undefined
  /** Timeout of each attempt in milliseconds (default: the client's `timeout`). */
  timeout?: number | undefined
  /** Retries for this call (default: the client's `maxRetries`). */
  maxRetries?: number | undefined
  /**
   * Idempotency key of a write (default: a UUID generated for the call and reused by its retries).
   * Pass your own to make a write safe to repeat across process restarts.
   */
  idempotencyKey?: string | undefined
  /** Extra request headers. */
  headers?: Record<string, string> | undefined
}

/**
 * A `fetch`-compatible function: `globalThis.fetch`, undici's, a test double ...
 *
 * @example
 * const logged: FetchLike = (url, init) => {
 *   console.log(init.method, url)
 *   return fetch(url, init)
 * }
 * const mailroom = new Mailroom({ fetch: logged })
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue>

export interface Call {
  method: Method
  path: string
  query?: Query | undefined
  body?: unknown | undefined
  options?: RequestOptions | undefined
  /**
   * What to read from a 2xx answer: parsed JSON (default), raw bytes, text, nothing, or the body
   * stream itself (`stream`: the timeout covers only the wait for the response headers; the
   * caller's signal keeps cancelling the body).
   */
  read?: Read | undefined
  /** The Accept header (default: by `read`). */
  accept?: string | undefined
  /** Overrides the per-attempt timeout (the long poll needs more than the server's hold). */
  timeout?: number | undefined
}

type Read = 'json' | 'bytes' | 'text' | 'none' | 'stream'

const DEFAULT_ACCEPT: Record<Read, string> = {
  json: 'application/json',
  bytes: '*/*',
  text: '*/*',
  none: 'application/json',
  stream: 'text/event-stream',
}

export interface HttpResult<T> {
  status: number
  headers: Headers
  data: T
}

export interface HttpConfig {
  apiKey: string
  baseUrl: string
  timeout: number
  maxRetries: number
  fetch: FetchLike | undefined
  tenantId: string | undefined
}

const INITIAL_RETRY_DELAY_MS = 500
const MAX_RETRY_DELAY_MS = 8_000
/** A `Retry-After` longer than this is not waited out silently: the error goes to the caller. */
const MAX_RETRY_AFTER_S = 60

/** Writes carry an idempotency key, which is what makes retrying them safe. */
const isWrite = (method: Method) => method !== 'GET'

/**
 * Whether a failure is worth another attempt: no answer (network, timeout), 408, 429 and 5xx. A 429
 * or 503 with `Retry-After` is retried after that many seconds, other failures after a backoff.
 */
function isRetryable(err: MailroomError): boolean {
  if (err instanceof MailroomAbortError) return false
  if (err instanceof MailroomConnectionError || err instanceof MailroomTimeoutError) return true
  // A day's first contacts are used up: retrying within the request cannot help.
  if (err.code === 'first_contact_limit') return false
  const s = err.status
  return s === 408 || s === 429 || (s !== undefined && s >= 500)
}

/** Exponential backoff with full jitter (a random wait in [0, min(cap, base * 2^attempt)]). */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(MAX_RETRY_DELAY_MS, INITIAL_RETRY_DELAY_MS * 2 ** attempt)
}

export class HttpClient {
  readonly #config: HttpConfig

  constructor(config: HttpConfig) {
    this.#config = config
  }

  async json<T>(call: Call): Promise<T> {
    return (await this.request<T>(call)).data
  }

  async request<T>(call: Call): Promise<HttpResult<T>> {
    const options = call.options ?? {}
    const maxRetries = Math.max(0, options.maxRetries ?? this.#config.maxRetries)
    const headers: Record<string, string> = {
      Accept: call.accept ?? DEFAULT_ACCEPT[call.read ?? 'json'],
      Authorization: `Bearer ${this.#config.apiKey}`,
    }
    if (this.#config.tenantId) headers['Mailroom-Tenant'] = this.#config.tenantId
    // Generated once per call: every retry of this call presents the same key.
    if (isWrite(call.method)) headers['Idempotency-Key'] = options.idempotencyKey ?? randomId()
    let body: string | undefined
    if (call.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(call.body)
    }
    Object.assign(headers, options.headers)
    const url = this.#url(call.path, call.query)
    const timeout = call.timeout ?? options.timeout ?? this.#config.timeout
    // Only a request that cannot take effect twice is repeated: a GET, or a write that carries an
    // idempotency key (the server replays the first answer to a repeat).
    const repeatable = !isWrite(call.method) || Boolean(headers['Idempotency-Key'])

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt<T>(url, { method: call.method, headers, body }, call.read ?? 'json', timeout, options.signal)
      } catch (err) {
        if (!(err instanceof MailroomError) || !repeatable || attempt >= maxRetries || !isRetryable(err)) throw err
        const retryAfter = err.retryAfter ?? parseRetryAfter(err.headers?.get('retry-after') ?? null)
        if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_S) throw err
        await sleep(retryAfter !== undefined ? retryAfter * 1000 : backoffMs(attempt), options.signal)
      }
    }
  }

  #url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) params.append(k, String(v))
    }
    const qs = params.toString()
    return `${this.#config.baseUrl}${path}${qs ? `?${qs}` : ''}`
  }

  async #attempt<T>(
    url: string,
    init: { method: Method; headers: Record<string, string>; body: string | undefined },
    read: Read,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<HttpResult<T>> {
    if (signal?.aborted) throw abortError(signal)
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeout)
    const onAbort = () => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    // A streamed body outlives this function: the caller's signal must still reach it.
    let keepSignal = false
    // A failure before or while reading the body: the user's abort, our timeout or the network.
    const failure = (cause: unknown): MailroomError => {
      if (signal?.aborted) return abortError(signal)
      if (timedOut) return new MailroomTimeoutError(`request timed out after ${timeout} ms`, { cause })
      if (cause instanceof MailroomError) return cause
      const detail = cause instanceof Error ? `: ${cause.message}` : ''
      return new MailroomConnectionError(`could not reach the Mailroom API at ${this.#config.baseUrl}${detail}`, { cause })
    }
    try {
      const doFetch: FetchLike = this.#config.fetch ?? ((input, init) => globalThis.fetch(input, init))
      let res: Response
      try {
        res = await doFetch(url, { ...init, signal: controller.signal })
      } catch (cause) {
        throw failure(cause)
      }
      try {
        if (!res.ok) throw errorFromResponse(res.status, res.headers, await res.text())
        let data: unknown
        if (read === 'stream') {
          keepSignal = true
          data = res.body
        } else if (read === 'bytes') {
          data = new Uint8Array(await res.arrayBuffer())
        } else if (read === 'text') {
          data = await res.text()
        } else if (read === 'json' && res.status !== 204) {
          const text = await res.text()
          if (text) {
            try {
              data = JSON.parse(text)
            } catch (cause) {
              throw new MailroomError(`the API answered ${res.status} with a body that is not JSON`, {
                status: res.status,
                code: 'invalid_response',
                requestId: res.headers.get('x-request-id') ?? undefined,
                headers: res.headers,
                cause,
              })
            }
          }
        } else {
          await res.body?.cancel().catch(() => {})
        }
        return { status: res.status, headers: res.headers, data: data as T }
      } catch (cause) {
        throw failure(cause)
      }
    } finally {
      clearTimeout(timer)
      if (!keepSignal) signal?.removeEventListener('abort', onAbort)
    }
  }
}
