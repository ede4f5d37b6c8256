// Opening the database: real Postgres (postgres.js) or embedded PGlite, behind one shape.
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import postgres from 'postgres'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { SQL } from 'drizzle-orm'
import * as schema from './schema.js'

export type Schema = typeof schema
export type Db = PgDatabase<PgQueryResultHKT, Schema>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Database {
  kind: 'postgres' | 'pglite'
  db: Db
  /**
   * True when the session itself is the runtime role (real Postgres). On PGlite the session is
   * always the superuser, so each transaction switches with SET LOCAL ROLE.
   */
  sessionIsRuntimeRole: boolean
  /** The connection URL (real Postgres only). */
  url?: string
  /** LISTEN on a dedicated connection; returns the function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

export interface PostgresOptions {
  url: string
  max?: number
  runtime: boolean
}

export function openPostgres({ url, max = 10, runtime }: PostgresOptions): Database {
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
    connection: { application_name: runtime ? 'mailroom' : 'mailroom-admin' },
  })
  return {
    kind: 'postgres',
    db: drizzlePg(sql, { schema }) as unknown as Db,
    url,
    sessionIsRuntimeRole: runtime,
    async listen(channel, onPayload) {
      const sub = await sql.listen(channel, onPayload)
      return async () => sub.unlisten()
    },
    async close() {
      await sql.end({ timeout: 5 })
    },
  }
}

/** Embedded Postgres. `dataDir` undefined: in memory (tests). */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  let pg: PGlite
  if (dataDir) {
    const dir = resolve(dataDir, 'pgdata')
    mkdirSync(dir, { recursive: true })
    pg = await PGlite.create(dir)
  } else {
    pg = await PGlite.create()
  }
  return pgliteDatabase(pg)
}

export function pgliteDatabase(pg: PGlite): Database {
  return {
    kind: 'pglite',
    db: drizzlePglite(pg, { schema }) as unknown as Db,
    sessionIsRuntimeRole: false,
    async listen(channel, onPayload) {
      const unsub = await pg.listen(channel, onPayload)
      return async () => unsub()
    },
    async close() {
      await pg.close()
    },
  }
}

/** The Postgres error code behind a driver or drizzle error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** The constraint name behind a unique or FK violation, if any. */
export function pgConstraint(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const c = (e as { constraint_name?: unknown; constraint?: unknown }).constraint_name ?? (e as { constraint?: unknown }).constraint
    if (typeof c === 'string') return c
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Runs raw SQL and returns its rows: postgres.js answers an array, PGlite `{ rows }`.
 * Column names come back as Postgres spells them (snake_case).
 */
export async function rawRows<T>(db: Pick<Db, 'execute'>, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(res) ? res : res.rows
}
