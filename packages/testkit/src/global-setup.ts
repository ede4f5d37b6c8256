// Once per run: on real Postgres, migrate a template database that each test file clones
// (a database per file, never shared). On PGlite, say which suites will be skipped.
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { openPostgres } from '@mailroom/server/src/db/client.js'
import { migrate } from '@mailroom/server/src/db/migrate.js'
import { emptyCitusDatabase } from './citus.js'
import { chromiumMissing } from './chromium.js'

const CITUS_URL = process.env.MAILROOM_TEST_CITUS_URL || undefined
export const TEST_URL = CITUS_URL ?? process.env.MAILROOM_TEST_DATABASE_URL ?? process.env.DATABASE_URL

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string | null
  }
}

export default async function setup(project: TestProject) {
  const noBrowser = chromiumMissing()
  if (noBrowser) process.stdout.write(`\n[mailroom] Skipped here: /docs in headless Chromium, ${noBrowser}.\n`)
  if (CITUS_URL) {
    // Every file shares the coordinator's database: migrate (and distribute) it once here.
    process.stdout.write(`\n[mailroom] MAILROOM_TEST_CITUS_URL is set: the Postgres suites run on that Citus coordinator.\n\n`)
    const db = openPostgres({ url: CITUS_URL, max: 1, runtime: false })
    await migrate(db)
    await emptyCitusDatabase(db)
    await db.close()
    project.provide('templateDatabase', null)
    return
  }
  process.stdout.write(
    '\n[mailroom] No MAILROOM_TEST_CITUS_URL: nothing runs on Citus here (the schema is still checked for\n' +
      '[mailroom] Citus by test/db/citus-compat.test.ts). Set it to a Citus coordinator (README, Scaling out)\n' +
      '[mailroom] to run the Postgres suites there.\n',
  )
  if (!TEST_URL) {
    project.provide('templateDatabase', null)
    process.stdout.write(
      '\n[mailroom] No MAILROOM_TEST_DATABASE_URL/DATABASE_URL: running on embedded PGlite.\n' +
        '[mailroom] Skipped here (they need a real Postgres server): the runtime role catalog checks,\n' +
        '[mailroom] two server processes on one Postgres, pg_dump holds no mail content, online key\n' +
        '[mailroom] rotation through the CLI beside a running server, and the every-table check after\n' +
        '[mailroom] deleting a tenant. Set MAILROOM_TEST_DATABASE_URL to run them.\n\n',
    )
    return
  }
  const name = `mailroom_tpl_${process.pid}_${Date.now().toString(36)}`
  const admin = postgres(TEST_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(TEST_URL)
  url.pathname = `/${name}`
  const db = openPostgres({ url: url.toString(), max: 1, runtime: false })
  await migrate(db)
  await db.close()
  project.provide('templateDatabase', name)
  return async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}
