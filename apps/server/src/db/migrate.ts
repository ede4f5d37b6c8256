// Applies the committed SQL migrations (which also create the runtime roles and their grants).
import { fileURLToPath } from 'node:url'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import type { Database } from './client.js'
import { citusTables, distributeSchema, isCitusCoordinator, type SqlRunner } from './citus.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Run as the owner. Safe to call concurrently from several processes (advisory lock). */
export async function migrate(database: Database, opts: { runtimePassword?: string } = {}): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER })
  } else {
    // One connection holds a session lock for the whole run, so concurrent starts queue up.
    const conn = postgres(database.url!, { max: 1, onnotice: () => {} })
    try {
      await conn`select pg_advisory_lock(727274)`
      const run: SqlRunner = (text) => conn.unsafe(text) as unknown as Promise<Record<string, unknown>[]>
      if (await isCitusCoordinator(run)) await migrateCitus(conn, run)
      else await migratePg(drizzle(conn), { migrationsFolder: MIGRATIONS_FOLDER })
    } finally {
      await conn.end({ timeout: 5 })
    }
  }
  if (opts.runtimePassword) {
    await database.db.execute(sql.raw(`ALTER ROLE mailroom_app PASSWORD '${opts.runtimePassword.replaceAll("'", "''")}'`))
  }
}

/**
 * On a Citus coordinator. A schema Citus does not know yet (a new cluster) is migrated as on plain
 * Postgres, then distributed (src/db/citus.ts: tenant tables by tenant_id, colocated; global tables
 * as reference tables; keys added back, policies and triggers carried along). Once distributed, each
 * pending migration runs statement by statement and a table it creates is distributed right after
 * its CREATE TABLE, before the statements that add its keys, policies and triggers. The applied
 * migrations are recorded where drizzle records them, so either path can follow the other.
 */
async function migrateCitus(conn: postgres.Sql, run: SqlRunner): Promise<void> {
  // withTenant's SET LOCAL app.tenant_id / app.inbox_id must reach the shards' policies; a
  // transaction that touched several shards of a tenant table may then write a reference table
  // (tenants) only if it did so over one connection per node. And every prepared statement is
  // planned with its values (plan_cache_mode): from its sixth run on a connection Postgres may keep a
  // generic plan, and Citus prunes shards in one only for the simplest statements (one table, the
  // tenant's value a parameter: "deferred pruning"); the thread growth of the ingest and of a send
  // (an UPDATE joined to a set of values) then ran on every shard, or was refused where multi-shard
  // statements are (test/db/citus-routing.test.ts, through a pool of one connection).
  for (const [name, value] of [
    ['citus.propagate_set_commands', 'local'],
    ['citus.multi_shard_modify_mode', 'sequential'],
    ['plan_cache_mode', 'force_custom_plan'],
  ]) {
    await run(`do $$ begin execute format('alter database %I set ${name} = %L', current_database(), '${value}'); end $$`)
  }
  // The SECURITY DEFINER lookups run as mailroom_lookup, and Citus reaches the workers as the
  // current user: it must be allowed to log in there (it has no password; the cluster's
  // authentication between nodes decides, as for every other role). The migrations create it, so
  // on a new cluster this comes after them.
  const lookupLogin = () => run(`alter role mailroom_lookup login`)
  if ((await citusTables(run)).size === 0) {
    await migratePg(drizzle(conn), { migrationsFolder: MIGRATIONS_FOLDER })
    await lookupLogin()
    await distributeSchema(run)
    return
  }
  await lookupLogin()
  await run(`set citus.enable_unsafe_triggers = on`)
  const [last] = await run(`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`)
  const pending = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).filter((m) => !last || Number(last.created_at) < m.folderMillis)
  // With nothing pending too: finishes a distribution a run before stopped half-way, drops what a
  // migration left that must not stay on a cluster (idempotent; each migration below ends with it).
  if (pending.length === 0) await distributeSchema(run)
  for (const m of pending) {
    for (const stmt of m.sql) {
      if (stmt.trim() === '') continue
      await run(stmt)
      if (/\bcreate\s+table\b/i.test(stmt)) await distributeSchema(run)
    }
    await distributeSchema(run)
    await conn`insert into drizzle.__drizzle_migrations (hash, created_at) values (${m.hash}, ${m.folderMillis})`
  }
}
