// Many rows in one statement with few parameters: the rows travel as a JSON array and Postgres
// unpacks them with json_to_recordset. For the hot insert path of ingest, where building and
// serialising a parameter per column per row (about sixty per message) cost more of Node's main
// thread than the statement itself. bytea columns stay out of the JSON: each is one bytea[]
// parameter, sent in binary (the raw message and the sealed fields as they are, not base64 that
// both sides would encode, escape, parse and decode again), zipped with the JSON rows by
// ROWS FROM. The columns, names and types come from the Drizzle table; row-level security applies
// as to any INSERT. The statement text is built once per shape (table, columns, extras) and kept:
// only the parameters differ between calls.
import { getTableColumns, getTableName, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

/** The bytea OID and the bytea[] OID. */
const BYTEA = 17
export const BYTEA_ARRAY = 1001

/**
 * One bytea[] parameter. postgres.js gets it as binary() with the type bytea[] (its patch sends a
 * Uint8Array parameter in binary format); a driver that takes arrays (PGlite) gets `values`.
 */
export class ByteaArray {
  constructor(readonly values: (Uint8Array | null)[]) {}

  /** array_send's format: dimensions, null flag, element type, size and lower bound, then each value's length (-1: null) and bytes. */
  binary(): Uint8Array {
    const n = this.values.length
    let size = n === 0 ? 12 : 20
    for (const v of this.values) size += 4 + (v?.length ?? 0)
    const out = Buffer.allocUnsafe(size)
    out.writeInt32BE(n === 0 ? 0 : 1, 0)
    out.writeInt32BE(this.values.some((v) => v == null) ? 1 : 0, 4)
    out.writeInt32BE(BYTEA, 8)
    let at = 12
    if (n > 0) {
      out.writeInt32BE(n, 12)
      out.writeInt32BE(1, 16)
      at = 20
    }
    for (const v of this.values) {
      out.writeInt32BE(v == null ? -1 : v.length, at)
      at += 4
      if (v != null) {
        out.set(v, at)
        at += v.length
      }
    }
    return out
  }
}

/** How a statement's text marks its parameters: $1, $2, ... */
export const PARAMETER = /\$(\d+)/g

/** A statement with its final text and parameters (pipelined() sends it as it is). */
export class TextStatement implements SQLWrapper {
  constructor(
    readonly text: string,
    readonly params: unknown[],
  ) {}
  /** The same statement as Drizzle SQL (for drivers without pipelining, such as PGlite). */
  getSQL(): SQL {
    const parts = this.text.split(PARAMETER)
    const chunks: SQL[] = []
    // Each value one parameter (an array too; a ByteaArray stays one, for pipeline.ts to hand on).
    for (const [i, part] of parts.entries()) chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${sql.param(this.params[Number(part) - 1])}`)
    return sql.join(chunks)
  }
}

interface Column {
  key: string
  name: string
  bytea: boolean
  type: string
  /** Not a column: a value extra expressions use (BulkInput, by name). */
  input?: true
}
interface Shape {
  columns: Column[]
  /** The columns that travel in the JSON, and the bytea ones that travel as bytea[] parameters ($2, $3, ...). */
  inJson: Column[]
  binary: Column[]
  text: string
}
const shapes = new Map<string, Shape>()

/** A value in the JSON rows that is no column: for `extra` expressions to use (as x.name). */
export interface BulkInput {
  name: string
  /** Its SQL type in json_to_recordset. */
  type: string
  /** The value for the i-th row. */
  of(i: number): unknown
}

function shapeOf(table: PgTable, keys: string[], extra: { name: string; expr: string }[], returning: string, inputs: BulkInput[] = []): Shape {
  const cacheKey = `${getTableName(table)}|${keys.join(',')}|${extra.map((e) => `${e.name}=${e.expr}`).join(',')}|${returning}|${inputs.map((i) => `${i.name} ${i.type}`).join(',')}`
  let shape = shapes.get(cacheKey)
  if (shape) return shape
  const overridden = new Set(extra.map((e) => e.name))
  const all = getTableColumns(table)
  const columns = keys
    .map((key) => ({ key, c: all[key]! }))
    .filter(({ c }) => !overridden.has(c.name))
    .map(({ key, c }) => ({ key, name: c.name, bytea: c.getSQLType() === 'bytea', type: c.getSQLType() }))
  const names = [...columns.map((c) => c.name), ...extra.map((e) => e.name)].map(ident).join(', ')
  const selects = [...columns.map((c) => `x.${ident(c.name)}`), ...extra.map((e) => e.expr)].join(', ')
  const inJson = [...columns.filter((c) => !c.bytea), ...inputs.map((i) => ({ key: i.name, name: i.name, bytea: false, type: i.type, input: true as const }))]
  const binary = columns.filter((c) => c.bytea)
  const defs = inJson.map((c) => `${ident(c.name)} ${c.type}`).join(', ')
  // bytea columns: one bytea[] parameter each ($2, $3, ...), zipped with the JSON rows in order.
  const source = binary.length
    ? `rows from (json_to_recordset($1::json) as (${defs}), ${binary.map((_, k) => `unnest($${k + 2}::bytea[])`).join(', ')}) as x(${[...inJson, ...binary].map((c) => ident(c.name)).join(', ')})`
    : `json_to_recordset($1::json) as x(${defs})`
  const text = `insert into ${ident(getTableName(table))} (${names}) select ${selects} from ${source}${returning ? ` returning ${returning}` : ''}`
  shape = { columns, inJson, binary, text }
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
  opts: { extra?: { name: string; expr: string }[]; returning?: string; inputs?: BulkInput[] } = {},
): TextStatement {
  const first = (rows[0] ?? {}) as Record<string, unknown>
  const keys = Object.keys(getTableColumns(table)).filter((key) => first[key] !== undefined)
  const shape = shapeOf(table, keys, opts.extra ?? [], opts.returning ?? '', opts.inputs)
  if (valuesInserts) {
    if (opts.inputs?.length) throw new Error('bulkInsert: inputs are not supported in multi-row VALUES (Citus)')
    return valuesInsert(table, shape, opts.extra ?? [], opts.returning ?? '', rows as Record<string, unknown>[])
  }
  // (The shape is cached: each call's inputs are looked up by name, never kept in it.)
  const inputs = new Map((opts.inputs ?? []).map((x) => [x.name, x]))
  const json = JSON.stringify(
    rows.map((r, i) => {
      const o: Record<string, unknown> = {}
      for (const c of shape.inJson) {
        const v = c.input ? inputs.get(c.name)!.of(i) : (r as Record<string, unknown>)[c.key]
        o[c.name] = v == null ? null : v instanceof Date ? v.toISOString() : v
      }
      return o
    }),
  )
  const binary = shape.binary.map((c) => new ByteaArray(rows.map((r) => ((r as Record<string, unknown>)[c.key] as Uint8Array | null | undefined) ?? null)))
  return new TextStatement(shape.text, [json, ...binary])
}
