// Many rows in one statement with one parameter: the rows travel as a JSON array and Postgres
// unpacks them with json_to_recordset. For the hot insert path of ingest, where building and
// serialising a parameter per column per row (about sixty per message) cost more of Node's main
// thread than the statement itself. bytea travels base64-encoded; row-level security applies as
// to any INSERT.
import { sql, type SQL } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

export interface BulkColumn<R> {
  /** column name in the table */
  name: string
  /** its Postgres type (bytea columns are decoded from base64) */
  type: 'uuid' | 'text' | 'text[]' | 'integer' | 'bigint' | 'boolean' | 'jsonb' | 'timestamptz' | 'bytea'
  value: (row: R) => unknown
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

/** insert into table (columns) select ... from json_to_recordset($rows) [returning ...] */
export function bulkInsert<R>(table: PgTable, columns: BulkColumn<R>[], rows: R[], extra: { name: string; expr: SQL }[] = []): SQL {
  const json = JSON.stringify(
    rows.map((r) => {
      const o: Record<string, unknown> = {}
      for (const c of columns) {
        const v = c.value(r)
        o[c.name] = c.type === 'bytea' && v != null ? (v as Buffer).toString('base64') : c.type === 'timestamptz' && v instanceof Date ? v.toISOString() : v
      }
      return o
    }),
  )
  const names = [...columns.map((c) => c.name), ...extra.map((e) => e.name)].map(ident).join(', ')
  const defs = columns.map((c) => `${ident(c.name)} ${c.type === 'bytea' ? 'text' : c.type}`).join(', ')
  const selects = sql.join(
    [
      ...columns.map((c) => sql.raw(c.type === 'bytea' ? `decode(x.${ident(c.name)}, 'base64')` : `x.${ident(c.name)}`)),
      ...extra.map((e) => e.expr),
    ],
    sql`, `,
  )
  return sql`insert into ${table} (${sql.raw(names)}) select ${selects} from json_to_recordset(${json}::json) as x(${sql.raw(defs)})`
}
