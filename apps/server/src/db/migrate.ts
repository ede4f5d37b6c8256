// Applies the committed SQL migrations (which also create the runtime roles and their grants).
import { fileURLToPath } from 'node:url'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import type { Database } from './client.js'

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
      await migratePg(drizzle(conn), { migrationsFolder: MIGRATIONS_FOLDER })
    } finally {
      await conn.end({ timeout: 5 })
    }
  }
  if (opts.runtimePassword) {
    await database.db.execute(sql.raw(`ALTER ROLE mailroom_app PASSWORD '${opts.runtimePassword.replaceAll("'", "''")}'`))
  }
}
