// The one door to tenant data: a transaction bound to a tenant (and optionally an inbox).
import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { onConnection, rawRows, unavailableOnLoss, type Database, type Tx } from './client.js'
import { isConnectionError } from './health.js'
import { answeredAfterCommit, preparedRows, textTemplate, unansweredFailure } from './pipeline.js'
import { TextStatement } from './bulk.js'

export interface TenantScope {
  /** Internal uuid of the tenant. */
  tenantId: string
  /** Internal uuid of the inbox, for inbox-scoped (inbox key) requests. */
  inboxId?: string | null
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Runs `fn` in one transaction as the runtime role with `app.tenant_id` (and `app.inbox_id`) set
 * locally, so row-level security confines every statement to that tenant. Handler code has no
 * other path to tenant-owned tables.
 */
export async function withTenant<T>(database: Database, scope: TenantScope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withTenantPipelined(database, scope, async (tx, bind) => {
    for (const statement of bind) await tx.execute(statement)
    return fn(tx)
  })
}

/**
 * withTenant for a hot path whose first statements go as one pipeline: the tenant is not bound
 * before `fn` runs; `fn` gets the statements that bind it and must send them first, in the
 * pipeline of its own first statements (one round trip less than withTenant). A statement sent
 * before them fails closed: without app.tenant_id every policy hides every row and refuses every
 * write.
 */
export async function withTenantPipelined<T>(database: Database, scope: TenantScope, fn: (tx: Tx, bind: SQLWrapper[]) => Promise<T>, opts: BindingOptions = {}): Promise<T> {
  const bind = [
    ...(database.sessionIsRuntimeRole ? [] : [SET_ROLE]),
    ...tenantBinding(scope, database.citus === true, opts),
    ...(database.citus && database.routerOnly ? [ROUTER_ONLY] : []),
  ]
  return onConnection(database, scope.tenantId, () =>
    transaction(database, (tx) => {
      boundTo.set(tx, scope.tenantId)
      return fn(tx, bind)
    }),
  )
}

/** The tenant each open tenant transaction is bound to (rebindTenant moves it). */
const boundTo = new WeakMap<Tx, string>()

/**
 * The tenant a transaction opened by withTenant (or moved by rebindTenant) is bound to, as a value,
 * with no round trip: for statements that must name their tenant as a constant (on Citus a row lock
 * or an UPDATE that is to stay on one shard group needs `tenant_id = <constant>`, which the
 * policies' current_setting() is not).
 */
export function tenantOf(tx: Tx): string {
  const tenantId = boundTo.get(tx)
  if (tenantId === undefined) throw new Error('tenantOf: not a tenant transaction')
  return tenantId
}

/**
 * `column` (a table's tenant_id) equal to the transaction's tenant. Row-level security already keeps
 * every other tenant's rows out; named in the statement as well, it lets a Citus coordinator send the
 * statement to the tenant's shard alone instead of to every shard (it routes by the distribution
 * column's value in the statement, never by a policy). Every statement of a tenant transaction on a
 * distributed table names it so.
 */
export const ownRows = (tx: Tx, column: PgColumn): SQL => eq(column, tenantOf(tx))

/**
 * `column` (a table's tenant_id) within the transaction's tenant and its descendants, for the reads
 * that row-level security lets span the subtree (the audit log, usage, approvals). The subtree is
 * read first (the tenants table is copied to every node) and named as one array value: on Citus the
 * statement then runs on those tenants' shards only (one, for a tenant without descendants), which a
 * subquery would not do.
 */
export async function subtreeRows(tx: Tx, column: PgColumn): Promise<SQL> {
  const me = tenantOf(tx)
  const ids = await rawRows<{ id: string }>(tx, sql`select id from tenants where id = ${me}::uuid or ${me}::uuid = any(ancestors)`)
  return sql`${column} = any(${`{${ids.map((r) => r.id).join(',')}}`}::uuid[])`
}

/** For a transaction bound to another tenant by hand (the ingest committer's later tenants). */
export function boundToTenant(tx: Tx, tenantId: string): void {
  boundTo.set(tx, tenantId)
}

/**
 * Read-only statements under a tenant in one round trip: BEGIN, the binding, the statements and
 * COMMIT go together (withTenantPipelined and answeredAfterCommit); the rows each returned, in
 * order. For the few reads on a hot path that need nothing else of their transaction.
 */
export async function readAsTenant(database: Database, scope: TenantScope, statements: (SQLWrapper | null | undefined | false)[]): Promise<Record<string, unknown>[][]> {
  let bound = 0
  const box = await withTenantPipelined(database, scope, (tx, bind) => {
    bound = bind.length
    return answeredAfterCommit(tx, [...bind, ...statements])
  })
  return (await box.answers).slice(bound)
}

/**
 * Runs `fn` as the runtime role with no tenant set: only the narrow SECURITY DEFINER lookups
 * (`mailroom_authenticate`, `mailroom_route`) return anything here. `key` names whose turn it is
 * at the connection gate (default: one line shared by all such lookups).
 */
export async function withoutTenant<T>(database: Database, fn: (tx: Tx) => Promise<T>, key = '-'): Promise<T> {
  return onConnection(database, key, () =>
    transaction(database, async (tx) => {
      if (!database.sessionIsRuntimeRole) await tx.execute(SET_ROLE)
      return fn(tx)
    }),
  )
}

/**
 * What a tenant transaction says of its change once the code making it has checked the caller, for
 * the triggers and policies that otherwise refuse such a change bound to the tenant itself:
 * `delete_root` (a top-level tenant deleted by the operator, migration 0029), `operator` (a top-level
 * tenant's status, limits or imposed policies, 0037), `sending_manager` (a tenant's sending resumed or
 * pooled by an ancestor or the operator, 0038), `rule_setter_checked` (a sender rule removed by its
 * setter, one above it or the operator, 0039). SET LOCAL: for the rest of the transaction, and
 * forwarded to the nodes a Citus transaction reaches. Any session of the runtime role could say it:
 * these stop a mistake in another code path, not a hostile session.
 */
export type CheckedChange = 'delete_root' | 'operator' | 'sending_manager' | 'rule_setter_checked'

export async function sayChecked(tx: Tx, change: CheckedChange): Promise<void> {
  await tx.execute(sql.raw(`set local app.${change} = 'on'`))
}

/**
 * A transaction with the operator's rights, for the reads no tenant may make (the list of top-level
 * tenants: mailroom_admin_root_tenants, granted to the owner alone): on the owner's connection on
 * real Postgres; on the embedded store in its one session (the owner's too) at its turn at the gate,
 * without the runtime role. Only for requests made with the operator key.
 */
export async function asOperator<T>(database: Database, owner: Database | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const on = owner ?? (database.kind === 'pglite' ? database : null)
  if (!on) throw new Error('asOperator: no owner connection')
  return onConnection(on, 'operator', () => transaction(on, fn))
}

/**
 * A transaction, tried again once when its connection turns out dead at BEGIN (a pooled connection
 * whose backend was terminated or restarted): nothing of it ran, so nothing can run twice. On
 * Postgres `fn`'s first statements go behind the BEGIN without waiting for it (the postgres.js
 * patch), so `fn` may have started; a BEGIN that failed failed them too and is marked
 * `transactionNotBegun`. A connection lost after the BEGIN went through fails the caller, who decides.
 */
async function transaction<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let began: Tx | null = null
    try {
      const out = await database.db.transaction((tx) => {
        began = tx
        return fn(tx)
      })
      // Writes sent with the COMMIT (pipeline.ts beforeCommit): one that failed rolled it back.
      const failed = await unansweredFailure(began!)
      if (failed !== undefined) throw failed
      return out
    } catch (err) {
      const notBegun = !began || (err as { transactionNotBegun?: boolean })?.transactionNotBegun === true
      if (notBegun && attempt < 1 && isConnectionError(err)) continue
      // A statement after a failed beforeCommit() write only says the transaction is aborted.
      throw (began ? await unansweredFailure(began) : undefined) ?? err
    }
  }
}

/**
 * Re-binds an open tenant transaction to another tenant. Only for the few operations that must
 * write under two tenants atomically (a parent creating a child and its first key); callers must
 * have proven the target is the current tenant's descendant first.
 */
export async function rebindTenant(tx: Tx, scope: TenantScope): Promise<void> {
  // SET LOCAL works everywhere (and is what Citus forwards): rare enough for the second round trip.
  for (const statement of tenantBinding(scope, true)) await tx.execute(statement)
  boundTo.set(tx, scope.tenantId)
}

/**
 * The statements that set app.tenant_id / app.inbox_id for the rest of a transaction. On Citus SET
 * LOCAL statements (forwarded to every worker the transaction reaches; set_config() would stay on
 * the coordinator, and the shards' policies would see no tenant); elsewhere one statement. The ids
 * are checked to be uuids here, so they are safe to write into the statement.
 */
export interface BindingOptions {
  /**
   * For the rest of the transaction, every prepared statement runs its cached generic plan
   * (plan_cache_mode; messages/ingest/group-commit.ts says why), and a plan made in it reads tables
   * by their indexes (enable_seqscan off), set in the binding's own statement. Not on Citus.
   * A generic plan outlives the statistics it was made with: one made while a table was small would
   * read all of it (a seq scan) long after it had grown, until the next ANALYZE. For statements that
   * find rows by key, which is all a transaction bound so should run; a statement with no index to
   * use is still planned, with its seq scan.
   */
  genericPlans?: boolean
}

export function tenantBinding(scope: TenantScope, citus: boolean, opts: BindingOptions = {}): SQLWrapper[] {
  if (!UUID.test(scope.tenantId) || (scope.inboxId && !UUID.test(scope.inboxId))) {
    throw new Error('tenant binding: tenantId/inboxId must be uuids')
  }
  if (citus) return [sql.raw(`set local app.tenant_id = '${scope.tenantId}'`), sql.raw(`set local app.inbox_id = '${scope.inboxId ?? ''}'`)]
  const values = { tenantId: scope.tenantId, inboxId: scope.inboxId ?? '' }
  return [opts.genericPlans ? bindingWithPlans(values) : binding(values)]
}

// Texts built once (db/pipeline.ts textTemplate): every transaction sends one.
const bindingSql = (v: (name: 'tenantId' | 'inboxId') => SQL) => sql`select set_config('app.tenant_id', ${v('tenantId')}, true), set_config('app.inbox_id', ${v('inboxId')}, true)`
const binding = textTemplate<'tenantId' | 'inboxId'>(bindingSql)
const bindingWithPlans = textTemplate<'tenantId' | 'inboxId'>((v) => sql`${bindingSql(v)}, set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)`)
const SET_ROLE = new TextStatement('set local role mailroom_app', [])
const ROUTER_ONLY = new TextStatement("set local citus.multi_task_query_log_level = 'error'", [])

/**
 * One statement of withoutTenant (a narrow SECURITY DEFINER lookup). Never outside a transaction on
 * the main pool: statements sent to postgres.js's shared pool while other requests open
 * transactions on it can leave a BEGIN on a connection the pool then hands to someone else
 * (postgres.js 3.4.9, issues #823 / #1189: UNSAFE_TRANSACTION at best, another request's statements
 * inside that transaction at worst). Where the database has a pool that never opens a transaction
 * (`single`, real Postgres as the runtime role), the statement goes there alone, in one round trip,
 * prepared (planned once per connection, not at every request: db/pipeline.ts preparedRows; not on
 * Citus);
 * otherwise in a transaction of its own on the main pool.
 */
export async function lookupWithoutTenant<T>(database: Database, query: SQL, key?: string): Promise<T[]> {
  const single = database.single
  if (single) {
    // As the runtime role already, on the pool that never holds a transaction: one round trip.
    database.health.check()
    // Not on Citus: a plan the coordinator caches names shards, which a tenant's move to a worker of
    // its own drops ("could not find valid entry for shard").
    const run = database.citus ? () => rawRows<T>(single.db, query) : () => preparedRows<T>(single.db, query)
    return single.turns.run(key ?? '-', () => unavailableOnLoss(database, run))
  }
  return withoutTenant(database, (tx) => rawRows<T>(tx, query), key)
}
