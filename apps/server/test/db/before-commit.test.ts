// Statements sent with the COMMIT: writes (db/pipeline.ts beforeCommit), nobody waits for their
// answers before the COMMIT goes (one round trip less), yet a failing one fails the transaction with
// its own error and nothing of it is kept; and reads (db/scope.ts readAsTenant), a whole read-only
// transaction in one round trip, under the tenant's row-level security. Semantics on Postgres and on
// PGlite; the wire on Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { later, waitUntil } from '@mailroom/testkit'
import { createTestDb, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { TEST_MASTER_KEY } from '@mailroom/testkit/server'
import { openPostgres, pgErrorCode, rawRows } from '../../src/db/client.js'
import { beforeCommit, pipelined } from '../../src/db/pipeline.js'
import { readAsTenant, withTenant, withTenantPipelined } from '../../src/db/scope.js'
import { createRootTenant } from '../../src/tenancy/service.js'
import { createInbox } from '../../src/inboxes/service.js'
import { TenantCrypto } from '../../src/crypto/service.js'
import { MasterKeyring } from '../../src/crypto/masterKey.js'
import type { Database } from '../../src/db/client.js'
import { proxyInFront } from '../helpers/tcp-proxy.js'

const crypto = new TenantCrypto(MasterKeyring.fromStrings(TEST_MASTER_KEY))
let db: TestDb
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.close())

async function tenantWithInbox(database: Database) {
  const { tenant } = await createRootTenant(database, crypto, 'before-commit')
  const { inbox } = await withTenant(database, { tenantId: tenant.id }, (tx) => createInbox(tx, { tenantId: tenant.id, domain: 'before-commit.test', createKey: false }))
  return { tenantId: tenant.id, inboxId: inbox.id }
}

const rename = (inboxId: string, name: string) => sql`update inboxes set display_name = ${name} where id = ${inboxId}::uuid`
const nameOf = async (database: Database, t: { tenantId: string; inboxId: string }) =>
  (await withTenant(database, { tenantId: t.tenantId }, (tx) => rawRows<{ display_name: string | null }>(tx, sql`select display_name from inboxes where id = ${t.inboxId}::uuid`)))[0]?.display_name

describe('writes sent with the COMMIT', () => {
  it('are committed with the transaction, in the order sent', async () => {
    const t = await tenantWithInbox(db.runtime)
    const out = await withTenant(db.runtime, { tenantId: t.tenantId }, async (tx) => {
      await beforeCommit(tx, [rename(t.inboxId, 'first'), rename(t.inboxId, 'second')])
      return 'answer'
    })
    expect(out).toBe('answer')
    expect(await nameOf(db.runtime, t)).toBe('second')
  })

  it("a failing one fails the transaction with its own error, and nothing of the transaction is kept", async () => {
    const t = await tenantWithInbox(db.runtime)
    await withTenant(db.runtime, { tenantId: t.tenantId }, (tx) => pipelined(tx, [rename(t.inboxId, 'before')]))
    const err = await withTenant(db.runtime, { tenantId: t.tenantId }, async (tx) => {
      await pipelined(tx, [rename(t.inboxId, 'kept?')])
      await beforeCommit(tx, [sql`select 1 / 0`])
      return 'answer'
    }).catch((e: unknown) => e)
    expect(pgErrorCode(err)).toBe('22012') // division_by_zero: the cause, not "the transaction is aborted"
    expect(await nameOf(db.runtime, t)).toBe('before')
  })

  it('statements awaited after a failed one report the failed one (the cause)', async () => {
    const t = await tenantWithInbox(db.runtime)
    const err = await withTenant(db.runtime, { tenantId: t.tenantId }, async (tx) => {
      await beforeCommit(tx, [sql`select 1 / 0`])
      await pipelined(tx, [rename(t.inboxId, 'after')])
    }).catch((e: unknown) => e)
    expect(pgErrorCode(err)).toBe('22012')
    expect(await nameOf(db.runtime, t)).toBeNull()
  })
})

describe('reads sent with the COMMIT (readAsTenant)', () => {
  it("answer each statement's rows, in order, under the tenant's row-level security", async () => {
    const t = await tenantWithInbox(db.runtime)
    const other = await tenantWithInbox(db.runtime)
    const [mine, theirs, n] = await readAsTenant(db.runtime, { tenantId: t.tenantId }, [
      sql`select id from inboxes where id = ${t.inboxId}::uuid`,
      sql`select id from inboxes where id = ${other.inboxId}::uuid`,
      sql`select 2 as n`,
    ])
    expect(mine).toEqual([{ id: t.inboxId }])
    expect(theirs).toEqual([])
    expect(n).toEqual([{ n: 2 }])
  })

  it('a failing read rejects with its own error', async () => {
    const t = await tenantWithInbox(db.runtime)
    const err = await readAsTenant(db.runtime, { tenantId: t.tenantId }, [sql`select 1 as one`, sql`select 1 / 0`]).catch((e: unknown) => e)
    expect(pgErrorCode(err)).toBe('22012')
  })
})

describe.skipIf(!onPostgres)('statements sent with the COMMIT, on the wire', () => {
  /**
   * Runs `run(marker)` once to have its statements described, then again with the answers held
   * back: the COMMIT must reach the wire after the statement carrying `marker`, before any answer.
   * `check` looks at the answer (and the database) afterwards.
   */
  type T0 = { tenantId: string; inboxId: string }
  async function commitGoesWith<T>(run: (database: Database, t: T0, marker: string) => Promise<T>, check: (answer: T, database: Database, t: T0) => Promise<void>): Promise<void> {
    const { proxy, url } = await proxyInFront(db.runtimeUrl!, { record: true })
    const database = openPostgres({ url, max: 1, runtime: true })
    database.citus = db.runtime.citus // (the tenant's settings go as Citus forwards them)
    try {
      const t = await tenantWithInbox(database)
      // Once, so the connection has described these statements (a new one waits for its description).
      await run(database, t, 'described')
      proxy.hold()
      const done = run(database, t, 'sent early')
      done.catch(() => {}) // (awaited below; a failed expectation must not leave it unhandled)
      // postgres.js sends COMMIT as a prepared statement: its name, from the Parse that described it.
      const commit = /P[\s\S]{4}([^\0]*)\0commit\0/.exec(proxy.sent())?.[1]
      expect(commit).toBeTruthy()
      // Nothing comes back while held: the COMMIT can only be on the wire if it did not wait.
      const bound = `\0${commit}\0`
      const committing = () => proxy.sentWhileHeld().lastIndexOf(bound) > proxy.sentWhileHeld().indexOf('sent early')
      for (let i = 0; i < 200 && !committing(); i++) await new Promise((r) => setTimeout(r, 10))
      expect(proxy.sentWhileHeld()).toContain('sent early')
      expect(committing()).toBe(true)
      proxy.release()
      await check(await done, database, t)
    } finally {
      await database.close()
      await proxy.close()
    }
  }

  it('the COMMIT is sent before the writes are answered', async () => {
    await commitGoesWith(
      (database, t, name) =>
        withTenantPipelined(database, { tenantId: t.tenantId }, async (tx, bind) => {
          await beforeCommit(tx, [...bind, rename(t.inboxId, name)])
          return 'answer'
        }),
      async (answer, database, t) => {
        expect(answer).toBe('answer')
        expect(await nameOf(database, t)).toBe('sent early')
      },
    )
  })

  it('a read-only transaction is one round trip: the COMMIT is sent before the reads are answered', async () => {
    await commitGoesWith(
      (database, t, marker) => readAsTenant(database, { tenantId: t.tenantId }, [sql`select ${marker}::text as marker, count(*)::int as n from inboxes`]),
      async (answer) => expect(answer).toEqual([[{ marker: 'sent early', n: 1 }]]),
    )
  })

  it('a connection lost while writes still wait to be sent fails the transaction: nothing waits forever', async () => {
    const database = openPostgres({ url: db.runtimeUrl!, max: 1, runtime: true })
    database.citus = db.runtime.citus
    const admin = postgres(db.ownerUrl!, { max: 1, onnotice: () => {} })
    try {
      const t = await tenantWithInbox(database)
      const marker = `lost_${Date.now()}`
      const done = later(
        withTenantPipelined(database, { tenantId: t.tenantId }, async (tx, bind) => {
          await pipelined(tx, bind)
          // The first statement is new to the connection: postgres.js has it described first and keeps
          // the ones behind it (and the COMMIT) on its side until it is answered, which takes 60 s.
          await beforeCommit(tx, [sql`select pg_sleep(${60}::float8) as ${sql.raw(marker)}`, rename(t.inboxId, 'never'), rename(t.inboxId, 'never again')])
          return 'answer'
        }),
      )
      await waitUntil(
        'the backend running pg_sleep to be terminated',
        async () => {
          const [killed] = await admin`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where query like ${`%pg_sleep%${marker}%`} and pid <> pg_backend_pid()`
          return killed!.n > 0
        },
        { everyMs: 20 },
      )
      // Before, the statements left behind waited forever, and the door with them.
      const err = await done.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      expect(await nameOf(db.runtime, t)).toBeNull()
    } finally {
      await admin.end()
      await database.close()
    }
  })
})
