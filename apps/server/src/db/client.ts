// Opening the database: real Postgres (postgres.js) or embedded PGlite, behind one shape.
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import postgres from 'postgres'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { SQLWrapper } from 'drizzle-orm'
import { DbGate } from './gate.js'
import { FairQueue } from '../lib/fair-queue.js'
import { DatabaseUnavailable, DbHealth, isConnectionError } from './health.js'
import { postgresListener, reconnectBackoff } from './listener.js'

export type Db = PgDatabase<PgQueryResultHKT>
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
  /**
   * A Citus coordinator (db/citus.ts): tenant settings are then sent as SET LOCAL, which Citus
   * forwards to the workers a transaction reaches (citus.propagate_set_commands, set by migrate).
   */
  citus?: boolean
  /**
   * On a Citus coordinator, for tests: a statement of a tenant's transaction that would run on
   * every shard (one that does not name its tenant: see db/scope.ts ownRows) fails instead
   * (citus.multi_task_query_log_level = error, set with the tenant's binding).
   */
  routerOnly?: boolean
  /**
   * A second, small pool for single statements outside any transaction (real Postgres as the
   * runtime role only): the narrow lookups every RCPT and request begins with take one round trip
   * there instead of three (BEGIN, the statement, COMMIT). No transaction is ever opened on it, so
   * postgres.js's pooling cannot mix one in (db/scope.ts); the main pool keeps every transaction.
   * `turns`: lookups wait there by key (an API key, the SMTP door), keys taking turns, a few at once.
   */
  single?: { db: Db; turns: FairQueue }
  /** Hands out the pool's connections, tenants taking turns (db/gate.ts). */
  gate: DbGate
  /** Whether the database can be reached (db/health.ts). */
  health: DbHealth
  /**
   * LISTEN on a dedicated connection; returns the function that stops listening. `onReconnect`
   * runs after the connection was lost and listens again (notifications in between are lost);
   * `onDisconnect` when it is lost (never on PGlite, in-process).
   */
  listen(channel: string, onPayload: (payload: string) => void, onReconnect?: () => void, onDisconnect?: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

export interface PostgresOptions {
  url: string
  max?: number
  runtime: boolean
  /** Connections one tenant may hold at once (default: half the pool). */
  perTenant?: number
  /**
   * Told of every statement the main pool sends, as it is sent (postgres.js `debug`): its connection's
   * number, its text, its values and their types (0: left to the server). For tests that check what
   * tenant transactions run.
   */
  onStatement?: (connection: number, text: string, params: readonly unknown[], types: readonly number[]) => void
}

export function openPostgres({ url, max = 10, runtime, perTenant, onStatement }: PostgresOptions): Database {
  const options = (max: number) => ({
    max,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
    // postgres.js waits up to 20 s between connection attempts after repeated failures: after an
    // outage the pool would come back that late. At most a second here.
    backoff: reconnectBackoff,
    connection: { application_name: runtime ? 'mailroom' : 'mailroom-admin' },
  })
  const sql = postgres(url, { ...options(max), ...(onStatement ? { debug: onStatement } : {}) })
  const single = runtime ? postgres(url, options(2)) : null
  // One listening connection per process, opened on first use.
  let listener: ReturnType<typeof postgresListener> | null = null
  const health = new DbHealth({
    // In a transaction like every statement here (db/scope.ts: none on postgres.js's shared pool).
    probe: async () => {
      await sql.begin((tx) => tx`select 1`)
    },
  })
  return {
    kind: 'postgres',
    db: drizzlePg(sql) as unknown as Db,
    // Two connections, each pipelining a couple of lookups: four at once, keys taking turns.
    ...(single ? { single: { db: drizzlePg(single) as unknown as Db, turns: new FairQueue(4) } } : {}),
    url,
    sessionIsRuntimeRole: runtime,
    gate: new DbGate({ slots: max, perKey: Math.min(max, perTenant ?? Math.max(1, Math.ceil(max / 2))) }),
    health,
    async listen(channel, onPayload, onReconnect, onDisconnect) {
      listener ??= postgresListener(url)
      return listener.listen(channel, onPayload, onReconnect, onDisconnect)
    },
    async close() {
      health.stop()
      await Promise.all([sql.end({ timeout: 5 }), single?.end({ timeout: 5 }), listener?.close()])
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
    db: drizzlePglite(pg) as unknown as Db,
    sessionIsRuntimeRole: false,
    // One transaction at a time runs in PGlite anyway: the gate decides whose is next. No request is
    // shed for the embedded store (a development database has no deadline to protect).
    gate: new DbGate({ slots: 1, perKey: 1, ignoreDeadlines: true, maxQueuePerKey: Number.POSITIVE_INFINITY }),
    // In-process: it cannot become unreachable.
    health: new DbHealth({ probe: async () => {} }),
    async listen(channel, onPayload) {
      const unsub = await pg.listen(channel, onPayload)
      return async () => unsub()
    },
    async close() {
      await pg.close()
    },
  }
}

/**
 * Runs `work` on `database` holding a connection for `key` (a tenant): after its turn at the gate,
 * failing at once while the database is known to be down, and turning a lost or refused
 * connection into DatabaseUnavailable (503 / SMTP 451) for the callers.
 */
export async function onConnection<T>(database: Database, key: string, work: () => Promise<T>): Promise<T> {
  database.health.check()
  return database.gate.run(key, () => unavailableOnLoss(database, work))
}

/** `work`, a lost or refused connection turned into DatabaseUnavailable (and told to the health check). */
export async function unavailableOnLoss<T>(database: Database, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    database.health.failed(err)
    if (isConnectionError(err) && !(err instanceof DatabaseUnavailable)) throw new DatabaseUnavailable(err)
    throw err
  }
}

/** The Postgres error code behind a driver or drizzle error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  return pgErrorIn(err)?.code
}

/** The message Postgres gave with that code (a RAISE's text, say), if any. */
export function pgErrorMessage(err: unknown): string | undefined {
  return pgErrorIn(err)?.message
}

function pgErrorIn(err: unknown): { code: string; message: string } | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { code, message: String((e as { message?: unknown }).message ?? '') }
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
export async function rawRows<T>(db: Pick<Db, 'execute'>, query: SQLWrapper): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(res) ? res : res.rows
}
