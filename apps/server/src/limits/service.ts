// Rate limits decided atomically by the database: a fixed-window counter that only moves while it
// stays within its limit, so concurrent requests cannot overshoot.
import { sql } from 'drizzle-orm'
import { rawRows, type Tx } from '../db/client.js'

export interface Consumed {
  ok: boolean
  /** Seconds until the window resets (when !ok). */
  retryAfter: number
}

export async function consume(
  tx: Tx,
  tenantId: string,
  key: string,
  limit: number,
  windowSeconds: number,
  now: Date,
  n = 1,
): Promise<Consumed> {
  const windowMs = windowSeconds * 1000
  const start = new Date(Math.floor(now.getTime() / windowMs) * windowMs)
  const retryAfter = Math.max(1, Math.ceil((start.getTime() + windowMs - now.getTime()) / 1000))
  if (n > limit) return { ok: false, retryAfter }
  const rows = await rawRows<{ count: number }>(
    tx,
    sql`insert into rate_counters (tenant_id, key, window_start, count) values (${tenantId}, ${key}, ${start.toISOString()}, ${n})
        on conflict (tenant_id, key, window_start) do update set count = rate_counters.count + excluded.count
        where rate_counters.count + excluded.count <= ${limit}
        returning count`,
  )
  return rows.length > 0 ? { ok: true, retryAfter: 0 } : { ok: false, retryAfter }
}

export class RateLimited extends Error {
  constructor(
    readonly scope: 'tenant' | 'inbox',
    readonly retryAfter: number,
  ) {
    super(`${scope} rate limit reached; retry in ${retryAfter}s`)
  }
}
