// What a server's tenant transactions ran on real Postgres, and which of those statements read a
// tenant table without naming their tenant: the check Citus makes (a statement that does not name
// its tenant runs on every shard; db/scope.ts ownRows), made without Citus. Every statement a tenant
// transaction sent (openPostgres's onStatement: BEGIN, the binding, each statement, COMMIT, per
// connection) is kept, one per text; each is then planned again with its own values under its
// tenant, and every scan of a distributed table (one with tenant_id, as db/citus.ts classifies them)
// must read it by a constant tenant: `tenant_id = '<uuid>'` or `tenant_id = ANY ('{...}')` in its
// condition. The statements are planned past row-level security: Citus routes by the statement's
// values, never by a policy. Postgres carries a constant through a join on tenant_id to the other
// table's scan (its equivalence classes), as Citus prunes the joined table's shards by it. What runs
// inside a function called by a statement is not seen here.
import postgres from 'postgres'
import { classifyTables } from '../../src/db/citus.js'

interface Recorded {
  tenant: string
  text: string
  params: readonly unknown[]
  /** The values' types as the driver sent them (0: left to the server). */
  types: readonly number[]
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Alias?: string
  Plans?: PlanNode[]
  [key: string]: unknown
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
/** A condition that names a constant tenant (or constant tenants). */
const PINNED = new RegExp(`\\btenant_id = (?:'${UUID}'::uuid|ANY \\('\\{(?:${UUID},?)+\\}'::uuid\\[\\]\\))`)
/** The conditions a scan's plan node may carry. */
const CONDITIONS = ['Index Cond', 'Recheck Cond', 'Filter', 'TID Cond'] as const
/** Statements EXPLAIN takes. */
const EXPLAINABLE = /^\s*(select|insert|update|delete|with)\b/i

const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)]

export class TenantStatements {
  /** Per connection in a transaction: the tenant it is bound to (null: not bound yet). */
  private readonly open = new Map<number, string | null>()
  /** The first statement of each text a tenant transaction sent. */
  private readonly recorded = new Map<string, Recorded>()

  /** For openPostgres's onStatement. */
  readonly onStatement = (connection: number, text: string, params: readonly unknown[], types: readonly number[] = []): void => {
    const head = text.trimStart().slice(0, 64).toLowerCase()
    if (head.startsWith('begin')) return void this.open.set(connection, null)
    if (head.startsWith('commit') || (head.startsWith('rollback') && !head.startsWith('rollback to'))) return void this.open.delete(connection)
    if (!this.open.has(connection)) return
    if (head.startsWith("select set_config('app.tenant_id', $1")) return void this.open.set(connection, String(params[0]))
    const set = new RegExp(`^set local app\\.tenant_id = '(${UUID})'`).exec(text.trimStart())
    if (set) return void this.open.set(connection, set[1]!)
    const tenant = this.open.get(connection)
    if (typeof tenant !== 'string' || !EXPLAINABLE.test(text) || this.recorded.has(text)) return
    this.recorded.set(text, { tenant, text, params: [...params], types: [...types] })
  }

  /** How many distinct statements tenant transactions have sent so far. */
  get size(): number {
    return this.recorded.size
  }

  /**
   * Each statement recorded since the last call, planned with its values (on `ownerUrl`'s database,
   * as a role that row-level security does not bind, a superuser: nothing is written): what each one
   * read of a distributed table without a constant tenant, one line each (empty: every read names
   * its tenant).
   */
  async unpinned(ownerUrl: string): Promise<string[]> {
    const statements = [...this.recorded.values()]
    this.recorded.clear()
    const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} })
    try {
      const tables = await classifyTables((text) => sql.unsafe(text) as unknown as Promise<Record<string, unknown>[]>)
      const distributed = new Set(tables.filter((t) => t.kind === 'distributed').map((t) => t.name))
      const found: string[] = []
      for (const s of statements) {
        const shown = s.text.replace(/\s+/g, ' ').slice(0, 240)
        let plan: PlanNode
        try {
          plan = await sql.begin(async (tx) => {
            // Planned past row-level security: a policy's condition would carry a constant tenant
            // from one table to another (the same current_setting() expression on both sides joins
            // their equivalence classes), which Citus's routing does not.
            await tx.unsafe('set local row_security = off')
            await tx.unsafe(`select set_config('app.tenant_id', $1, true)`, [s.tenant])
            // Each value with the type it was sent with (an array of bytea is no bytea).
            const values = s.params.map((v, i) => (s.types[i] ? sql.typed(v as never, s.types[i]!) : v)) as postgres.ParameterOrJSON<never>[]
            const [row] = await tx.unsafe(`explain (format json) ${s.text}`, values)
            return (row!['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan
          })
        } catch (err) {
          found.push(`could not be planned again (${(err as Error).message}): ${shown}`)
          continue
        }
        for (const node of nodesOf(plan)) {
          const table = node['Relation Name']
          if (!table || !distributed.has(table) || node['Node Type'] === 'ModifyTable') continue
          const conditions = CONDITIONS.map((c) => node[c]).filter((c): c is string => typeof c === 'string')
          if (!conditions.some((c) => PINNED.test(c))) {
            found.push(`${table} (${node['Node Type']}${conditions.length ? `: ${conditions.join(' / ')}` : ''}) read without its tenant by: ${shown}`)
          }
        }
      }
      return found
    } finally {
      await sql.end({ timeout: 5 })
    }
  }
}
