// The shared Citus test database (MAILROOM_TEST_CITUS_URL): emptied before the run and after each file.
import { sql } from 'drizzle-orm'
import { rawRows, type Database } from '@mailroom/server/src/db/client.js'

/** Every table of the shared Citus database emptied (files run one at a time there: vitest.config.ts). */
export async function emptyCitusDatabase(owner: Database): Promise<void> {
  const rows = await rawRows<{ name: string }>(owner.db, sql`select c.relname as name from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'`)
  if (rows.length > 0) await owner.db.execute(sql.raw(`truncate ${rows.map((r) => `"${r.name}"`).join(', ')} cascade`))
}
