// Applies the committed SQL migrations (which also create the runtime roles and their grants).
import { fileURLToPath } from 'node:url'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { sql } from 'drizzle-orm'
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import type { Database } from './client.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Run as the owner. Safe to call concurrently from several processes (advisory lock). */
export async function migrate(database: Database, opts: { runtimePassword?: string } = {}): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER })
  } else {
    const db = database.db as unknown as PostgresJsDatabase
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(727274)`)
      await migratePg(tx as unknown as PostgresJsDatabase, { migrationsFolder: MIGRATIONS_FOLDER })
    })
  }
  if (opts.runtimePassword) {
    await database.db.execute(sql.raw(`ALTER ROLE mailroom_app PASSWORD '${opts.runtimePassword.replaceAll("'", "''")}'`))
  }
}
