// Newest-first pages of a table, keyed on (a timestamp, id): the one query every list endpoint runs.
// Reads limit+1 rows to know whether a next page exists; the cursor is the last row's position.
import { and, desc, type SQL } from 'drizzle-orm'
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { Tx } from './client.js'
import { ownRows, subtreeRows } from './scope.js'
import { after as afterPos, microsOf, pageOf, type CursorPosition } from '../lib/cursor.js'

export interface Page<R> {
  rows: R[]
  nextCursor: string | null
}

/**
 * One page of `table`, newest first by `by` (default its `createdAt`), ties broken by id, after the
 * cursor position; `where` narrows it. Row-level security applies as to every query in `tx`. A table
 * of tenant rows is read for the transaction's own tenant (`ownRows`: on Citus, its shard alone), or
 * with `descendants` for it and the tenants below it (`subtreeRows`: the audit log).
 */
export async function newestFirst<T extends PgTable & { id: AnyPgColumn; createdAt?: AnyPgColumn; tenantId?: AnyPgColumn }>(
  tx: Tx,
  table: T,
  o: { limit: number; after: CursorPosition | null; where?: SQL | undefined; by?: AnyPgColumn; descendants?: boolean },
): Promise<Page<T['$inferSelect']>> {
  const by = o.by ?? table.createdAt!
  const own = !table.tenantId ? undefined : o.descendants ? await subtreeRows(tx, table.tenantId) : ownRows(tx, table.tenantId)
  const rows = (await tx
    .select({ row: table as PgTable, at: microsOf(by) })
    .from(table as PgTable)
    .where(and(own, o.where, afterPos(by, table.id, o.after)))
    .orderBy(desc(by), desc(table.id))
    .limit(o.limit + 1)) as unknown as { row: T['$inferSelect'] & { id: string }; at: string }[]
  const page = pageOf(rows.map((r) => ({ ...r, id: r.row.id })), o.limit)
  return { rows: page.items.map((i) => i.row), nextCursor: page.nextCursor }
}
