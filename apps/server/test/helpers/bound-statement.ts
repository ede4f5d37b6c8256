// One statement run as the runtime role bound to a tenant (or to one of its inboxes, as an agent's
// requests are), the way no Mailroom code runs it: for the tests that Postgres itself refuses what
// the API refuses (the triggers and policies of migrations 0037-0040).
import type { SQL } from 'drizzle-orm'
import { pgErrorCode, rawRows, type Database } from '../../src/db/client.js'
import { sayChecked, withTenant, type CheckedChange } from '../../src/db/scope.js'

/**
 * `statement` in a transaction of `database`'s runtime role bound to tenant `tenantId` (a uuid; and
 * to its inbox `inboxId`, when given), saying `checked` first when given: 'ok', or the Postgres
 * error code it failed with. With `rows`, 'ok' also means it returned that many rows (else
 * `rows: <n>`). With `rollback`, what it did is rolled back once it passed (a check that leaves
 * nothing behind: a queued delivery that would go out, say).
 */
export async function boundStatement(database: Database, tenantId: string, statement: SQL, o: { checked?: CheckedChange; rows?: number; inboxId?: string; rollback?: boolean } = {}): Promise<string> {
  const counted = (n: number) => (o.rows === undefined || n === o.rows ? 'ok' : `rows: ${n}`)
  try {
    const n = await withTenant(database, { tenantId, inboxId: o.inboxId ?? null }, async (tx) => {
      if (o.checked) await sayChecked(tx, o.checked)
      const length = (await rawRows(tx, statement)).length
      if (o.rollback) throw new RolledBack(length)
      return length
    })
    return counted(n)
  } catch (err) {
    if (err instanceof RolledBack) return counted(err.rows)
    return pgErrorCode(err) ?? String(err)
  }
}

class RolledBack extends Error {
  constructor(readonly rows: number) {
    super('rolled back')
  }
}
