// A database of the benchmark's own: `mailroom_bench_<random>` on the local Postgres, migrated,
// dropped at the end. Or (with --pglite) an in-memory PGlite. Outside vitest, so no template.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { openPglite, openPostgres, type Database } from '../../apps/server/src/db/client.js'
import { migrate } from '../../apps/server/src/db/migrate.js'
import { deriveRuntimeUrl } from '../../apps/server/src/config.js'
import type { Stores } from '../../apps/server/src/db/open.js'
import { assertLoopbackUrl, postgresVersion } from './common.js'

/** The admin URL: a user that may create databases (and the runtime role, on first migrate). */
export const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.MAILROOM_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface BenchDatabase {
  /** Human-readable: which engine, which version, which database. */
  describe: string
  /** Owner URL of the fresh database (Postgres only): hand it to a child server as DATABASE_URL. */
  ownerUrl: string | undefined
  /** Database name (Postgres only). */
  name: string | undefined
  /** Drops the database (Postgres) . Idempotent. */
  drop(): Promise<void>
}

/** Creates an empty database (not migrated: a child server migrates it on start). */
export async function createEmptyDatabase(): Promise<BenchDatabase> {
  assertLoopbackUrl(ADMIN_URL, 'BENCH_DATABASE_URL')
  const name = `mailroom_bench_${randomBytes(5).toString('hex')}`
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    // BENCH_KEEP_DB=1 keeps the database for a look afterwards (EXPLAIN, pg_stat_user_tables).
    if (process.env.BENCH_KEEP_DB === '1') console.error(`BENCH_KEEP_DB: kept database ${name}`)
    else await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end({ timeout: 5 })
  }
  onExit(drop)
  return { describe: `real Postgres ${postgresVersion(ADMIN_URL)} at ${url.host}, database ${name}`, ownerUrl: url.toString(), name, drop }
}

export interface InProcessStores extends Stores {
  describe: string
  /** Owner URL of the bench database (Postgres only). */
  ownerUrl: string | undefined
  /** Database name (Postgres only). */
  name: string | undefined
}

/** Opens migrated stores in this process (owner + runtime role connections), like the tests do. */
export async function openBenchStores(opts: { pglite: boolean; poolSize?: number }): Promise<InProcessStores> {
  if (opts.pglite) {
    const db: Database = await openPglite(undefined)
    await migrate(db)
    return { runtime: db, owner: db, embedded: true, name: undefined, ownerUrl: undefined, describe: 'embedded PGlite in memory in this process', close: () => db.close() }
  }
  const empty = await createEmptyDatabase()
  const ownerUrl = empty.ownerUrl!
  const owner = openPostgres({ url: ownerUrl, max: 2, runtime: false })
  await migrate(owner)
  const runtime = openPostgres({ url: deriveRuntimeUrl(ownerUrl), max: opts.poolSize ?? 10, runtime: true })
  return {
    runtime,
    owner,
    embedded: false,
    describe: empty.describe,
    name: empty.name,
    ownerUrl,
    async close() {
      await Promise.all([runtime.close(), owner.close()])
      await empty.drop()
    },
  }
}

const cleanups: (() => Promise<void>)[] = []
let hooked = false

/** Drops bench databases (and stops bench-owned servers) even when the run is interrupted (Ctrl-C) or fails. */
export function onExit(fn: () => Promise<void>) {
  cleanups.push(fn)
  if (hooked) return
  hooked = true
  const run = async (code: number) => {
    await Promise.allSettled(cleanups.map((c) => c()))
    process.exit(code)
  }
  process.once('SIGINT', () => void run(130))
  process.once('SIGTERM', () => void run(143))
}

export async function dropAll(): Promise<void> {
  await Promise.allSettled(cleanups.map((c) => c()))
}

/** Runs a bench's main: exit 0 when it ends, 1 (after dropping its databases) when it fails. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    async (err) => {
      console.error(err)
      await dropAll()
      process.exit(1)
    },
  )
}

/**
 * ANALYZE on a bench database (Postgres; nothing on PGlite), as autovacuum would have by now on a
 * running system: a bench database is seconds old, and plans made on its empty tables (cached as
 * generic plans) would drive lookups from the wrong side. Returns whether it ran.
 */
export async function analyzeLikeAutovacuum(ownerUrl: string | undefined): Promise<boolean> {
  if (!ownerUrl) return false
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} })
  try {
    await owner`analyze`
  } finally {
    await owner.end({ timeout: 5 })
  }
  return true
}
