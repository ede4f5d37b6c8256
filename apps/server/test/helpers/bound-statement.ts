// One statement run as the runtime role bound to a tenant, the way no Mailroom code runs it: for the
// tests that Postgres itself refuses what the API refuses (the triggers of migrations 0037-0039).
import type { SQL } from 'drizzle-orm'
import { pgErrorCode, rawRows, type Database } from '../../src/db/client.js'
import { sayChecked, withTenant, type CheckedChange } from '../../src/db/scope.js'

/**
 * `statement` in a transaction of `database`'s runtime role bound to tenant `tenantId` (a uuid),
 * saying `checked` first when given: 'ok', or the Postgres error code it failed with. With `rows`,
 * 'ok' also means it returned that many rows (else `rows: <n>`).
 */
export async function boundStatement(database: Database, tenantId: string, statement: SQL, o: { checked?: CheckedChange; rows?: number } = {}): Promise<string> {
  try {
    const n = await withTenant(database, { tenantId }, async (tx) => {
      if (o.checked) await sayChecked(tx, o.checked)
      return (await rawRows(tx, statement)).length
    })
    return o.rows === undefined || n === o.rows ? 'ok' : `rows: ${n}`
  } catch (err) {
    return pgErrorCode(err) ?? String(err)
  }
}
