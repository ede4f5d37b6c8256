// Address -> inbox lookups for the SMTP door, grouped: the recipients asked for while one lookup is
// in flight go together in the next (one statement for all of them). Always fresh: nothing is
// cached, so a deleted inbox or a suspended tenant is seen by the very next RCPT.
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.js'
import { lookupWithoutTenant } from '../db/scope.js'

export interface RecipientRoute {
  tenant_id: string
  inbox_id: string
  tenant_suspended: boolean
}

interface Ask {
  address: string
  resolve: (route: RecipientRoute | undefined) => void
  reject: (err: unknown) => void
}

const MAX_GROUP = 256

export class RecipientRouting {
  private waiting: Ask[] = []
  private running = false

  constructor(private readonly database: Database) {}

  /** The route of one (lower-case) address, or undefined when nothing routes it. */
  route(address: string): Promise<RecipientRoute | undefined> {
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
