// Many rows in one statement with one parameter: the rows travel as a JSON array and Postgres
// unpacks them with json_to_recordset. For the hot insert path of ingest, where building and
// serialising a parameter per column per row (about sixty per message) cost more of Node's main
// thread than the statement itself. The columns, names and types come from the Drizzle table;
// bytea travels base64-encoded; row-level security applies as to any INSERT. The statement text
// is built once per shape (table, columns, extras) and kept: only the JSON differs between calls.
import { getTableColumns, getTableName, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

/** A statement with its final text and parameters (pipelined() sends it as it is). */
export class TextStatement implements SQLWrapper {
  constructor(
    readonly text: string,
    readonly params: unknown[],
  ) {}
  /** The same statement as Drizzle SQL (for drivers without pipelining, such as PGlite). */
  getSQL(): SQL {
    const parts = this.text.split(/\$(\d+)/)
    const chunks: SQL[] = []
    for (const [i, part] of parts.entries()) chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${this.params[Number(part) - 1]}`)
    return sql.join(chunks)
  }
}

interface Shape {
  columns: { key: string; name: string; bytea: boolean; type: string }[]
  text: string
}
const shapes = new Map<string, Shape>()

function shapeOf(table: PgTable, keys: string[], extra: { name: string; expr: string }[], returning: string): Shape {
  const cacheKey = `${getTableName(table)}|${keys.join(',')}|${extra.map((e) => `${e.name}=${e.expr}`).join(',')}|${returning}`
  let shape = shapes.get(cacheKey)
  if (shape) return shape
  const overridden = new Set(extra.map((e) => e.name))
  const all = getTableColumns(table)
  const columns = keys
    .map((key) => ({ key, c: all[key]! }))
    .filter(({ c }) => !overridden.has(c.name))
    .map(({ key, c }) => ({ key, name: c.name, bytea: c.getSQLType() === 'bytea', type: c.getSQLType() }))
  const names = [...columns.map((c) => c.name), ...extra.map((e) => e.name)].map(ident).join(', ')
  const selects = [...columns.map((c) => (c.bytea ? `decode(x.${ident(c.name)}, 'base64')` : `x.${ident(c.name)}`)), ...extra.map((e) => e.expr)].join(', ')
  const defs = columns.map((c) => `${ident(c.name)} ${c.bytea ? 'text' : c.type}`).join(', ')
  const text = `insert into ${ident(getTableName(table))} (${names}) select ${selects} from json_to_recordset($1::json) as x(${defs})${returning ? ` returning ${returning}` : ''}`
  shape = { columns, text }
  shapes.set(cacheKey, shape)
  return shape
}

/**
 * On Citus an INSERT ... SELECT from anything but a colocated table is pulled to the coordinator and
 * written to the shards with COPY, which row-level security refuses: there, the same rows go as one
 * multi-row INSERT ... VALUES (a parameter per value) that Citus routes row by row. Set once per
 * process when the stores open (db/open.ts).
 */
let valuesInserts = false
export function useValuesInserts(on: boolean): boolean {
  const was = valuesInserts
  valuesInserts = on
  return was
}

function valuesInsert(table: PgTable, shape: Shape, extra: { name: string; expr: string }[], returning: string, rows: Record<string, unknown>[]): TextStatement {
  const names = [...shape.columns.map((c) => c.name), ...extra.map((e) => e.name)].map(ident).join(', ')
  const params: unknown[] = []
  const tuples = rows.map((r) => {
    const cells = shape.columns.map((c) => {
      const v = r[c.key]
      params.push(v == null ? null : c.type === 'jsonb' || c.type === 'json' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : v)
      return `$${params.length}::${c.type}`
    })
    return `(${[...cells, ...extra.map((e) => e.expr)].join(', ')})`
  })
  const text = `insert into ${ident(getTableName(table))} (${names}) values ${tuples.join(', ')}${returning ? ` returning ${returning}` : ''}`
  return new TextStatement(text, params)
}

/**
 * insert into table (...) select ... from json_to_recordset($rows): every column of the table
 * that the first row has a value for (undefined: the column's default), plus `extra` columns set
 * by an SQL expression (constant text, no parameters) instead; `returning`: a RETURNING list.
 */
export function bulkInsert<T extends PgTable>(
  table: T,
  rows: Partial<T['$inferInsert']>[],
  opts: { extra?: { name: string; expr: string }[]; returning?: string } = {},
): TextStatement {
  const first = (rows[0] ?? {}) as Record<string, unknown>
  const keys = Object.keys(getTableColumns(table)).filter((key) => first[key] !== undefined)
  const shape = shapeOf(table, keys, opts.extra ?? [], opts.returning ?? '')
  if (valuesInserts) return valuesInsert(table, shape, opts.extra ?? [], opts.returning ?? '', rows as Record<string, unknown>[])
  const json = JSON.stringify(
    rows.map((r) => {
      const o: Record<string, unknown> = {}
      for (const c of shape.columns) {
        const v = (r as Record<string, unknown>)[c.key]
        o[c.name] = v == null ? null : c.bytea ? (v as Buffer).toString('base64') : v instanceof Date ? v.toISOString() : v
      }
      return o
    }),
  )
  return new TextStatement(shape.text, [json])
}
