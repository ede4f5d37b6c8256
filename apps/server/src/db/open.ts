// Opens the stores for a process: the owner connection (migrations, operator listing) and the
// runtime connection (everything else, as mailroom_app). On PGlite both are the same handle.
import { sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import { openPglite, openPostgres, rawRows, type Database } from './client.js'
import { migrate } from './migrate.js'
import { useValuesInserts } from './bulk.js'
import { echoNotifications, NOTIFICATION_ECHO_MS } from './echo.js'
import { lockDataDir, type DataDirLock } from '../lib/data-dir-lock.js'
import type { Logger } from '../lib/log.js'

export interface Stores {
  runtime: Database
  owner: Database
  embedded: boolean
  /** Embedded only: this process's hold on MAILROOM_DATA_DIR (PGlite is single-process). */
  lock?: DataDirLock
  close(): Promise<void>
}

export class StartupError extends Error {}

function describeConnectError(url: string, err: unknown): string {
  const u = new URL(url)
  let inner: unknown = err
  while (inner && typeof inner === 'object' && 'cause' in inner && (inner as { cause?: unknown }).cause) inner = (inner as { cause: unknown }).cause
  const code = (inner as { code?: string }).code
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    ETIMEDOUT: 'timed out',
    CONNECT_TIMEOUT: 'timed out',
    '3D000': 'no such database',
    '28P01': 'password authentication failed',
  }
  const reason = (code && reasons[code]) ?? String((inner as Error).message ?? inner).split('\n')[0]
  return `cannot reach the database at ${u.hostname}:${u.port || 5432}/${u.pathname.slice(1)} as ${decodeURIComponent(u.username) || 'default user'}: ${reason}`
}

async function ping(database: Database, url: string): Promise<void> {
  try {
    await database.db.execute(sql`select 1`)
  } catch (err) {
    await database.close().catch(() => {})
    throw new StartupError(describeConnectError(url, err))
  }
}

/**
 * Tells the databases whether they are a Citus coordinator's, and sets what changes there: tenant
 * settings travel as SET LOCAL, rows go in as VALUES lists, and every notification is heard again a
 * moment later (db/echo.ts: it can come before what it announces is visible on the workers).
 */
export function useCoordinator(databases: readonly Database[], citus: boolean, log?: Logger): void {
  const onError = (err: unknown) => log?.error('a notification heard again: its handler failed', { err: String((err as Error)?.stack ?? err) })
  for (const d of databases) {
    d.citus = citus
    if (citus) d.listen = echoNotifications(d.listen, NOTIFICATION_ECHO_MS, onError)
  }
  useValuesInserts(citus)
}

/** Whether the database is a Citus coordinator (tenant settings then travel as SET LOCAL). */
export async function onCitus(database: Database): Promise<boolean> {
  const rows = await rawRows<{ citus: boolean }>(database.db, sql`select exists (select 1 from pg_extension where extname = 'citus') as citus`)
  return rows[0]?.citus === true
}

export async function openStores(config: Config, opts: { migrate?: boolean; poolSize?: number; command?: string; log?: Logger } = {}): Promise<Stores> {
  const doMigrate = opts.migrate ?? true
  if (!config.databaseUrl) {
    // Before the files are opened: a second process must not touch them (lib/data-dir-lock.ts).
    const lock = lockDataDir(config.dataDir, opts.command ?? 'start')
    try {
      const db = await openPglite(config.dataDir)
      if (doMigrate) await migrate(db)
      return { runtime: db, owner: db, embedded: true, lock, close: () => db.close().finally(() => lock.release()) }
    } catch (err) {
      lock.release()
      throw err
    }
  }
  const owner = openPostgres({ url: config.databaseUrl, max: 2, runtime: false })
  await ping(owner, config.databaseUrl)
  if (doMigrate) await migrate(owner, config.runtimeDbPassword ? { runtimePassword: config.runtimeDbPassword } : {})
  const runtime = openPostgres({ url: config.runtimeDatabaseUrl!, max: opts.poolSize ?? 10, runtime: true })
  try {
    await ping(runtime, config.runtimeDatabaseUrl!)
    useCoordinator([runtime, owner], await onCitus(owner), opts.log)
  } catch (err) {
    await owner.close()
    throw err
  }
  return {
    runtime,
    owner,
    embedded: false,
    async close() {
      await Promise.all([runtime.close(), owner.close()])
    },
  }
}
