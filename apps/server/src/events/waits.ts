// Open long-poll waits (GET /v1/inboxes/{id}/messages/wait), parked outside the HTTP framework.
// A wait that found nothing on its first look holds only its socket and one small entry here: the
// Node response to answer on, its scope, inbox, cursor and matcher, and its deadline in a shared
// timer wheel (one interval for every wait, not a timer each). A notification for the inbox
// rescans; a match answers 200, the deadline 204, a client that goes away just drops the entry.
import { monotonicMs } from '../lib/clock.js'
import type { ServerResponse } from 'node:http'
import type { TenantScope } from '../db/scope.js'
import { ServiceError } from '../errors.js'
import { errorBody, goneError, transientError } from '../http/errors.js'
import { encodeWaitCursor, lookAtStored, scan, startCursor, waitAnswer, type Matcher, type WaitCursor, type WaitDeps, type WaitMatch } from '../messages/wait.js'
import type { Arrival } from './hub.js'
import type { HeldRequests } from './held.js'
import { touchesKeysOf, type KeyChange, type KeyReach } from '../apikeys/key-changes.js'

/** Granularity of deadlines: a parked wait is answered within one tick of its deadline. */
const TICK_MS = 250

/** Where the answer goes: the Node response, or (without Node's server) a deferred Response. */
export interface WaitSink {
  send(status: number, headers: Record<string, string>, body: string | null): void
  /** The client is gone: nothing can be answered any more. */
  readonly closed: boolean
  /** Calls `fn` once when the client goes away before the answer. */
  onClose(fn: () => void): void
}

export function nodeSink(res: ServerResponse): WaitSink {
  return {
    send(status, headers, body) {
      if (res.destroyed || res.writableEnded) return
      if (body === null) {
        res.writeHead(status, headers)
        res.end()
      } else {
        res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) })
        res.end(body)
      }
    },
    get closed() {
      return res.destroyed || res.writableEnded
    },
    onClose(fn) {
      res.once('close', fn)
    },
  }
}

export interface WaitRequest {
  scope: TenantScope
  inboxId: string
  matcher: Matcher
  /** The client's cursor; without one, the cursor is taken now (the inbox's counter and clock). */
  cursor: WaitCursor | null
  /** How long to hold (ms) before answering 204. */
  holdMs: number
  requestId: string
  /**
   * Whether the caller would still be let in (null) or the error the door would now answer: asked
   * again before a parked wait answers, after a change of keys that may touch it (keysChanged).
   */
  recheck?: (() => Promise<ServiceError | null>) | undefined
  /** What the caller's key reaches: which changes of keys concern this wait (none given: every change). */
  reach?: KeyReach | undefined
  /**
   * Ask again before every answer with mail, not only after a change of keys heard: when keys are
   * not kept (MAILROOM_KEY_CACHE_SECONDS=0), no change is listened for, and every request reads its
   * key anyway.
   */
  recheckAlways?: boolean | undefined
}

/** What the HTTP handler answers itself when the wait ends before it is parked. */
export type EarlyAnswer = { status: 200; body: ReturnType<typeof waitAnswer>; cursor: string } | { status: 204; cursor: string }

class Wait {
  cursor: WaitCursor | null = null
  /** Set once parked; null while the HTTP handler still runs the wait. */
  sink: WaitSink | null = null
  /** A notification came while a look was under way (or before the first): look again. */
  dirty = false
  scanning = false
  done = false
  off: () => void = noop
  /** A change of keys that may touch the caller was heard: before it answers, the wait asks again whether the caller is let in. */
  suspect = false
  constructor(
    readonly scope: TenantScope,
    readonly inboxId: string,
    readonly matcher: Matcher,
    readonly deadline: number,
    readonly requestId: string,
    readonly recheck: WaitRequest['recheck'],
    readonly reach: KeyReach,
    readonly recheckAlways: boolean,
  ) {}
}

const noop = () => {}
/** A wait that names no reach: every change of keys may touch it. */
const EVERY_CHANGE: KeyReach = { keyTenantId: null, path: null }

export class WaitRegistry {
  /** Parked waits by deadline tick. */
  private readonly wheel = new Map<number, Set<Wait>>()
  private timer: NodeJS.Timeout | null = null
  private parkedCount = 0
  /**
   * Looks for new mail taken so far: at the database (a read), or in memory (a re-poll whose cursor
   * is current, an arrival this process committed looked at as stored).
   */
  readonly looks = { database: 0, memory: 0 }

  constructor(
    private readonly deps: WaitDeps,
    /** Places for held requests per tenant and inbox; a wait takes one from its first look to its answer. */
    private readonly held?: HeldRequests,
  ) {}

  /** Waits parked here (each also counts in `hub.waiterCount`). */
  get parked(): number {
    return this.parkedCount
  }

  /**
   * Runs a wait up to its first look. Answers at once (`EarlyAnswer`) when something matched or
   * the hold is zero; otherwise parks it on the sink `park()` gives and returns null. Errors
   * before parking (404, 400) are thrown, for the HTTP error handler.
   */
  async open(req: WaitRequest, park: () => WaitSink): Promise<EarlyAnswer | null> {
    // 429 before anything else, when the tenant or the inbox holds its most already.
    const release = this.held?.acquire(req.scope.tenantId, req.inboxId) ?? noop
    const w = new Wait(req.scope, req.inboxId, req.matcher, monotonicMs() + req.holdMs, req.requestId, req.recheck, req.reach ?? EVERY_CHANGE, req.recheckAlways === true)
    // Listen before looking, so an arrival between the look and parking still wakes the wait.
    const unlisten = this.deps.hub.onInbox(req.inboxId, (a) => this.notify(w, a))
    w.off = () => {
      unlisten()
      release()
    }
    let parked = false
    try {
      if (req.cursor) {
        w.cursor = req.cursor
        // A re-poll whose cursor is at or past everything heard of in this inbox has nothing to
        // look for: whatever comes next is still to be heard, and the listener is in place. The
        // scope must reach the inbox, as the look's row-level security would have checked.
        const heard = this.deps.hub.heardUpTo(req.scope.tenantId, req.inboxId)
        const reachable = !req.scope.inboxId || req.scope.inboxId === req.inboxId
        w.dirty = !(heard !== null && reachable && req.cursor.seq >= heard)
        if (!w.dirty) this.looks.memory++
      } else {
        // A cursor read after the listener is registered has nothing behind it to scan, unless a
        // notification came in meanwhile (then `dirty` is set).
        this.looks.database++
        w.cursor = await startCursor(this.deps, req.scope, req.inboxId)
      }
      while (w.dirty) {
        w.dirty = false
        this.looks.database++
        const r = await scan(this.deps, w.scope, w.inboxId, w.cursor, w.matcher)
        if (r.match) {
          const body = waitAnswer(r.match, { ...w.cursor, seq: r.upTo })
          return { status: 200, body, cursor: body.cursor }
        }
        w.cursor = { ...w.cursor, seq: r.upTo }
        if (r.more) w.dirty = true
      }
      if (monotonicMs() >= w.deadline) return { status: 204, cursor: encodeWaitCursor(w.cursor) }
      // Nothing yet: from here on the wait lives in this registry, not in the handler.
      const sink = park()
      if (sink.closed) return null
      w.sink = sink
      sink.onClose(() => this.drop(w))
      this.schedule(w)
      parked = true
      return null
    } finally {
      if (!parked) {
        w.done = true
        w.off()
      }
    }
  }

  private notify(w: Wait, a: Arrival) {
    if (w.done || (w.cursor && a.seq <= w.cursor.seq)) return
    // The very next message of a parked, idle wait, committed by this process: looked at as stored,
    // without a read (the notification that follows through the database finds the cursor past it).
    if (a.stored && w.sink !== null && !w.scanning && !w.dirty && !w.suspect && !w.recheckAlways && a.seq === w.cursor!.seq + 1) {
      try {
        const cursor = { ...w.cursor!, seq: a.seq }
        this.looks.memory++
        if (lookAtStored(a.stored, w.cursor!, w.matcher)) this.answer(w, a.stored, cursor)
        else w.cursor = cursor
        return
      } catch (err) {
        if (w.done) return
        // Could not be answered from memory: the usual look decides.
        this.deps.log.warn('wait: answering from the committed message failed, reading it instead', { requestId: w.requestId, err: String((err as Error)?.message ?? err) })
      }
    }
    w.dirty = true
    // Before parking, the handler's loop sees `dirty`; during a look, the look loops again.
    if (w.sink !== null && !w.scanning) void this.rescan(w)
  }

  /**
   * A change of keys heard (apikeys/key-memory.ts watch): a parked wait it may touch (a key of its
   * caller's tenant revoked or its inbox deleted; a tenant on its path suspended, resumed or
   * deleted) asks again whether its caller is let in before it answers with mail, and answers the
   * door's error if not. Only then: a change of a large subtree (or of every key) asks nothing of
   * the waits that end without mail, so it costs no burst of lookups.
   */
  keysChanged(change: KeyChange): void {
    for (const set of this.wheel.values()) {
      for (const w of set) if (touchesKeysOf(change, w.reach)) w.suspect = true
    }
  }

  /** Whether a wait about to answer with mail may (asking again after a change of keys). */
  private async mayAnswer(w: Wait): Promise<boolean> {
    if (w.recheckAlways) w.suspect = true
    while (w.suspect && w.recheck && !w.done) {
      w.suspect = false
      let refused: ServiceError | null = null
      try {
        refused = await w.recheck()
      } catch (err) {
        // Not known either way: the wait goes on as it was (the door reads the same).
        this.deps.log.warn('wait: could not ask again whether its key lets it in', { requestId: w.requestId, err: String((err as Error)?.message ?? err) })
      }
      if (refused && !w.done) {
        this.finish(w)
        this.sendError(w, refused)
      }
    }
    return !w.done
  }

  private async rescan(w: Wait) {
    w.scanning = true
    try {
      while (w.dirty && !w.done) {
        w.dirty = false
        const cursor = w.cursor!
        this.looks.database++
        const r = await scan(this.deps, w.scope, w.inboxId, cursor, w.matcher)
        if (w.done) return
        if (r.match) {
          if (await this.mayAnswer(w)) this.answer(w, r.match, { ...cursor, seq: r.upTo })
          return
        }
        w.cursor = { ...cursor, seq: r.upTo }
        if (r.more) w.dirty = true
      }
    } catch (err) {
      if (w.done) return
      this.finish(w)
      this.sendError(w, err)
      return
    } finally {
      w.scanning = false
    }
    // The deadline passed during the look: the sweep left this wait to us.
    if (!w.done && tickOf(w.deadline) <= tickOf(monotonicMs())) this.timeout(w)
  }

  /** Answers 200 with the match and the cursor after it (built before the wait is let go, so a throw leaves it open). */
  private answer(w: Wait, match: WaitMatch, cursor: WaitCursor) {
    const body = waitAnswer(match, cursor)
    this.finish(w)
    w.sink!.send(200, { 'Mailroom-Cursor': body.cursor, 'X-Request-Id': w.requestId }, JSON.stringify(body))
  }

  private timeout(w: Wait) {
    this.finish(w)
    w.sink!.send(204, { 'Mailroom-Cursor': encodeWaitCursor(w.cursor!), 'X-Request-Id': w.requestId }, null)
  }

  private sendError(w: Wait, err: unknown) {
    // The same envelope the HTTP error handler writes.
    if (!(err instanceof ServiceError)) {
      const known = transientError(err) ?? goneError(err)
      if (!known) this.deps.log.error('unhandled error', { requestId: w.requestId, err: (err as Error)?.stack ?? String(err) })
      err = known ?? new ServiceError('internal_error', 'internal error')
    }
    const e = err as ServiceError
    w.sink!.send(e.status, { ...e.headers, 'X-Request-Id': w.requestId }, JSON.stringify(errorBody(e.code, e.message, w.requestId)))
  }

  /** The client went away: forget the wait (a look under way finds `done` and stops). */
  private drop(w: Wait) {
    if (!w.done) this.finish(w)
  }

  private finish(w: Wait) {
    w.done = true
    w.off()
    const key = tickOf(w.deadline)
    const set = this.wheel.get(key)
    if (set?.delete(w)) {
      this.parkedCount--
      if (set.size === 0) this.wheel.delete(key)
      if (this.wheel.size === 0 && this.timer) {
        clearInterval(this.timer)
        this.timer = null
      }
    }
  }

  private schedule(w: Wait) {
    const key = tickOf(w.deadline)
    let set = this.wheel.get(key)
    if (!set) this.wheel.set(key, (set = new Set()))
    set.add(w)
    this.parkedCount++
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), TICK_MS)
      this.timer.unref()
    }
  }

  /** Answers 204 to every parked wait whose deadline tick has come. */
  private sweep() {
    const now = tickOf(monotonicMs())
    for (const [key, set] of this.wheel) {
      if (key > now) continue
      for (const w of set) {
        // A look under way answers by itself once it ends (it checks the deadline).
        if (w.scanning) continue
        this.timeout(w)
      }
    }
  }
}

const tickOf = (ms: number) => Math.floor(ms / TICK_MS)

/**
 * Without Node's server (`app.fetch` called directly), the answer is a Response the handler awaits;
 * the request's abort signal stands in for the socket closing.
 */
export function deferredSink(signal: AbortSignal): { sink: WaitSink; response: Promise<Response> } {
  let resolve!: (r: Response) => void
  const response = new Promise<Response>((r) => (resolve = r))
  let answered = false
  const answer = (status: number, headers: Record<string, string>, body: string | null) => {
    if (answered) return
    answered = true
    resolve(new Response(body, { status, headers: body === null ? headers : { ...headers, 'Content-Type': 'application/json' } }))
  }
  // Nobody reads it any more; the handler's promise still has to settle.
  if (signal.aborted) answer(204, {}, null)
  else signal.addEventListener('abort', () => answer(204, {}, null), { once: true })
  return {
    sink: {
      send: answer,
      get closed() {
        return answered
      },
      onClose(fn) {
        signal.addEventListener('abort', fn, { once: true })
      },
    },
    response,
  }
}
