// Address -> inbox lookups for the SMTP door, grouped: the recipients asked for while one lookup is
// in flight go together in the next (one statement for all of them). A route found is kept in
// memory (at most routeCacheMs) and forgotten when it changes: whoever changes routes (an inbox
// created or deleted, a domain claimed, its catch-all set or removed, the domain deleted, a tenant
// suspended, resumed or deleted) calls routesChanged(tx, what) in that transaction, which forgets the
// routes it may touch in this process at once and, by a notification sent on commit, in every
// process (again here, in case a lookup read the old route before the commit). So a deleted inbox
// or a suspended tenant is seen by the next RCPT here, and by other processes' once the notification
// reaches them (a few milliseconds; a message accepted meanwhile for a deleted inbox fails to store
// and gets 451). Nothing is kept or served from memory while this process is not listening (before
// it listens, from the moment its listening connection is lost until it listens again, when
// everything is forgotten: notifications in between are lost) nor while the database is known to be
// down (each RCPT is then deferred with 451, as without the memory). Addresses that route nowhere are
// never kept; past MAX_KEPT the oldest routes go first.
import { sql } from 'drizzle-orm'
import type { Database, Tx } from '../db/client.js'
import { lookupWithoutTenant } from '../db/scope.js'
import { monotonicMs } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'

export interface RecipientRoute {
  tenant_id: string
  inbox_id: string
  tenant_suspended: boolean
}

/** The channel on which a change of routes is announced to every process (payload: a RouteChange). */
export const ROUTES_CHANNEL = 'mailroom_routes'

/** What a change of routes may touch. */
export type RouteChange =
  /** An inbox created (its address may have gone to a catch-all) or deleted (with its id: it may be a catch-all). */
  | { address: string; inboxId?: string }
  /** A domain claimed, its catch-all set or removed, or the domain deleted: its addresses. */
  | { domain: string }
  /** A tenant suspended, resumed or deleted (its descendants' routes too): every route. */
  | { all: true }

let generation = 0
/** The routers of this process (one per SMTP server). */
const routers = new Set<RecipientRouting>()

/**
 * Call in the transaction that changes what an address routes to (or whether its tenant is
 * suspended): this process forgets what it touches now, every process when the notification sent
 * on commit reaches it.
 */
export async function routesChanged(tx: Tx, change: RouteChange): Promise<void> {
  generation++
  for (const r of routers) r.forget(change)
  await tx.execute(sql`select pg_notify(${ROUTES_CHANNEL}, ${JSON.stringify(change)})`)
}

function changeOf(payload: string): RouteChange {
  try {
    const c = JSON.parse(payload) as Partial<{ address: unknown; inboxId: unknown; domain: unknown }>
    if (typeof c.address === 'string') return { address: c.address, ...(typeof c.inboxId === 'string' ? { inboxId: c.inboxId } : {}) }
    if (typeof c.domain === 'string') return { domain: c.domain }
  } catch {
    /* an empty or unknown payload: everything */
  }
  return { all: true }
}

interface Ask {
  address: string
  resolve: (route: RecipientRoute | undefined) => void
  reject: (err: unknown) => void
}

interface Kept {
  route: RecipientRoute
  /** When the lookup that found it began (monotonicMs). */
  at: number
}

const MAX_GROUP = 256
const MAX_KEPT = 50_000
/** Between tries to listen, when listening failed (the database down at start). */
const RELISTEN_MS = 2_000

export interface RoutingOptions {
  /** How long a route found is kept (0: never; every RCPT looks it up). */
  routeCacheMs: number
  log?: Logger
}

export class RecipientRouting {
  private waiting: Ask[] = []
  private running = false
  private readonly kept = new Map<string, Kept>()
  private listening = false
  private stopped = false
  private unlisten: (() => Promise<void>) | null = null
  private retry: NodeJS.Timeout | null = null

  constructor(
    private readonly database: Database,
    private readonly o: RoutingOptions,
  ) {}

  /** Starts listening for route changes (until then, and without a cache, nothing is kept). */
  start(): void {
    if (this.o.routeCacheMs <= 0 || this.stopped) return
    this.database
      .listen(
        ROUTES_CHANNEL,
        (payload) => {
          generation++
          this.forget(changeOf(payload))
        },
        () => this.resume(),
        () => this.suspend(),
      )
      .then(
        (unlisten) => {
          if (this.stopped) return void unlisten().catch(() => {})
          this.unlisten = unlisten
          routers.add(this)
          this.resume()
        },
        (err: unknown) => {
          this.o.log?.warn('smtp: cannot listen for route changes; every RCPT looks its route up until it can', { err: String(err) })
          if (!this.stopped) this.retry = setTimeout(() => this.start(), RELISTEN_MS)
          this.retry?.unref?.()
        },
      )
  }

  async stop(): Promise<void> {
    this.stopped = true
    routers.delete(this)
    this.suspend()
    if (this.retry) clearTimeout(this.retry)
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.().catch(() => {})
  }

  /** Listening (again): from here on every change is heard. */
  private resume(): void {
    if (this.stopped) return
    generation++
    this.kept.clear()
    this.listening = true
  }

  /** Not listening: changes may go unheard, so nothing is kept or served. */
  private suspend(): void {
    generation++
    this.listening = false
    this.kept.clear()
  }

  /** Forgets the routes a change may touch. */
  forget(change: RouteChange): void {
    if ('all' in change) return this.kept.clear()
    if ('domain' in change) {
      const suffix = '@' + change.domain.toLowerCase()
      for (const address of this.kept.keys()) if (address.endsWith(suffix)) this.kept.delete(address)
      return
    }
    this.kept.delete(change.address.toLowerCase())
    if (change.inboxId) for (const [address, k] of this.kept) if (k.route.inbox_id === change.inboxId) this.kept.delete(address)
  }

  /** The route of one (lower-case) address, or undefined when nothing routes it. */
  route(address: string): Promise<RecipientRoute | undefined> {
    const now = monotonicMs()
    // While the database is known to be down the lookup fails at once: RCPT is deferred, as without memory.
    const trusted = this.listening && this.database.health.up
    const hit = this.kept.get(address)
    if (hit) {
      if (trusted && now - hit.at < this.o.routeCacheMs) return Promise.resolve(hit.route)
      this.kept.delete(address)
    }
    const asked = generation
    return this.lookup(address).then((route) => {
      // Kept only when no change was announced while it was looked up (it may predate the change).
      if (route && this.listening && asked === generation) {
        if (this.kept.size >= MAX_KEPT) this.kept.delete(this.kept.keys().next().value!)
        this.kept.set(address, { route, at: now })
      }
      return route
    })
  }

  private lookup(address: string): Promise<RecipientRoute | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ address, resolve, reject })
      if (!this.running) void this.run()
    })
  }

  private async run(): Promise<void> {
    this.running = true
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP)
        const addresses = [...new Set(group.map((a) => a.address))]
        try {
          const rows = await lookupWithoutTenant<RecipientRoute & { address: string }>(
            this.database,
            sql`select q.address, r.tenant_id, r.inbox_id, r.tenant_suspended
                from unnest(${sql.param(addresses)}::text[]) as q(address) cross join lateral mailroom_route(q.address) r`,
          )
          const found = new Map<string, RecipientRoute>()
          for (const r of rows) if (!found.has(r.address)) found.set(r.address, { tenant_id: r.tenant_id, inbox_id: r.inbox_id, tenant_suspended: r.tenant_suspended })
          for (const a of group) a.resolve(found.get(a.address))
        } catch (err) {
          for (const a of group) a.reject(err)
        }
      }
    } finally {
      this.running = false
    }
  }
}
