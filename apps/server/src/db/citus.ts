// Citus (issue 20): which tables are distributed by tenant_id and which are reference tables, the
// catalog check that keeps the schema distributable (run in CI on plain Postgres and PGlite by
// test/db/citus-compat.test.ts), and the distribution step `mailroom migrate` runs on a coordinator.

/** Runs one SQL text and returns its rows (postgres.js `unsafe`, or drizzle + rawRows in tests). */
export type SqlRunner = (text: string) => Promise<Record<string, unknown>[]>

/**
 * Global routing tables: they hold tenant_id but are unique by something else (an address, a domain
 * name, a key's prefix) because a lookup must find the tenant from it. Reference tables on Citus, so
 * they may hold no foreign key into a tenant table.
 */
export const ROUTING_TABLES: readonly string[] = ['address_routes', 'domain_claims', 'key_routes']

/**
 * Triggers that keep the routing tables' former foreign keys into tenant tables on plain Postgres.
 * On Citus they would reach other nodes from inside a shard, so the distribution step drops them;
 * the services delete routes and claims themselves (a no-op where the triggers already did), and
 * only createApiKey writes a key's route.
 */
export const LOCAL_ONLY_TRIGGERS: readonly { table: string; name: string }[] = [
  { table: 'address_routes', name: 'address_routes_inbox_check' },
  { table: 'domain_claims', name: 'domain_claims_domain_check' },
  { table: 'inboxes', name: 'inboxes_drop_routes' },
  { table: 'domains', name: 'domains_drop_claims' },
  { table: 'key_routes', name: 'key_routes_key_check' },
  { table: 'api_keys', name: 'api_keys_drop_routes' },
]

export type TableKind = 'distributed' | 'reference'

export interface TableClass {
  name: string
  kind: TableKind
}

const IDENT = /^[a-z_][a-z0-9_]*$/

function schemaLiteral(schema: string): string {
  if (!IDENT.test(schema)) throw new Error(`citus: bad schema name ${schema}`)
  return `'${schema}'`
}

/**
 * Every table of the schema, classified: tables holding tenant_id are distributed by it (one
 * colocation group) except the routing tables; `tenants`, the routing tables and tables without
 * tenant_id are reference tables (copied to every node).
 */
export async function classifyTables(run: SqlRunner, schema = 'public'): Promise<TableClass[]> {
  const rows = await run(`
    select c.relname as name,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as has_tenant
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schemaLiteral(schema)} and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname`)
  return rows.map((r) => {
    const name = String(r.name)
    const distributed = r.has_tenant === true && name !== 'tenants' && !ROUTING_TABLES.includes(name)
    return { name, kind: distributed ? 'distributed' : 'reference' }
  })
}

/**
 * What Citus would refuse in this schema, one readable line per construct (empty: distributable):
 * - a tenant table whose primary key does not start with tenant_id, or a unique index / constraint
 *   of a tenant table without tenant_id;
 * - a foreign key from a reference (global) table into a tenant table;
 * - a foreign key between tenant tables that does not hold tenant_id at the same position on both
 *   sides;
 * - a foreign key over tenant_id that sets it to null or a default on delete, or that sets or
 *   cascades it on update;
 * - a row-level security policy with a sub-query, or with an IS [NOT] NULL / IS TRUE-style test or
 *   named argument over an expression: Citus re-parses a new policy from the statement Postgres has
 *   already transformed in place, and fails on those ("unrecognized node type");
 * - a LANGUAGE sql function (not immutable) that takes parameters: Citus cannot plan its queries on
 *   distributed tables ("could not create distributed plan").
 */
export async function findCitusIncompatibilities(run: SqlRunner, schema = 'public'): Promise<string[]> {
  const tables = await classifyTables(run, schema)
  const kind = new Map(tables.map((t) => [t.name, t.kind]))
  const s = schemaLiteral(schema)
  const problems: string[] = []

  const keys = await run(`
    select c.relname as table, i.relname as index, x.indisprimary as primary,
           (select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum = x.indkey[0]) as first,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id'
                   and a.attnum = any (x.indkey::int2[])) as has_tenant
    from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${s} and (x.indisunique or x.indisprimary or x.indisexclusion)`)
  for (const t of tables.filter((t) => t.kind === 'distributed')) {
    const pk = keys.find((k) => k.table === t.name && k.primary === true)
    if (!pk) problems.push(`${t.name}: a tenant table without a primary key (it must start with tenant_id)`)
    else if (pk.first !== 'tenant_id') problems.push(`${t.name}: primary key ${pk.index} does not start with tenant_id`)
  }
  for (const k of keys) {
    if (kind.get(String(k.table)) === 'distributed' && k.has_tenant !== true) {
      problems.push(`${k.table}: unique index ${k.index} without tenant_id (Citus can only enforce it per shard)`)
    }
  }

  const fks = await run(`
    select con.conname as name, src.relname as from, dst.relname as to, con.confdeltype as on_delete, con.confupdtype as on_update,
           array_position(con.conkey, (select a.attnum from pg_attribute a where a.attrelid = con.conrelid and a.attname = 'tenant_id' and not a.attisdropped)) as from_pos,
           array_position(con.confkey, (select a.attnum from pg_attribute a where a.attrelid = con.confrelid and a.attname = 'tenant_id' and not a.attisdropped)) as to_pos
    from pg_constraint con join pg_class src on src.oid = con.conrelid join pg_class dst on dst.oid = con.confrelid
    where con.contype = 'f' and con.connamespace = (select oid from pg_namespace where nspname = ${s})
    order by 1`)
  for (const f of fks) {
    const from = kind.get(String(f.from))
    const to = kind.get(String(f.to))
    const label = `${f.from}: foreign key ${f.name} -> ${f.to}`
    if (from === 'reference' && to === 'distributed') {
      problems.push(`${label}: from a global (reference) table into a tenant table`)
      continue
    }
    if (from === 'distributed' && to === 'distributed' && (f.from_pos === null || f.from_pos !== f.to_pos)) {
      problems.push(`${label}: does not hold tenant_id at the same position on both sides`)
    }
    if (from === 'distributed' && f.from_pos !== null) {
      if (f.on_delete === 'n' || f.on_delete === 'd') problems.push(`${label}: ON DELETE SET NULL/DEFAULT over tenant_id`)
      if (f.on_update === 'n' || f.on_update === 'd' || f.on_update === 'c') problems.push(`${label}: ON UPDATE SET NULL/DEFAULT/CASCADE over tenant_id`)
    }
  }

  const policies = await run(`
    select c.relname as table, p.polname as name, p.polqual::text as qual, p.polwithcheck::text as check
    from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${s} order by 1, 2`)
  for (const p of policies) {
    for (const tree of [p.qual, p.check]) {
      if (typeof tree !== 'string') continue
      const why = policyProblem(tree)
      if (why) {
        problems.push(`${p.table}: policy ${p.name} ${why}`)
        break
      }
    }
  }
  const functions = await run(`
    select p.proname as name from pg_proc p join pg_language l on l.oid = p.prolang
    where p.pronamespace = (select oid from pg_namespace where nspname = ${s}) and l.lanname = 'sql'
      and p.pronargs > 0 and p.provolatile <> 'i' order by 1`)
  for (const f of functions) problems.push(`function ${f.name}: LANGUAGE sql with parameters (Citus cannot plan its queries: write it in PL/pgSQL)`)
  return problems
}

/** Why Citus cannot take a policy, read from its stored expression tree (pg_node_tree text). */
export function policyProblem(tree: string): string | null {
  if (/\{SUBLINK\b/.test(tree)) return 'has a sub-query'
  for (const m of tree.matchAll(/\{(NULLTEST|BOOLEANTEST|NAMEDARGEXPR) :(?:arg|xpr) \{([A-Z_]+)/g)) {
    if (m[2] !== 'VAR' && m[2] !== 'CONST') {
      return `tests ${m[1] === 'NAMEDARGEXPR' ? 'a named argument' : 'IS [NOT] NULL / IS [NOT] TRUE'} over an expression (${m[2]}): compare with = instead (e.g. coalesce(current_setting(...), '') = '')`
    }
  }
  return null
}

/** Whether this database is a Citus coordinator (the extension is installed and has worker nodes). */
export async function isCitusCoordinator(run: SqlRunner): Promise<boolean> {
  const [ext] = await run(`select exists (select 1 from pg_extension where extname = 'citus') as citus`)
  if (ext?.citus !== true) return false
  const [nodes] = await run(`select count(*)::int as n from pg_dist_node where noderole = 'primary' and groupid <> 0`)
  return Number(nodes?.n ?? 0) > 0
}

/** Tables of the public schema Citus already knows (distributed or reference). */
export async function citusTables(run: SqlRunner): Promise<Set<string>> {
  const rows = await run(`
    select c.relname as name from pg_dist_partition p join pg_class c on c.oid = p.logicalrelid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`)
  return new Set(rows.map((r) => String(r.name)))
}

export interface DistributionReport {
  reference: string[]
  distributed: string[]
}

const PENDING_FKS = 'drizzle.mailroom_citus_pending_fks'

/**
 * Makes every table Citus does not know yet a Citus table: reference tables first, then tenant
 * tables distributed by tenant_id in one colocation group (with the tables distributed before, if
 * any). Their foreign keys are set aside first (kept in a table, so a run that stops half-way
 * finishes on the next one) and added back afterwards, once both sides are Citus tables; policies and
 * triggers travel with the tables. The triggers that would reach other nodes from a shard
 * (LOCAL_ONLY_TRIGGERS) are dropped. Idempotent. Runs on one connection (session settings).
 */
export async function distributeSchema(run: SqlRunner): Promise<DistributionReport> {
  const problems = await findCitusIncompatibilities(run)
  if (problems.length > 0) throw new Error(`the schema cannot be distributed by Citus:\n  ${problems.join('\n  ')}`)
  await run(`set citus.enable_unsafe_triggers = on`)
  await run(`create schema if not exists drizzle`)
  await run(`create table if not exists ${PENDING_FKS} (conname text primary key, tbl text not null, def text not null)`)
  const known = await citusTables(run)
  const todo = (await classifyTables(run)).filter((t) => !known.has(t.name))
  const report: DistributionReport = { reference: [], distributed: [] }
  // At every run: a migration may create one on a table distributed before (0034 did).
  for (const t of LOCAL_ONLY_TRIGGERS) await run(`drop trigger if exists ${ident(t.name)} on public.${ident(t.table)}`)
  if (todo.length > 0) {
    const names = `array[${todo.map((t) => `'${t.name}'`).join(', ')}]::text[]`
    const fks = await run(`
      select con.conname, src.relname as tbl, pg_get_constraintdef(con.oid) as def
      from pg_constraint con join pg_class src on src.oid = con.conrelid join pg_class dst on dst.oid = con.confrelid
      where con.contype = 'f' and con.connamespace = 'public'::regnamespace and (src.relname = any (${names}) or dst.relname = any (${names}))`)
    for (const fk of fks) {
      await run(`insert into ${PENDING_FKS} (conname, tbl, def) values (${lit(fk.conname)}, ${lit(fk.tbl)}, ${lit(fk.def)}) on conflict do nothing`)
      await run(`alter table public.${ident(fk.tbl)} drop constraint ${ident(fk.conname)}`)
    }
    for (const t of todo.filter((t) => t.kind === 'reference')) {
      await run(`select create_reference_table('public.${ident(t.name)}')`)
      report.reference.push(t.name)
    }
    const [anchor] = await run(`
      select c.relname as name from pg_dist_partition p join pg_class c on c.oid = p.logicalrelid
      where c.relnamespace = 'public'::regnamespace and p.partmethod = 'h' order by p.colocationid, c.relname limit 1`)
    let colocateWith = anchor ? String(anchor.name) : null
    for (const t of todo.filter((t) => t.kind === 'distributed')) {
      await run(`select create_distributed_table('public.${ident(t.name)}', 'tenant_id', colocate_with => ${lit(colocateWith ?? 'none')})`)
      colocateWith ??= t.name
      report.distributed.push(t.name)
    }
  }
  for (const fk of await run(`select conname, tbl, def from ${PENDING_FKS} order by conname`)) {
    const [exists] = await run(`select count(*)::int as n from pg_constraint where conname = ${lit(fk.conname)} and connamespace = 'public'::regnamespace`)
    if (Number(exists?.n) === 0) await run(`alter table public.${ident(fk.tbl)} add constraint ${ident(fk.conname)} ${String(fk.def)}`)
    await run(`delete from ${PENDING_FKS} where conname = ${lit(fk.conname)}`)
  }
  return report
}

function ident(v: unknown): string {
  const s = String(v)
  if (!IDENT.test(s)) throw new Error(`citus: unexpected identifier ${s}`)
  return s
}

function lit(v: unknown): string {
  return `'${String(v).replaceAll("'", "''")}'`
}
