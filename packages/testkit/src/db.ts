// A database of the test file's own: a clone of the migrated template on real Postgres, or a
// fresh in-memory PGlite. Never shared between files, dropped afterwards.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { inject } from 'vitest'
import { openPglite, openPostgres, type Database } from '@mailroom/server/src/db/client.js'
import { emptyCitusDatabase } from './citus.js'
import { migrate } from '@mailroom/server/src/db/migrate.js'
import { deriveRuntimeUrl } from '@mailroom/server/src/config.js'
import { useCoordinator, type Stores } from '@mailroom/server/src/db/open.js'

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string | null
  }
}

/**
 * A Citus coordinator (issue 20): when set, every suite that runs on real Postgres runs on it instead,
 * all files in its one database (Citus keeps its shards on the workers, so a database cannot be
 * cloned per file): tests own their data through their own tenants.
 */
export const CITUS_URL = process.env.MAILROOM_TEST_CITUS_URL || undefined
export const TEST_URL = CITUS_URL ?? process.env.MAILROOM_TEST_DATABASE_URL ?? process.env.DATABASE_URL
export const onPostgres = Boolean(TEST_URL)
export const onCitus = Boolean(CITUS_URL)

export interface TestDb extends Stores {
  /** Owner URL of this file's database (Postgres only). */
  ownerUrl: string | undefined
  runtimeUrl: string | undefined
}

/** Test databases open on the shared Citus database in this process (a file may start several servers). */
let openOnCitus = 0

export async function createTestDb(): Promise<TestDb> {
  if (!TEST_URL) {
    const db: Database = await openPglite(undefined)
    await migrate(db)
    return { runtime: db, owner: db, embedded: true, ownerUrl: undefined, runtimeUrl: undefined, close: () => db.close() }
  }
  if (CITUS_URL) {
    // Migrated (and distributed) once by the global setup; shared by every file, never dropped.
    const owner = openPostgres({ url: CITUS_URL, max: 2, runtime: false })
    const runtimeUrl = deriveRuntimeUrl(CITUS_URL)
    const runtime = openPostgres({ url: runtimeUrl, max: 10, runtime: true })
    useCoordinator([runtime, owner], true)
    openOnCitus++
    let closed = false
    return {
      runtime,
      owner,
      embedded: false,
      ownerUrl: CITUS_URL,
      runtimeUrl,
      async close() {
        if (closed) return
        closed = true
        await runtime.close()
        // Emptied once the file's last one closes: not under another server of the same file still running.
        if (--openOnCitus === 0) await emptyCitusDatabase(owner)
        await owner.close()
      },
    }
  }
  const template = inject('templateDatabase')
  const name = `mailroom_t_${randomBytes(6).toString('hex')}`
  const admin = postgres(TEST_URL, { max: 1, onnotice: () => {} })
  // Cloning needs the template to be idle; another file cloning at the same moment retries.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(template ? `create database ${name} template ${template}` : `create database ${name}`)
      break
    } catch (err) {
      if (attempt > 50 || !/being accessed by other users/.test(String(err))) throw err
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
    }
  }
  const url = new URL(TEST_URL)
  url.pathname = `/${name}`
  const ownerUrl = url.toString()
  const runtimeUrl = deriveRuntimeUrl(ownerUrl)
  const owner = openPostgres({ url: ownerUrl, max: 2, runtime: false })
  if (!template) await migrate(owner)
  const runtime = openPostgres({ url: runtimeUrl, max: 10, runtime: true })
  return {
    runtime,
    owner,
    embedded: false,
    ownerUrl,
    runtimeUrl,
    async close() {
      await Promise.all([runtime.close(), owner.close()])
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

