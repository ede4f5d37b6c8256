// Opaque keyset cursors for newest-first lists: (created_at, id).
export interface CursorPosition {
  createdAt: Date
  id: string
}

export function encodeCursor(p: CursorPosition): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString('base64url')
}

/** null when the cursor is not one we issued. */
export function decodeCursor(s: string): CursorPosition | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null
    const createdAt = new Date(v[0])
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(v[1])) return null
    return { createdAt, id: v[1] }
  } catch {
    return null
  }
}

/** Given limit+1 rows, the page and the cursor of its last row when more exist. */
export function pageOf<R extends { createdAt: Date; id: string }>(rows: R[], limit: number) {
  const more = rows.length > limit
  const data = more ? rows.slice(0, limit) : rows
  const last = data[data.length - 1]
  return { rows: data, nextCursor: more && last ? encodeCursor(last) : null }
}
