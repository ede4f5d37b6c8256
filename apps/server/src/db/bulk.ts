// Many rows in one statement with one parameter: the rows travel as a JSON array and Postgres
// unpacks them with json_to_recordset. For the hot insert path of ingest, where building and
// serialising a parameter per column per row (about sixty per message) cost more of Node's main
// thread than the statement itself. The columns, names and types come from the Drizzle table;
// bytea travels base64-encoded; row-level security applies as to any INSERT.
import { getTableColumns, sql, type SQL } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

/**
 * insert into table (...) select ... from json_to_recordset($rows): every column of the table
 * that the first row has a value for (undefined: the column's default), plus `extra` columns set
 * by an SQL expression instead.
 */
export function bulkInsert<T extends PgTable>(
  table: T,
  rows: Partial<T['$inferInsert']>[],
  extra: { name: string; expr: SQL }[] = [],
): SQL {
  const overridden = new Set(extra.map((e) => e.name))
  const first = (rows[0] ?? {}) as Record<string, unknown>
  const columns = Object.entries(getTableColumns(table))
    .filter(([key, c]) => first[key] !== undefined && !overridden.has(c.name))
    .map(([key, c]) => ({ key, name: c.name, type: c.getSQLType() }))
  const json = JSON.stringify(
    rows.map((r) => {
      const o: Record<string, unknown> = {}
      for (const c of columns) {
        const v = (r as Record<string, unknown>)[c.key]
        o[c.name] = v == null ? null : c.type === 'bytea' ? (v as Buffer).toString('base64') : v instanceof Date ? v.toISOString() : v
      }
      return o
    }),
  )
  const names = [...columns.map((c) => c.name), ...extra.map((e) => e.name)].map(ident).join(', ')
  const defs = columns.map((c) => `${ident(c.name)} ${c.type === 'bytea' ? 'text' : c.type}`).join(', ')
  const selects = sql.join(
    [...columns.map((c) => sql.raw(c.type === 'bytea' ? `decode(x.${ident(c.name)}, 'base64')` : `x.${ident(c.name)}`)), ...extra.map((e) => e.expr)],
    sql`, `,
  )
  return sql`insert into ${table} (${sql.raw(names)}) select ${selects} from json_to_recordset(${json}::json) as x(${sql.raw(defs)})`
}
