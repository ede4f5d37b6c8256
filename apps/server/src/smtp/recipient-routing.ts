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
import { announce, ChangeFeed, inSubtree, subtreeChangeOf, type AllChange, type Memory, type MemoryCounts, type SubtreeChange } from '../db/change-feed.js'
import { lookupWithoutTenant } from '../db/scope.js'
import type { Logger } from '../lib/log.js'

export interface RecipientRoute {
  tenant_id: string
  inbox_id: string
  tenant_suspended: boolean
  /** The tenant's ancestors, then the tenant: a change of any of their subtrees touches the route. */
  tenant_path: string[]
}

/** The channel on which a change of routes is announced to every process (payload: a RouteChange). */
export const ROUTES_CHANNEL = 'mailroom_routes'

/** What a change of routes may touch. */
export type RouteChange =
  /** An inbox created (its address may have gone to a catch-all) or deleted (with its id: it may be a catch-all). */
  | { address: string; inboxId?: string }
  /** A domain claimed, its catch-all set or removed, or the domain deleted: its addresses. */
  | { domain: string }
  /** A tenant suspended, resumed or deleted: the routes of its subtree. */
  | SubtreeChange
  /** Anything may have changed (listening began again, or a payload that cannot be read): every route. */
  | AllChange

/**
 * Call in the transaction that changes what an address routes to (or whether its tenant is
 * suspended): this process forgets what it touches now, every process when the notification sent
 * on commit reaches it.
 */
export function routesChanged(tx: Tx, change: RouteChange): Promise<void> {
  return announce(tx, ROUTES_CHANNEL, change)
}

function changeOf(payload: string): RouteChange {
  try {
    const c = JSON.parse(payload) as Partial<{ address: unknown; inboxId: unknown; domain: unknown }>
    if (typeof c.address === 'string') return { address: c.address, ...(typeof c.inboxId === 'string' ? { inboxId: c.inboxId } : {}) }
    if (typeof c.domain === 'string') return { domain: c.domain }
    const subtree = subtreeChangeOf(c)
    if (subtree) return subtree
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

const MAX_GROUP = 256

export interface RoutingOptions {
  /** How long a route found is kept (0: never; every RCPT looks it up). */
  routeCacheMs: number
  log?: Logger
}

export class RecipientRouting {
  private waiting: Ask[] = []
  private running = false
  private readonly feed: ChangeFeed<RouteChange>
  /** Routes found, by address (addresses that route nowhere are not kept). */
  private readonly kept: Memory<RecipientRoute | undefined>

  constructor(
    private readonly database: Database,
    o: RoutingOptions,
  ) {
    this.feed = new ChangeFeed(database, {
      channel: ROUTES_CHANNEL,
      parse: changeOf,
      forget: (change) => this.forget(change),
      what: 'every RCPT route is',
      keepMs: o.routeCacheMs,
      log: o.log,
    })
    this.kept = this.feed.memory({ worth: (route) => route !== undefined })
  }

  /** Routes served from memory, and looked up. */
  get counts(): MemoryCounts {
    return this.kept.counts
  }

  /** Starts listening for route changes (until then, and without a cache, nothing is kept). */
  start(): void {
    this.feed.start()
  }

  stop(): Promise<void> {
    return this.feed.stop()
  }

  /** Forgets the routes a change may touch (a change of every route forgets them all: the feed does). */
  private forget(change: Exclude<RouteChange, AllChange>): void {
    if ('subtree' in change) return this.kept.forget((_, route) => inSubtree(change, route!.tenant_path))
    if ('domain' in change) {
      const suffix = '@' + change.domain.toLowerCase()
      return this.kept.forget((address) => address.endsWith(suffix))
    }
    const gone = change.address.toLowerCase()
    const inboxId = change.inboxId
    this.kept.forget((address, route) => address === gone || (inboxId !== undefined && route!.inbox_id === inboxId))
  }

  /**
   * The route of one (lower-case) address, or undefined when nothing routes it. While the database is
   * known to be down nothing kept is served and the lookup fails at once: RCPT is deferred, as without
   * memory.
   */
  route(address: string): Promise<RecipientRoute | undefined> {
    return this.kept.get(address, () => this.lookup(address))
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
            sql`select q.address, r.tenant_id, r.inbox_id, r.tenant_suspended, r.tenant_path
                from unnest(${sql.param(addresses)}::text[]) as q(address) cross join lateral mailroom_route(q.address) r`,
          )
          const found = new Map<string, RecipientRoute>()
          for (const r of rows) {
            if (!found.has(r.address)) found.set(r.address, { tenant_id: r.tenant_id, inbox_id: r.inbox_id, tenant_suspended: r.tenant_suspended, tenant_path: r.tenant_path })
          }
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
