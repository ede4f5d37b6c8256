// Retention: mail older than the tenant's (or the inbox's) retentionDays is deleted in small
// batches, one short transaction each, so no purge holds long locks.
import { and, asc, eq, lt, sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { withTenant, withoutTenant } from '../db/scope.js'
import type { Clock } from '../lib/clock.js'
import type { Logger } from '../lib/log.js'
import { effectiveLimits } from '../tenancy/service.js'
import { inboxes } from '../inboxes/tables.js'
import { messages } from '../messages/tables.js'
import { deleteMessage } from '../messages/service.js'

export interface PurgeResult {
  tenants: number
  deleted: number
}

const DAY_MS = 86_400_000

export async function purgeExpired(database: Database, clock: Clock, log: Logger, batchSize = 200): Promise<PurgeResult> {
  const targets = await withoutTenant(database, (tx) => rawRows<{ tenant_id: string }>(tx, sql`select tenant_id from mailroom_retention_targets()`))
  let deleted = 0
  for (const { tenant_id: tenantId } of targets) {
    try {
      const plan = await withTenant(database, { tenantId }, async (tx) => {
        const tenantDays = (await effectiveLimits(tx, tenantId)).retentionDays ?? null
        const list = await tx.select({ id: inboxes.id, limits: inboxes.limits }).from(inboxes).where(eq(inboxes.tenantId, tenantId))
        return list
          .map((i) => ({ inboxId: i.id, days: minDays(i.limits?.retentionDays ?? null, tenantDays) }))
          .filter((p): p is { inboxId: string; days: number } => p.days !== null)
      })
      for (const { inboxId, days } of plan) {
        const now = clock.now()
        const cutoff = new Date(now.getTime() - days * DAY_MS)
        for (;;) {
          const n = await withTenant(database, { tenantId }, async (tx) => {
            const batch = await tx
              .select()
              .from(messages)
              .where(and(eq(messages.tenantId, tenantId), eq(messages.inboxId, inboxId), lt(messages.receivedAt, cutoff)))
              .orderBy(asc(messages.receivedAt))
              .limit(batchSize)
            for (const m of batch) await deleteMessage(tx, m, now)
            return batch.length
          })
          deleted += n
          if (n < batchSize) break
        }
      }
    } catch (err) {
      log.warn('retention purge failed for a tenant', { tenantId, err: String(err) })
    }
  }
  return { tenants: targets.length, deleted }
}

/** A parent's retention caps its descendants' like any other limit: the shorter one wins. */
function minDays(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}

export function startRetention(database: Database, clock: Clock, log: Logger, intervalMs: number): () => void {
  let running = false
  const tick = async () => {
    if (running) return
    running = true
    try {
      const r = await purgeExpired(database, clock, log)
      if (r.deleted > 0) log.info('retention purge', { ...r })
    } catch (err) {
      log.warn('retention purge failed', { err: String(err) })
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void tick(), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
