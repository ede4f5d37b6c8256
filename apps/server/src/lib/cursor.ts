// Opaque keyset cursors for newest-first lists, on (timestamp, id). The timestamp travels as epoch
// microseconds, Postgres' own precision: a JS Date (milliseconds) would skip rows that share a
// millisecond with a page's last row.
import { and, eq, lt, or, sql, type SQL } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'

export interface CursorPosition {
  /** epoch microseconds, as a decimal string */
  at: string
  id: string
}

/** Select this beside a row to build its cursor. */
export const microsOf = (col: AnyPgColumn | SQL) => sql<string>`(extract(epoch from ${col}) * 1000000)::bigint::text`

/** Rows strictly after `p` in (col desc, idCol desc) order. */
export function after(col: AnyPgColumn, idCol: AnyPgColumn, p: CursorPosition | null): SQL | undefined {
  if (!p) return undefined
  const t = sql`(timestamptz 'epoch' + ${p.at}::bigint * interval '1 microsecond')`
  return or(lt(col, t), and(eq(col, t), lt(idCol, p.id)))
}

export function encodeCursor(p: CursorPosition): string {
  return Buffer.from(JSON.stringify([p.at, p.id])).toString('base64url')
}

/** null when the cursor is not one we issued. */
export function decodeCursor(s: string): CursorPosition | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null
    if (!/^-?\d{1,18}$/.test(v[0]) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v[1])) return null
    return { at: v[0], id: v[1] }
  } catch {
    return null
  }
}

/** Given limit+1 items, the page and the cursor of its last item when more exist. */
export function pageOf<R extends { at: string; id: string }>(items: R[], limit: number) {
  const more = items.length > limit
  const data = more ? items.slice(0, limit) : items
  const last = data[data.length - 1]
  return { items: data, nextCursor: more && last ? encodeCursor({ at: last.at, id: last.id }) : null }
}
