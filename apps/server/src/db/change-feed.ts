// Memory kept on the strength of change notices. Whoever changes what a memory holds calls
// announce(tx, channel, change) in that transaction: this process's feeds on that channel forget what
// the change may touch at once and, by a notification sent on commit, every process's feeds (again
// here, in case a read saw the old value before the commit). A feed is trusted only while its process
// listens and the database is not known to be down: before it listens, and from the moment its
// listening connection is lost until it listens again, nothing may be served from its memory, and
// listening again forgets everything (the notifications in between are lost).
import { sql } from 'drizzle-orm'
import type { Database, Tx } from './client.js'
import type { Logger } from '../lib/log.js'
import { monotonicMs } from '../lib/clock.js'

/** The change that touches everything (listening began or was lost is treated alike). */
export type AllChange = { all: true }

export interface FeedOptions<C extends object> {
  channel: string
  /** The change a payload names (one it cannot read: everything). */
  parse(payload: string): C | AllChange
  /**
   * Forgets what a change that touches only part may touch (its memories' forget); a change of
   * everything forgets every memory of the feed, without asking.
   */
  forget(change: Exclude<C, AllChange>): void
  /** How long what is kept may be served (0: nothing is kept, and the feed never listens). */
  keepMs: number
  log?: Logger | undefined
  /** What is looked up afresh while listening fails (for the log). */
  what: string
  /**
   * Told of every change once its memories have forgotten it, and when listening begins again
   * (changes may have gone unheard meanwhile: a change of everything).
   */
  heard?(change: C | AllChange): void
}

/**
 * A change of a tenant's standing (suspended, resumed, deleted, its limits changed): it touches what
 * was kept of the tenant and of every descendant, whose standing and limits follow their ancestors'.
 */
export type SubtreeChange = { subtree: string }

/** Whether a tenant whose path (its ancestors, then itself) is `path` lies in the subtree a change names. */
export const inSubtree = (change: SubtreeChange, path: readonly string[]): boolean => path.includes(change.subtree)

/** The subtree a payload names, if it names one. */
export function subtreeChangeOf(c: unknown): SubtreeChange | null {
  const subtree = (c as Partial<{ subtree: unknown }> | null)?.subtree
  return typeof subtree === 'string' ? { subtree } : null
}

/** A change that touches one tenant's part of a memory, a tenant's subtree, or everything. */
export type TenantChange = { tenantId: string } | SubtreeChange | AllChange

/** The TenantChange a notification's payload names (one it cannot read: everything). */
export function tenantChangeOf(payload: string): TenantChange {
  try {
    const c = JSON.parse(payload) as Partial<{ tenantId: unknown }>
    if (typeof c.tenantId === 'string') return { tenantId: c.tenantId }
    const subtree = subtreeChangeOf(c)
    if (subtree) return subtree
  } catch {
    /* an empty or unknown payload: everything */
  }
  return { all: true }
}

/** Between tries to listen, when listening failed (the database down at start). */
const RELISTEN_MS = 2_000

/** What hears a change announced in this process. */
interface Hearer {
  heard(change: object): void
}

/** The listening feeds of this process, by channel. */
const feeds = new Map<string, Set<Hearer>>()

/**
 * Call in the transaction that changes what `channel`'s memories hold: this process forgets what
 * `change` touches now, every process when the notification sent on commit reaches it.
 */
export async function announce<C extends object>(tx: Tx, channel: string, change: C): Promise<void> {
  for (const f of feeds.get(channel) ?? []) f.heard(change)
  await tx.execute(sql`select pg_notify(${channel}, ${JSON.stringify(change)})`)
}

/** What a memory asks of its feed: whether what it keeps may be served, and kept. */
interface Trust {
  readonly generation: number
  serves(at: number): boolean
  mayKeep(asked: number): boolean
}

export class ChangeFeed<C extends object> implements Trust {
  /** The memories kept on this feed's strength (all forgotten when listening begins or is lost). */
  private readonly memories = new Set<{ clear(): void }>()
  private listening = false
  private stopped = false
  private unlisten: (() => Promise<void>) | null = null
  private retry: NodeJS.Timeout | null = null
  private gen = 0

  constructor(
    private readonly database: Database,
    private readonly o: FeedOptions<C>,
  ) {}

  /** Whether the memory may be served and filled: listening, and the database not known to be down. */
  get trusted(): boolean {
    return this.listening && this.database.health.up
  }

  /**
   * Moves with every change heard and every start or loss of listening: a read begun before it
   * moved may predate a change, and is not kept (mayKeep).
   */
  get generation(): number {
    return this.gen
  }

  /** A memory of reads kept on this feed's strength (see Memory). */
  memory<V>(o: MemoryOptions<V> = {}): Memory<V> {
    const m = new Memory<V>(this, o)
    this.memories.add(m)
    return m
  }

  /** Whether something kept since `at` (monotonicMs) may be served. */
  serves(at: number): boolean {
    return this.trusted && monotonicMs() - at < this.o.keepMs
  }

  /** Whether what a read begun at generation `asked` found may be kept. */
  mayKeep(asked: number): boolean {
    return this.trusted && asked === this.gen
  }

  /** Starts listening (until it does, nothing is trusted); not when nothing is to be kept. */
  start(): void {
    if (this.stopped || this.o.keepMs <= 0) return
    this.database
      .listen(
        this.o.channel,
        (payload) => this.heard(this.o.parse(payload)),
        () => this.resume(),
        () => this.suspend(),
      )
      .then(
        (unlisten) => {
          if (this.stopped) return void unlisten().catch(() => {})
          this.unlisten = unlisten
          const set = feeds.get(this.o.channel) ?? new Set()
          set.add(this as Hearer)
          feeds.set(this.o.channel, set)
          this.resume()
        },
        (err: unknown) => {
          this.o.log?.warn(`cannot listen on ${this.o.channel}; ${this.o.what} looked up afresh until it can`, { err: String(err) })
          if (!this.stopped) this.retry = setTimeout(() => this.start(), RELISTEN_MS)
          this.retry?.unref?.()
        },
      )
  }

  async stop(): Promise<void> {
    this.stopped = true
    feeds.get(this.o.channel)?.delete(this as Hearer)
    this.suspend()
    if (this.retry) clearTimeout(this.retry)
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.().catch(() => {})
  }

  /** A change announced here or heard from any process. */
  heard(change: C | AllChange): void {
    this.gen++
    if ('all' in change) this.clear()
    else this.o.forget(change as Exclude<C, AllChange>)
    this.o.heard?.(change)
  }

  /** Listening (again): from here on every change is heard. */
  private resume(): void {
    if (this.stopped) return
    this.gen++
    this.clear()
    this.listening = true
    this.o.heard?.({ all: true })
  }

  /** Not listening: changes may go unheard, so nothing is kept or served. */
  private suspend(): void {
    this.gen++
    this.listening = false
    this.clear()
  }

  private clear(): void {
    for (const m of this.memories) m.clear()
  }
}

export interface MemoryOptions<V> {
  /** Whether what a read found is worth keeping (default: all of it). */
  worth?: (value: V) => boolean
  /** At most this many kept (default MAX_KEPT); past it, the oldest go first. */
  max?: number
}

/** How many asks a memory answered from what it kept (or shared a read in flight), and how many it read. */
export interface MemoryCounts {
  memory: number
  database: number
}

interface Entry<V> {
  /** When its read began (monotonicMs). */
  at: number
  value: Promise<V>
  /** The read has finished (until then it is shared whatever the trust, and any change forgets it). */
  done: boolean
  /** What the read found, once done. */
  found: V | undefined
}

const MAX_KEPT = 50_000

/**
 * Reads kept by key on a feed's strength. Concurrent asks of one key share one read. What a read
 * found is kept only when it is worth keeping, the feed is trusted, and no change was heard while it
 * was read (it may predate the change); a failed read is not kept. What is kept is served while the
 * feed serves it (trusted, and younger than its keepMs). A change heard forgets every read in flight
 * (a later ask must not share one that may predate it) and what `forget` says it touches; listening
 * begun or lost forgets everything.
 */
export class Memory<V> {
  private readonly kept = new Map<string, Entry<V>>()
  readonly counts: MemoryCounts = { memory: 0, database: 0 }

  constructor(
    private readonly feed: Trust,
    private readonly o: MemoryOptions<V>,
  ) {}

  /** What `key` stands for: kept, shared with a read in flight, or read by `read`. */
  get(key: string, read: () => Promise<V>): Promise<V> {
    const hit = this.kept.get(key)
    if (hit) {
      if (!hit.done || this.feed.serves(hit.at)) {
        this.counts.memory++
        return hit.value
      }
      this.kept.delete(key)
    }
    this.counts.database++
    const asked = this.feed.generation
    // Every field from the start: one object shape, no property added later.
    const entry: Entry<V> = { at: monotonicMs(), value: read(), done: false, found: undefined }
    if (this.kept.size >= (this.o.max ?? MAX_KEPT)) this.kept.delete(this.kept.keys().next().value!)
    this.kept.set(key, entry)
    const drop = (): void => {
      if (this.kept.get(key) === entry) this.kept.delete(key)
    }
    entry.value.then((v) => {
      entry.done = true
      entry.found = v
      if ((this.o.worth && !this.o.worth(v)) || !this.feed.mayKeep(asked)) drop()
    }, drop)
    return entry.value
  }

  /** Forgets every read in flight, and what was kept for which `touched` holds. */
  forget(touched: (key: string, found: V) => boolean): void {
    for (const [key, e] of this.kept) if (!e.done || touched(key, e.found as V)) this.kept.delete(key)
  }

  clear(): void {
    this.kept.clear()
  }

  /** How many keys are kept or being read. */
  get size(): number {
    return this.kept.size
  }
}
