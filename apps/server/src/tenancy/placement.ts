// Dedicated infrastructure for one tenant on Citus (issue 20): its rows (and its descendants') moved
// to shards of their own (isolate_tenant_to_new_shard: every colocated table at once), those shards
// moved to a named worker (citus_move_shard_placement); writes to the shards being copied wait for
// the copy (SPLIT_MODE, MOVE_MODE below).
// Operator only (CLI and operator API), as the owner role: the runtime role has no say in placement.
import { sql } from 'drizzle-orm'
import { rawRows, type Database } from '../db/client.js'
import { ServiceError } from '../errors.js'

/** Any distributed table: colocated tables share shard boundaries and placements. */
const ANCHOR = 'inboxes'

/**
 * Both steps copy with writes to the shards being copied held back ('block_writes'): Citus 13.2's
 * online transfers ('force_logical') cannot carry Mailroom's writes. The online split stalls for good
 * once a row is UPDATEd meanwhile (its apply worker fails on "publisher did not send replica identity
 * column", citusdata/citus#6790), and Mailroom updates rows (usage, threads) with every message; the
 * online move replicates as a role Citus creates without superuser, which Postgres 15 forbids to
 * write into a table with row-level security enabled, and every tenant table has it forced. Writes
 * wait while the shards are copied, then go on: SMTP answers 250 only after the commit (or 4xx, to
 * try again), so the mail arriving meanwhile is late, never lost. The split holds back the tenants
 * sharing the shard for its copy; the move, only the isolated tenant.
 */
const SPLIT_MODE = 'block_writes'
const MOVE_MODE = 'block_writes'

export interface TenantPlacement {
  /** The worker holding the tenant's rows (`host:port`). */
  node: string
  /** The tenant's shard of the anchor table (its colocated shards sit beside it). */
  shardId: string
  /** True when the shard holds this tenant alone (isolated), false when tenants share it. */
  dedicated: boolean
}

export interface NodeAddress {
  host: string
  port: number
}

export function parseNode(value: string): NodeAddress {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value.trim())
  const port = m ? Number(m[2]) : 0
  if (!m || port < 1 || port > 65535) throw new ServiceError('validation_error', `node: expected host:port, got ${JSON.stringify(value)}`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
}

async function isCitus(owner: Database): Promise<boolean> {
  const [row] = await rawRows<{ on: boolean }>(owner.db, sql`select exists (select 1 from pg_extension where extname = 'citus') as on`)
  return row?.on === true
}

/** Where a tenant's rows live, or null when the database is not Citus. Needs the owner role. */
export async function tenantPlacement(owner: Database, tenantId: string): Promise<TenantPlacement | null> {
  if (owner.citus === false || !(await isCitus(owner))) return null
  const [row] = await rawRows<{ shard: string; node: string; port: number; min: string; max: string }>(
    owner.db,
    sql`select s.shardid::text as shard, n.nodename as node, n.nodeport as port, s.shardminvalue as min, s.shardmaxvalue as max
        from pg_dist_shard s join pg_dist_placement p on p.shardid = s.shardid join pg_dist_node n on n.groupid = p.groupid
        where s.shardid = get_shard_id_for_distribution_column(${ANCHOR}::regclass, ${tenantId}::uuid) and n.noderole = 'primary'
        limit 1`,
  )
  if (!row) return null
  return { node: `${row.node}:${row.port}`, shardId: row.shard, dedicated: row.min === row.max }
}

/** The tenant and every descendant (the operator's view: mailroom_admin_tenants, as `tenant list`). */
async function treeOf(owner: Database, tenantId: string): Promise<string[]> {
  const rows = await rawRows<{ id: string; parent_id: string | null }>(owner.db, sql`select id, parent_id from mailroom_admin_tenants()`)
  if (!rows.some((r) => r.id === tenantId)) throw new ServiceError('not_found', 'tenant not found')
  const out = [tenantId]
  for (let i = 0; i < out.length; i++) for (const r of rows) if (r.parent_id === out[i]) out.push(r.id)
  return out
}

export interface DedicationStep {
  tenantId: string
  isolated: boolean
  moved: boolean
  placement: TenantPlacement
}

/**
 * Isolates the tenant and its descendants to shards of their own and moves them to `node` (a worker
 * already in the cluster). Idempotent: a tenant already alone on its shard is not split again, a
 * shard already on the node is not moved. Mail keeps arriving meanwhile: its writes wait for each
 * copy, and SMTP answers once they are committed.
 */
export async function dedicateTenant(owner: Database, tenantId: string, node: NodeAddress, onStep?: (s: DedicationStep) => void): Promise<DedicationStep[]> {
  if (!(await isCitus(owner))) throw new ServiceError('conflict', 'dedicated placement needs a Citus cluster (README, Scaling out)')
  const [target] = await rawRows<{ n: number }>(
    owner.db,
    sql`select count(*)::int as n from pg_dist_node where nodename = ${node.host} and nodeport = ${node.port} and noderole = 'primary' and isactive and shouldhaveshards`,
  )
  if (!target || target.n === 0) throw new ServiceError('validation_error', `node: ${node.host}:${node.port} is not an active worker of this cluster (citus_add_node first)`)
  const steps: DedicationStep[] = []
  for (const id of await treeOf(owner, tenantId)) {
    let placement = (await tenantPlacement(owner, id))!
    let isolated = false
    if (!placement.dedicated) {
      await owner.db.execute(sql`select isolate_tenant_to_new_shard(${ANCHOR}, ${id}::uuid, 'CASCADE', shard_transfer_mode => ${sql.raw(`'${SPLIT_MODE}'`)})`)
      isolated = true
      placement = (await tenantPlacement(owner, id))!
    }
    let moved = false
    if (placement.node !== `${node.host}:${node.port}`) {
      const [from, port] = [placement.node.slice(0, placement.node.lastIndexOf(':')), Number(placement.node.slice(placement.node.lastIndexOf(':') + 1))]
      await owner.db.execute(
        sql`select citus_move_shard_placement(${placement.shardId}::bigint, ${from}, ${port}, ${node.host}, ${node.port}, shard_transfer_mode => ${sql.raw(`'${MOVE_MODE}'`)})`,
      )
      moved = true
      placement = (await tenantPlacement(owner, id))!
    }
    const step = { tenantId: id, isolated, moved, placement }
    steps.push(step)
    onStep?.(step)
  }
  return steps
}
