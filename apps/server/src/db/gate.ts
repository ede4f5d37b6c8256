// Who gets the next database connection. The pool has a few connections for every tenant; without
// a gate, whoever asks most often holds them all and everyone else queues behind (a flood of one
// tenant's requests took another's from 10 ms to 3.4 s). Here each tenant may hold at most
// `perKey` of the `slots`, waiting tenants take turns for the ones that free up, and a request that
// cannot get one before its deadline is shed (503, Retry-After) instead of piling up.
import { monotonicMs } from '../lib/clock.js'
import { AsyncLocalStorage } from 'node:async_hooks'

export interface GateOptions {
  /** Connections to hand out (the pool's size). */
  slots: number
  /** At most this many at once to one key (tenant). */
  perKey: number
  /** Waiters one key may queue; past it, new ones are shed at once. */
  maxQueuePerKey?: number
  /** Never shed on a deadline (the embedded database: no request is refused for waiting). */
  ignoreDeadlines?: boolean
  /**
   * Light keys first: a key that has held slots more than half the time lately (a flood) starts no
   * new work while a lighter key holds or waits for a slot, so the lighter key's work runs beside
   * less of the flood's; a held-back waiter goes ahead anyway after `maxDelayMs`, so the busy key
   * is slowed, never starved.
   */
  lightFirst?: { maxDelayMs: number }
  /** The clock of lightFirst's slot time (tests); default monotonicMs. */
  now?: () => number
}

/** Slot time of a key decays with this half-life: "lately" is the last second or two. */
const USAGE_HALF_LIFE_MS = 1000
/** Holding one slot all the time comes to this much decayed slot time (ms). */
const FULL_USAGE_MS = USAGE_HALF_LIFE_MS / Math.LN2
/** A key is heavy past half of that. */
const HEAVY_USAGE_MS = FULL_USAGE_MS / 2

/** Slot time decayed to `now`. */
const decayed = (u: { ms: number; at: number }, now: number) => u.ms * Math.pow(2, -(now - u.at) / USAGE_HALF_LIFE_MS)

/** Why a caller did not get a connection: the wait would pass its deadline, or its queue is full. */
export class ShedError extends Error {
  constructor(readonly reason: 'deadline' | 'queue_full') {
    super(reason === 'deadline' ? 'no database connection free before the request deadline' : 'too many requests of this tenant waiting for the database')
  }
}

interface Waiter {
  grant: () => void
  timer: NodeJS.Timeout | null
}

/** The deadline of the work running in this async context (an HTTP request sets one). */
export interface WorkContext {
  /** When waiting for a connection becomes pointless (shed instead), on the monotonic clock (lib/clock.ts `monotonicMs`). */
  deadline: number
}

const work = new AsyncLocalStorage<WorkContext>()
/** Set while a gated transaction runs: a nested one (same async context) must not wait for a slot it already holds. */
const holding = new AsyncLocalStorage<true>()

/** Runs `fn` with a deadline for the database work it starts. */
export function withDeadline<T>(deadline: number, fn: () => T): T {
  return work.run({ deadline }, fn)
}

export class DbGate {
  private readonly queues = new Map<string, Waiter[]>()
  private readonly running = new Map<string, number>()
  /** lightFirst: each key's decayed slot time (ms) and when it was last brought up to date. */
  private readonly usage = new Map<string, { ms: number; at: number }>()
  private heldBackTimer: NodeJS.Timeout | null = null
  /** lightFirst: since when each held-back key has been held back (cleared when it starts). */
  private readonly heldSince = new Map<string, number>()
  private inUse = 0
  private waitingCount = 0
  private readonly maxQueuePerKey: number
  private readonly now: () => number
  /** Callers shed since start, by reason (metrics). */
  readonly shed = { deadline: 0, queue_full: 0 }
  /** Slots handed out since start. */
  granted = 0

  constructor(private readonly o: GateOptions) {
    this.maxQueuePerKey = o.maxQueuePerKey ?? 1000
    this.now = o.now ?? monotonicMs
  }

  get stats(): { slots: number; inUse: number; waiting: number } {
    return { slots: this.o.slots, inUse: this.inUse, waiting: this.waitingCount }
  }

  /**
   * Runs `fn` holding one slot for `key`, waiting for its turn if needed. The deadline comes from
   * the async context (withDeadline); without one (background work) it waits as long as it takes.
   */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (holding.getStore()) return fn()
    const release = await this.acquire(key, this.o.ignoreDeadlines ? null : (work.getStore()?.deadline ?? null))
    try {
      return await holding.run(true, fn)
    } finally {
      release()
    }
  }

  acquire(key: string, deadline: number | null): Promise<() => void> {
    if (this.canStart(key) && !this.queues.has(key)) return Promise.resolve(this.start(key))
    const queue = this.queues.get(key) ?? []
    if (queue.length >= this.maxQueuePerKey) {
      this.shed.queue_full++
      return Promise.reject(new ShedError('queue_full'))
    }
    const wait = deadline === null ? null : deadline - monotonicMs()
    if (wait !== null && wait <= 0) {
      this.shed.deadline++
      return Promise.reject(new ShedError('deadline'))
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          if (w.timer) clearTimeout(w.timer)
          resolve(this.start(key))
        },
        timer: null,
      }
      if (wait !== null) {
        w.timer = setTimeout(() => {
          const q = this.queues.get(key)
          const i = q?.indexOf(w) ?? -1
          if (i < 0) return
          q!.splice(i, 1)
          if (q!.length === 0) this.queues.delete(key)
          this.waitingCount--
          this.shed.deadline++
          reject(new ShedError('deadline'))
        }, wait)
        w.timer.unref?.()
      }
      queue.push(w)
      this.queues.set(key, queue)
      this.waitingCount++
      this.next()
    })
  }

  private canStart(key: string): boolean {
    return this.inUse < this.o.slots && (this.running.get(key) ?? 0) < this.o.perKey && !this.heldBack(key)
  }

  /**
   * lightFirst: whether `key` must wait because it is heavy and a key with less than half its slot
   * time holds or waits for a slot (unless it has been held back maxDelayMs already).
   */
  private heldBack(key: string): boolean {
    const lf = this.o.lightFirst
    if (!lf) return false
    const now = this.now()
    const mine = this.usageOf(key, now)
    if (mine <= HEAVY_USAGE_MS) return false
    // Held back long enough (since its last start): it goes ahead anyway.
    const since = this.heldSince.get(key)
    if (since !== undefined && now - since >= lf.maxDelayMs) return false
    // Lighter: less than half this key's slot time.
    const lighter = (k: string) => k !== key && 2 * this.usageOf(k, now) < mine
    if (![...this.running.keys()].some(lighter) && ![...this.queues.keys()].some(lighter)) return false
    if (since === undefined) this.heldSince.set(key, now)
    return this.retryLater(lf.maxDelayMs - (now - (since ?? now)))
  }

  /** Held-back waiters are looked at again when the first of them may go ahead anyway. */
  private retryLater(ms: number): true {
    if (!this.heldBackTimer && this.queues.size > 0) {
      this.heldBackTimer = setTimeout(() => {
        this.heldBackTimer = null
        this.next()
      }, ms)
      this.heldBackTimer.unref?.()
    }
    return true
  }

  /** A key's decayed slot time (ms): each slot's holding time, added when it is released. */
  private usageOf(key: string, now: number): number {
    const u = this.usage.get(key)
    return u ? decayed(u, now) : 0
  }

  private addUsage(key: string, ms: number, now: number): void {
    this.usage.set(key, { ms: this.usageOf(key, now) + ms, at: now })
    // Keys whose slot time has decayed to nothing are forgotten: the map stays about as small as the active keys.
    if (this.usage.size > 2 * (this.running.size + this.queues.size) + 64) {
      for (const [k, u] of this.usage) if (!this.running.has(k) && decayed(u, now) < 1) this.usage.delete(k)
    }
  }

  private start(key: string): () => void {
    this.granted++
    this.inUse++
    this.running.set(key, (this.running.get(key) ?? 0) + 1)
    const began = this.o.lightFirst ? this.now() : 0
    this.heldSince.delete(key)
    let done = false
    return () => {
      if (done) return
      done = true
      if (this.o.lightFirst) {
        const now = this.now()
        this.addUsage(key, now - began, now)
      }
      this.inUse--
      const n = (this.running.get(key) ?? 1) - 1
      if (n <= 0) this.running.delete(key)
      else this.running.set(key, n)
      this.next()
    }
  }

  /**
   * Hands free slots to waiting keys: first to the key holding the fewest slots now, ties in turn
   * (a Map iterates in insertion order, and a served key goes to the back).
   */
  private next(): void {
    while (this.inUse < this.o.slots && this.queues.size > 0) {
      let pick: string | null = null
      let fewest = Infinity
      for (const key of this.queues.keys()) {
        const running = this.running.get(key) ?? 0
        if (running < fewest && this.canStart(key)) {
          pick = key
          fewest = running
          if (running === 0) break
        }
      }
      if (pick === null) return
      const queue = this.queues.get(pick)!
      const w = queue.shift()!
      this.queues.delete(pick)
      if (queue.length > 0) this.queues.set(pick, queue)
      this.waitingCount--
      w.grant()
    }
  }
}
