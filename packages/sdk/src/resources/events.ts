// GET /v1/events: the tenant's (or an inbox key's inbox's) events as Server-Sent Events, read with
// fetch's streaming body, reconnecting with Last-Event-ID so that no event is missed.
import { MailroomAbortError, MailroomError, MailroomRateLimitError } from '../core/errors.js'
import type { HttpClient, RequestOptions } from '../core/http.js'
import { sleep } from '../core/runtime.js'
import { parseSse, type SseState } from '../core/sse.js'
import type { EventStreamParams, MailroomEvent } from '../types.js'

const DEFAULT_IDLE_MS = 45_000
/** Reconnection delay before the server sends `retry:`. */
const DEFAULT_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000

/** Why a connection is dropped by the SDK itself: nothing arrived for too long. */
class IdleTimeout extends Error {
  override name = 'IdleTimeout'
}

/** Errors a reconnection cannot fix: a refused key, a bad `after`, an unreadable event. */
function isFatal(err: unknown): boolean {
  if (!(err instanceof MailroomError)) return false
  if (err.code === 'invalid_response') return true
  const s = err.status
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429
}

/** Exponential from the server's `retry:` (or 1 s), capped, with jitter so clients do not reconnect in step. */
function reconnectDelay(failures: number, state: SseState, err: unknown): number {
  if (err instanceof MailroomRateLimitError && err.retryAfter !== undefined) return err.retryAfter * 1000
  const base = state.retry ?? DEFAULT_RETRY_MS
  const exp = Math.min(MAX_RETRY_MS, base * 2 ** Math.max(0, failures - 1))
  return Math.max(base, exp) * (0.5 + Math.random() / 2)
}

/**
 * The event stream. Reach it as `mailroom.events` (a tenant key sees its tenant's events, an inbox
 * key its inbox's).
 *
 * @example
 * for await (const event of mailroom.events.stream()) {
 *   if (event.type === 'message.received') console.log('new mail in', event.inboxId)
 * }
 */
export class Events {
  readonly #http: HttpClient
  constructor(http: HttpClient) {
    this.#http = http
  }

  /**
   * An endless async iterable over events as they happen (`GET /v1/events`, Server-Sent Events).
   * Only events after `after` (an event's `id`), or from now on when omitted. A dropped, failed or
   * silent connection is replaced after a backoff (the server's `retry:`, doubling, jittered),
   * resuming with `Last-Event-ID` so that nothing is missed or repeated. Stops without an error
   * when `signal` aborts or you `break`; throws on errors a reconnection cannot fix (401, 403,
   * 400 ...) or after `maxReconnects` failures in a row.
   *
   * @example
   * const controller = new AbortController()
   * let last = await loadCheckpoint() // an event id, or undefined
   * for await (const event of mailroom.events.stream({ after: last, signal: controller.signal })) {
   *   console.log(event.type, event.data)
   *   await saveCheckpoint((last = event.id))
   * }
   */
  async *stream(params: EventStreamParams = {}, options?: RequestOptions): AsyncGenerator<MailroomEvent, void, undefined> {
    const signal = params.signal ?? options?.signal
    const maxReconnects = params.maxReconnects ?? Infinity
    const idleTimeout = params.idleTimeout ?? DEFAULT_IDLE_MS
    const state: SseState = { lastEventId: params.after }
    let failures = 0
    for (let connection = 0; ; connection++) {
      if (signal?.aborted) return
      // One controller per connection: the caller's abort, our idle timeout, or leaving the loop end it.
      const conn = new AbortController()
      const onAbort = () => conn.abort(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      let idle: ReturnType<typeof setTimeout> | undefined
      const arm = () => {
        clearTimeout(idle)
        idle = setTimeout(() => conn.abort(new IdleTimeout(`no data for ${idleTimeout} ms`)), idleTimeout)
      }
      let error: unknown
      try {
        const resume = connection > 0 && state.lastEventId !== undefined
        const res = await this.#http.request<ReadableStream<Uint8Array> | null>({
          method: 'GET',
          path: '/v1/events',
          query: connection === 0 ? { after: params.after } : undefined,
          options: {
            ...options,
            signal: conn.signal,
            maxRetries: 0,
            headers: { ...options?.headers, ...(resume ? { 'Last-Event-ID': state.lastEventId! } : {}) },
          },
          read: 'stream',
        })
        if (!res.data) throw new MailroomError('the event stream answered without a body', { code: 'invalid_response', status: res.status })
        arm()
        // Every chunk (keep-alive comments included) proves the connection alive. Chunks are handed
        // straight to the parser (no queue that a network error would throw away), and an abort or
        // idleness cancels the reader, which ends a pending read even where a fetch would not.
        const reader = res.data.getReader()
        conn.signal.addEventListener('abort', () => void reader.cancel(conn.signal.reason).catch(() => {}), { once: true })
        const watched = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const { done, value } = await reader.read()
              if (done) return controller.close()
              arm()
              controller.enqueue(value)
            },
            cancel: (reason) => reader.cancel(reason),
          },
          { highWaterMark: 0 },
        )
        for await (const msg of parseSse(watched, state)) {
          let event: MailroomEvent
          try {
            event = JSON.parse(msg.data) as MailroomEvent
          } catch (cause) {
            throw new MailroomError(`the event stream sent an event that is not JSON (id ${msg.id ?? '?'})`, { code: 'invalid_response', cause })
          }
          failures = 0
          // The consumer's own time does not count as the connection's silence.
          clearTimeout(idle)
          yield event
          arm()
        }
        // The server ended the stream (a restart, a proxy's limit): reconnect like after a drop.
      } catch (err) {
        if (signal?.aborted) return
        if (isFatal(err)) throw err
        error = err
      } finally {
        clearTimeout(idle)
        signal?.removeEventListener('abort', onAbort)
        conn.abort()
      }
      if (signal?.aborted) return
      failures++
      if (failures > maxReconnects) {
        if (error instanceof MailroomError) throw error
        throw new MailroomError(`the event stream failed ${failures} times in a row`, { code: 'connection_error', cause: error })
      }
      try {
        await sleep(reconnectDelay(failures, state, error), signal)
      } catch (err) {
        if (err instanceof MailroomAbortError) return
        throw err
      }
    }
  }
}
