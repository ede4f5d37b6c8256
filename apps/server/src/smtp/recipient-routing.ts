// Address -> inbox lookups for the SMTP door, grouped: the recipients asked for while one lookup is
// in flight go together in the next (one statement for all of them). A route found is kept in
// memory (at most routeCacheMs), and forgotten when routes change: whoever changes one (an inbox
// created or deleted, a tenant suspended, resumed or deleted, a domain's claim or catch-all) calls
// routesChanged(tx), which forgets every route of this process at once and, by a notification sent
// on commit, of every other process. So a deleted inbox or a suspended tenant is seen by the next
// RCPT here, and by other processes' once the notification reaches them (a few milliseconds; a
// message accepted meanwhile for a deleted inbox fails to store and gets 451). Nothing is kept
// while this process is not listening (before it listens, or when listening failed); after a lost
// listening connection, whose notifications in between are lost, everything is forgotten.
// Addresses that route nowhere are never kept (a sender guessing addresses fills no memory).
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

/** The channel on which a change of routes is announced to every process. */
export const ROUTES_CHANNEL = 'mailroom_routes'

let generation = 0

/**
 * Call in the transaction that changes what an address routes to (or whether its tenant is
 * suspended): this process forgets its routes now (and again when the notification comes back,
 * after the commit, in case a lookup read the old route meanwhile), the others on commit.
 */
export async function routesChanged(tx: Tx): Promise<void> {
  generation++
  await tx.execute(sql`select pg_notify(${ROUTES_CHANNEL}, '')`)
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
  generation: number
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
        () => this.forget(),
        () => this.forget(),
      )
      .then(
        (unlisten) => {
          if (this.stopped) return void unlisten().catch(() => {})
          this.unlisten = unlisten
          this.forget()
          this.listening = true
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
    this.listening = false
    if (this.retry) clearTimeout(this.retry)
    this.kept.clear()
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.().catch(() => {})
  }

  /** Forgets every route kept. */
  forget(): void {
    generation++
    this.kept.clear()
  }

  /** Routes kept now (for tests and metrics). */
  get size(): number {
    return this.kept.size
  }

  /** The route of one (lower-case) address, or undefined when nothing routes it. */
  route(address: string): Promise<RecipientRoute | undefined> {
    const now = monotonicMs()
    const hit = this.kept.get(address)
    if (hit) {
      if (this.listening && hit.generation === generation && now - hit.at < this.o.routeCacheMs) return Promise.resolve(hit.route)
      this.kept.delete(address)
    }
    const asked = generation
    return this.lookup(address).then((route) => {
      // Kept only when no change was announced while it was looked up (it may predate the change).
      if (route && this.listening && asked === generation) {
        if (this.kept.size >= MAX_KEPT) this.kept.clear()
        this.kept.set(address, { route, at: now, generation: asked })
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
