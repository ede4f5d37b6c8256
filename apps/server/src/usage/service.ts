// Usage metering and the storage quota. Counters move in the same transaction as what they count
// (a message stored, a message sent), so they match what happened exactly, also under concurrency.
import { sql, type SQLWrapper } from 'drizzle-orm'
import type { UsageRow } from '@mailroom/contract'
import { rawRows, type Database, type Tx } from '../db/client.js'
import { subtreeRows, withTenant } from '../db/scope.js'
import { pipelined, textTemplate } from '../db/pipeline.js'
import { isConflict, isConnectionError, isMissingReference } from '../db/health.js'
import type { Logger } from '../lib/log.js'
import { toPublicId } from '../lib/ids.js'
import { NIL_UUID, usageDaily } from './tables.js'

export const utcDay = (d: Date): string => d.toISOString().slice(0, 10)

type Counter = 'messages_received' | 'messages_sent' | 'api_requests'

async function bump(tx: Tx, tenantId: string, inboxId: string, day: string, column: Counter, n: number): Promise<void> {
  await tx.execute(sql`
    insert into usage_daily (tenant_id, day, inbox_id, ${sql.raw(column)}) values (${tenantId}, ${day}, ${inboxId}, ${n})
    on conflict (tenant_id, day, inbox_id) do update set ${sql.raw(column)} = usage_daily.${sql.raw(column)} + excluded.${sql.raw(column)}`)
}

/** Counts messages received (per inbox and for the tenant) and, within the quota, admits them. */
export async function countReceived(tx: Tx, tenantId: string, inboxIds: string[], day: string, maxPerDay: number | null | undefined): Promise<boolean> {
  const n = inboxIds.length
  if (maxPerDay != null) {
    const rows = await rawRows(
      tx,
      sql`insert into usage_daily (tenant_id, day, inbox_id, messages_received) values (${tenantId}, ${day}, ${NIL_UUID}, ${n})
          on conflict (tenant_id, day, inbox_id) do update set messages_received = usage_daily.messages_received + excluded.messages_received
          where usage_daily.messages_received + excluded.messages_received <= ${maxPerDay}
          returning 1`,
    )
    if (rows.length === 0 || n > maxPerDay) return false
  } else {
    await bump(tx, tenantId, NIL_UUID, day, 'messages_received', n)
  }
  for (const inboxId of [...inboxIds].sort()) await bump(tx, tenantId, inboxId, day, 'messages_received', 1)
  return true
}

export async function countSent(tx: Tx, tenantId: string, inboxId: string, day: string, n = 1): Promise<void> {
  await bump(tx, tenantId, NIL_UUID, day, 'messages_sent', n)
  await bump(tx, tenantId, inboxId, day, 'messages_sent', n)
}

/**
 * Moves the stored-bytes gauges (tenant total and per inbox) and today's snapshot of them. With a
 * quota, growth that would cross it is refused atomically (returns false, nothing changes).
 *
 * Lock order, the same in every transaction that touches usage: storage_usage (tenant row, then
 * inboxes by id), then usage_daily (tenant row, then inboxes by id). No two writers deadlock.
 */
export async function addStoredBytes(
  tx: Tx,
  tenantId: string,
  perInbox: { inboxId: string; bytes: number }[],
  tenantDelta: number,
  day: string,
  maxStoredBytes: number | null | undefined,
): Promise<boolean> {
  const totals = await reserveStorage(tx, tenantId, perInbox, tenantDelta, maxStoredBytes)
  if (!totals) return false
  await snapshotStorage(tx, tenantId, totals, day)
  return true
}

/** The storage_usage half of addStoredBytes: the new totals, or null when over the quota. */
export async function reserveStorage(
  tx: Tx,
  tenantId: string,
  perInbox: { inboxId: string; bytes: number }[],
  tenantDelta: number,
  maxStoredBytes: number | null | undefined,
): Promise<Map<string, number> | null> {
  if (maxStoredBytes != null && tenantDelta > maxStoredBytes) return null
  const guard = maxStoredBytes != null && tenantDelta > 0 ? sql`where storage_usage.bytes + excluded.bytes <= ${maxStoredBytes}` : sql``
  const total = await rawRows<{ bytes: string | number }>(
    tx,
    sql`insert into storage_usage (tenant_id, inbox_id, bytes) values (${tenantId}, ${NIL_UUID}, ${tenantDelta})
        on conflict (tenant_id, inbox_id) do update set bytes = greatest(storage_usage.bytes + excluded.bytes, 0) ${guard}
        returning bytes`,
  )
  if (total.length === 0) return null
  const totals = new Map<string, number>([[NIL_UUID, Number(total[0]!.bytes)]])
  for (const { inboxId, bytes } of [...perInbox].sort((a, b) => (a.inboxId < b.inboxId ? -1 : 1))) {
    const [row] = await rawRows<{ bytes: string | number }>(
      tx,
      sql`insert into storage_usage (tenant_id, inbox_id, bytes) values (${tenantId}, ${inboxId}, ${bytes})
          on conflict (tenant_id, inbox_id) do update set bytes = greatest(storage_usage.bytes + excluded.bytes, 0)
          returning bytes`,
    )
    totals.set(inboxId, Number(row!.bytes))
  }
  return totals
}

/** countStoredUnlimited's statement, built once (db/pipeline.ts textTemplate). */
const countStored = textTemplate<'ids' | 'bytes' | 'counts' | 'tenantId' | 'day'>(
  (v) => sql`
    with v as (select * from unnest(${v('ids')}::uuid[], ${v('bytes')}::bigint[], ${v('counts')}::int[]) as v(id, bytes, n)),
    gauges as (
      insert into storage_usage (tenant_id, inbox_id, bytes) select ${v('tenantId')}::uuid, v.id, v.bytes from v order by v.id
      on conflict (tenant_id, inbox_id) do update set bytes = greatest(storage_usage.bytes + excluded.bytes, 0)
      returning inbox_id, bytes)
    insert into usage_daily (tenant_id, day, inbox_id, messages_received, bytes_stored)
    select ${v('tenantId')}::uuid, ${v('day')}::date, v.id, v.n, g.bytes
    from v join gauges g on g.inbox_id = v.id
    order by v.id
    on conflict (tenant_id, day, inbox_id) do update set
      messages_received = usage_daily.messages_received + excluded.messages_received, bytes_stored = excluded.bytes_stored`,
)

/**
 * Counts stored messages for a tenant without a storage or daily quota (nothing can be refused), as
 * one statement for any number of messages: the storage gauges (tenant row first, then inboxes by
 * id), then today's counters and snapshots in the same order, the lock order of every usage writer.
 * The batched form of reserveStorage + countReceived + snapshotStorage, for ingest's group commit.
 */
export function countStoredUnlimited(
  tenantId: string,
  perInbox: Map<string, { bytes: number; messages: number }>,
  tenantBytes: number,
  day: string,
): SQLWrapper {
  const inboxIds = [...perInbox.keys()].sort()
  let tenantMessages = 0
  for (const v of perInbox.values()) tenantMessages += v.messages
  const rows = [
    { id: NIL_UUID, bytes: tenantBytes, messages: tenantMessages },
    ...inboxIds.map((id) => ({ id, bytes: perInbox.get(id)!.bytes, messages: perInbox.get(id)!.messages })),
  ]
  // Array parameters: one statement text for any number of inboxes (one prepared statement).
  return countStored({ ids: rows.map((r) => r.id), bytes: rows.map((r) => r.bytes), counts: rows.map((r) => r.messages), tenantId, day })
}

/** Today's usage_daily snapshot of the gauges (tenant row first: NIL_UUID sorts first). */
export async function snapshotStorage(tx: Tx, tenantId: string, totals: Map<string, number>, day: string): Promise<void> {
  for (const [inboxId, bytes] of [...totals].sort(([a], [b]) => (a < b ? -1 : 1))) await snapshot(tx, tenantId, inboxId, day, bytes)
}

async function snapshot(tx: Tx, tenantId: string, inboxId: string, day: string, bytes: number) {
  await tx.execute(sql`
    insert into usage_daily (tenant_id, day, inbox_id, bytes_stored) values (${tenantId}, ${day}, ${inboxId}, ${bytes})
    on conflict (tenant_id, day, inbox_id) do update set bytes_stored = excluded.bytes_stored`)
}

/**
 * Marks keys used (each at most moving forward), one statement for any number of a tenant's keys. No
 * FROM clause: on Citus an UPDATE joined to a set of values runs on every shard if its plan is
 * generic; this one stays on its tenant's shard with any plan (Mailroom's Citus database plans every
 * statement with its values anyway: db/migrate.ts).
 */
const touchKeys = textTemplate<'tenantId' | 'ids' | 'ms'>(
  // The times as epoch milliseconds (bigint[]: postgres.js serializes no timestamptz[] parameter).
  (v) => {
    const at = sql`to_timestamp((${v('ms')}::bigint[])[array_position(${v('ids')}::uuid[], k.id)] / 1000.0)`
    return sql`
    update api_keys k set last_used_at = ${at}
    where k.tenant_id = ${v('tenantId')}::uuid and k.id = any(${v('ids')}::uuid[]) and (k.last_used_at is null or k.last_used_at < ${at})`
  },
)

/**
 * API requests are counted in memory and written once a second (and on stop): one upsert per
 * tenant/inbox/day instead of a write per request. Keys used go with them (their `last_used_at`),
 * instead of a transaction of their own at a request.
 */
export class ApiRequestMeter {
  private pending = new Map<string, number>()
  /** Keys used since the last flush, by their own tenant: when each was last used. */
  private keysUsed = new Map<string, Map<string, Date>>()
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  record(tenantId: string, inboxId: string | null, day: string): void {
    const key = `${tenantId}|${inboxId ?? NIL_UUID}|${day}`
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1)
  }

  /** A key of the tenant was used at `at`: its last_used_at, written with the next flush. */
  keyUsed(tenantId: string, keyId: string, at: Date): void {
    let keys = this.keysUsed.get(tenantId)
    if (!keys) this.keysUsed.set(tenantId, (keys = new Map()))
    const was = keys.get(keyId)
    if (!was || was < at) keys.set(keyId, at)
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.flush(), intervalMs)
    this.timer.unref()
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0 && this.keysUsed.size === 0) return
      const batch = this.pending
      const keysUsed = this.keysUsed
      this.pending = new Map()
      this.keysUsed = new Map()
      const byTenant = new Map<string, { inboxId: string; day: string; n: number }[]>()
      for (const tenantId of keysUsed.keys()) byTenant.set(tenantId, [])
      for (const [key, n] of batch) {
        const [tenantId, inboxId, day] = key.split('|') as [string, string, string]
        const list = byTenant.get(tenantId) ?? []
        list.push({ inboxId, day, n })
        byTenant.set(tenantId, list)
      }
      for (const [tenantId, list] of byTenant) {
        const keys = keysUsed.get(tenantId)
        try {
          await withTenant(this.database, { tenantId }, async (tx) => {
            // Tenant rows first, then inboxes by id: the lock order every usage writer keeps.
            const byDay = new Map<string, number>()
            for (const { day, n } of list) byDay.set(day, (byDay.get(day) ?? 0) + n)
            for (const [day, n] of byDay) await bump(tx, tenantId, NIL_UUID, day, 'api_requests', n)
            const inboxRows = list.filter((x) => x.inboxId !== NIL_UUID).sort((a, b) => (a.inboxId < b.inboxId ? -1 : 1))
            for (const { inboxId, day, n } of inboxRows) await bump(tx, tenantId, inboxId, day, 'api_requests', n)
            if (keys) await pipelined(tx, [touchKeys({ tenantId, ids: [...keys.keys()], ms: [...keys.values()].map((d) => d.getTime()) })])
          })
        } catch (err) {
          if (isConnectionError(err) || isConflict(err)) {
            // The database is away, or rolled this flush back to break a deadlock (with a tenant's
            // deletion): the counts wait for the next flush instead of being lost.
            for (const { inboxId, day, n } of list) {
              const key = `${tenantId}|${inboxId}|${day}`
              this.pending.set(key, (this.pending.get(key) ?? 0) + n)
            }
            for (const [keyId, at] of keys ?? []) this.keyUsed(tenantId, keyId, at)
            continue
          }
          // A tenant deleted meanwhile: its counts go with it. Anything else is worth a line.
          if (!isMissingReference(err)) this.log.warn('usage flush failed', { tenantId, err: String(err) })
        }
      }
    })
    return this.flushing
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flush()
  }
}

interface UsageSum {
  tenant_id: string | null
  inbox_id: string | null
  day: string | null
  received: string | number
  sent: string | number
  api: string | number
  stored: string | number
}

/**
 * The caller's and its descendants' usage between two days, grouped. RLS already limits the rows
 * to the caller's subtree; the statements name it too (`subtreeRows`). Stored bytes are the gauge on the last day of the range that has one.
 */
export async function usageReport(tx: Tx, from: string, to: string, groupBy: 'tenant' | 'inbox' | 'day') {
  const inboxFilter = groupBy === 'inbox' ? sql`inbox_id <> ${NIL_UUID}` : sql`inbox_id = ${NIL_UUID}`
  const groupCols = groupBy === 'day' ? sql`day` : groupBy === 'inbox' ? sql`tenant_id, inbox_id` : sql`tenant_id`
  const subtree = await subtreeRows(tx, usageDaily.tenantId)
  const rows = await rawRows<UsageSum>(
    tx,
    sql`
    with r as (
      select *, row_number() over (partition by tenant_id, inbox_id order by day desc) as latest
      from usage_daily where ${subtree} and day between ${from}::date and ${to}::date and ${inboxFilter}
    )
    select sum(messages_received) as received, sum(messages_sent) as sent, sum(api_requests) as api,
           ${groupBy === 'day' ? sql`sum(bytes_stored)` : sql`sum(case when latest = 1 then bytes_stored else 0 end)`} as stored,
           ${groupBy === 'day' ? sql`null::uuid` : sql`min(tenant_id::text)::uuid`} as tenant_id,
           ${groupBy === 'inbox' ? sql`min(inbox_id::text)::uuid` : sql`null::uuid`} as inbox_id,
           ${groupBy === 'day' ? sql`min(day)::text` : sql`null::text`} as day
    from r group by ${groupCols} order by ${groupCols}`,
  )
  const data: UsageRow[] = rows.map((r) => ({
    tenantId: r.tenant_id ? toPublicId('tenant', r.tenant_id) : null,
    inboxId: r.inbox_id ? toPublicId('inbox', r.inbox_id) : null,
    day: r.day,
    messagesReceived: Number(r.received),
    messagesSent: Number(r.sent),
    apiRequests: Number(r.api),
    bytesStored: Number(r.stored),
  }))
  const [t] = await rawRows<{ received: string | number; sent: string | number; api: string | number; stored: string | number }>(
    tx,
    sql`
    with r as (
      select *, row_number() over (partition by tenant_id order by day desc) as latest
      from usage_daily where ${subtree} and day between ${from}::date and ${to}::date and inbox_id = ${NIL_UUID}
    )
    select coalesce(sum(messages_received), 0) as received, coalesce(sum(messages_sent), 0) as sent,
           coalesce(sum(api_requests), 0) as api, coalesce(sum(case when latest = 1 then bytes_stored else 0 end), 0) as stored
    from r`,
  )
  return {
    data,
    total: { messagesReceived: Number(t!.received), messagesSent: Number(t!.sent), apiRequests: Number(t!.api), bytesStored: Number(t!.stored) },
  }
}
