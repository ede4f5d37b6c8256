// A tenant's sending reputation: bounce and complaint rates over a sliding window, and the pause
// that too many of either triggers (resumed only by an ancestor/operator).
import { eq, sql } from 'drizzle-orm'
import type { SendingState } from '@mailroom/contract'
import { rawRows, type Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { appendEvent } from '../events/service.js'
import { toPublicId } from '../lib/ids.js'
import { sendingStates } from './tables.js'

/**
 * now(), as the row the upsert tried to insert has it (its updated_at defaults to now()): Citus
 * accepts only immutable expressions in ON CONFLICT ... DO UPDATE SET, and this is one.
 */
const NOW_OF_INSERT = sql`excluded.updated_at`
import { suppress } from '../suppressions/service.js'

export interface ReputationOptions {
  /** Sliding window the rates are measured over. */
  windowSeconds: number
  /** Below this many external sends in the window, rates are not judged. */
  minSends: number
  maxBounceRate: number
  maxComplaintRate: number
}

export const DEFAULT_REPUTATION: ReputationOptions = { windowSeconds: 86_400, minSends: 50, maxBounceRate: 0.1, maxComplaintRate: 0.005 }

export async function rates(tx: Tx, tenantId: string, o: ReputationOptions) {
  const [state] = await tx.select().from(sendingStates).where(eq(sendingStates.tenantId, tenantId))
  const [row] = await rawRows<{ sends: number; bounces: number; complaints: number; from: Date }>(
    tx,
    sql`with w as (select greatest(now() - make_interval(secs => ${o.windowSeconds}), coalesce(${state?.windowFrom?.toISOString() ?? null}::timestamptz, '-infinity')) as f)
        select (select count(*)::int from outbox, w where tenant_id = ${tenantId} and route = 'external' and status in ('sent', 'bounced') and finished_at >= w.f) as sends,
               (select count(*)::int from outbox, w where tenant_id = ${tenantId} and route = 'external' and status = 'bounced' and finished_at >= w.f) as bounces,
               (select count(*)::int from suppressions, w where tenant_id = ${tenantId} and reason = 'complaint' and created_at >= w.f) as complaints`,
  )
  const sends = row?.sends ?? 0
  return {
    state: state ?? null,
    sends,
    bounceRate: sends ? (row!.bounces ?? 0) / sends : 0,
    complaintRate: sends ? (row!.complaints ?? 0) / sends : 0,
  }
}

/** Pauses the tenant when its rates cross a threshold. Call late in the transaction (emits an event). */
export async function judge(tx: Tx, cipher: Cipher, tenantId: string, o: ReputationOptions): Promise<boolean> {
  const r = await rates(tx, tenantId, o)
  if (r.state?.paused || r.sends < o.minSends) return false
  let reason: string | null = null
  if (r.bounceRate > o.maxBounceRate) reason = `bounce rate ${(r.bounceRate * 100).toFixed(1)}% over ${r.sends} sends exceeds ${(o.maxBounceRate * 100).toFixed(1)}%`
  else if (r.complaintRate > o.maxComplaintRate)
    reason = `complaint rate ${(r.complaintRate * 100).toFixed(2)}% over ${r.sends} sends exceeds ${(o.maxComplaintRate * 100).toFixed(2)}%`
  if (!reason) return false
  await tx
    .insert(sendingStates)
    .values({ tenantId, paused: true, pausedReason: reason, pausedAt: sql`now()` })
    .onConflictDoUpdate({ target: sendingStates.tenantId, set: { paused: true, pausedReason: reason, pausedAt: NOW_OF_INSERT, updatedAt: NOW_OF_INSERT } })
  await appendEvent(tx, cipher, tenantId, 'sending.paused', null, { tenantId: toPublicId('tenant', tenantId), reason })
  return true
}

/** Records a spam complaint (feedback loop) against the tenant: suppresses the address, may pause. */
export async function recordComplaint(tx: Tx, cipher: Cipher, tenantId: string, address: string, o: ReputationOptions) {
  await suppress(tx, tenantId, address, 'complaint', 'spam complaint')
  return judge(tx, cipher, tenantId, o)
}

export async function sendingStateOf(tx: Tx, tenantId: string, o: ReputationOptions): Promise<SendingState> {
  const r = await rates(tx, tenantId, o)
  return {
    tenantId: toPublicId('tenant', tenantId),
    paused: r.state?.paused ?? false,
    pausedReason: r.state?.pausedReason ?? null,
    pausedAt: r.state?.pausedAt?.toISOString() ?? null,
    ipPool: r.state?.ipPool ?? 'shared',
    bounceRate: r.bounceRate,
    complaintRate: r.complaintRate,
    windowSends: r.sends,
  }
}

/** Resume: unpause and start a fresh reputation window (old bounces no longer count). */
export async function resume(tx: Tx, cipher: Cipher, tenantId: string) {
  await tx
    .insert(sendingStates)
    .values({ tenantId, paused: false, windowFrom: sql`now()` })
    .onConflictDoUpdate({ target: sendingStates.tenantId, set: { paused: false, pausedReason: null, pausedAt: null, windowFrom: NOW_OF_INSERT, updatedAt: NOW_OF_INSERT } })
  await appendEvent(tx, cipher, tenantId, 'sending.resumed', null, { tenantId: toPublicId('tenant', tenantId) })
}

export async function setIpPool(tx: Tx, tenantId: string, pool: string) {
  await tx
    .insert(sendingStates)
    .values({ tenantId, ipPool: pool })
    .onConflictDoUpdate({ target: sendingStates.tenantId, set: { ipPool: pool, updatedAt: NOW_OF_INSERT } })
}

