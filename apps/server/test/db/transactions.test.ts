// Transactions on real Postgres (postgres.js, patched): a transaction's first statements go out
// behind its BEGIN without waiting for the BEGIN's answer (one round trip less per transaction),
// and a BEGIN that fails on a dead pooled connection is marked so the one door to the database
// (db/scope.ts) tries the whole transaction again, nothing of it having run.
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { openPostgres, rawRows } from '../../src/db/client.js'
import { lookupWithoutTenant, withoutTenant } from '../../src/db/scope.js'
import { proxyInFront, startTcpProxy } from '../helpers/tcp-proxy.js'

describe.skipIf(!onPostgres)('transactions on Postgres', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await createTestDb()
  })
  afterAll(() => db?.close())

  it("sends a transaction's first statement behind its BEGIN, before the BEGIN is answered", async () => {
    const url = new URL(db.ownerUrl!)
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) })
    const client = postgres({ host: '127.0.0.1', port: proxy.port, database: url.pathname.slice(1), username: url.username || 'postgres', max: 1, onnotice: () => {} })
    try {
      await client`select 1` // connected, types fetched
      proxy.hold()
      const done = client.begin((tx) => tx`select 'behind the begin' as marker`)
      // Nothing comes back while held: the statement can only be on the wire if it did not wait.
      for (let i = 0; i < 200 && !proxy.sentWhileHeld().includes('behind the begin'); i++) await new Promise((r) => setTimeout(r, 10))
      const sent = proxy.sentWhileHeld()
      expect(sent).toContain('begin')
      expect(sent).toContain('behind the begin')
      proxy.release()
      expect(await done).toEqual([{ marker: 'behind the begin' }])
    } finally {
      await client.end({ timeout: 1 })
      await proxy.close()
    }
  })

  it('a BEGIN on a dead connection fails marked transactionNotBegun, and the statements behind it never ran', async () => {
    // The pooled connection dies unnoticed: reset by the proxy at its next write, the BEGIN. (A
    // backend ended with pg_terminate_backend is not the same test: its goodbye can reach the client
    // before the BEGIN is written, and the driver then opens a fresh connection instead.)
    const { proxy, url } = await proxyInFront(db.ownerUrl!)
    const client = postgres(url, { max: 1, onnotice: () => {} })
    const admin = postgres(db.ownerUrl!, { max: 1, onnotice: () => {} })
    try {
      await client`create table if not exists tx_probe (n int)`
      proxy.resetOnNextWrite()
      let inside = 0
      const err = await client
        .begin(async (tx) => {
          inside++
          await tx`insert into tx_probe values (1)`
        })
        .catch((e: unknown) => e)
      expect(inside).toBe(1)
      expect(err).toMatchObject({ transactionNotBegun: true })
      // Nothing was written (read on another connection: the dead one's last words may still be in flight).
      expect(await admin`select count(*)::int as n from tx_probe`).toEqual([{ n: 0 }])
    } finally {
      await client.end({ timeout: 1 })
      await admin.end({ timeout: 1 })
      await proxy.close()
    }
  })

  it("the one door tries such a transaction again: the caller gets the answer, written once", async () => {
    const { proxy, url } = await proxyInFront(db.runtimeUrl!)
    const database = openPostgres({ url, max: 1, runtime: true })
    try {
      await withoutTenant(database, (tx) => rawRows(tx, sql`select 1`)) // the pool's one connection, open
      proxy.resetOnNextWrite()
      let attempts = 0
      const rows = await withoutTenant(database, async (tx) => {
        attempts++
        return rawRows<{ answer: number }>(tx, sql`select 42 as answer`)
      })
      expect(rows).toEqual([{ answer: 42 }])
      // The first went behind a BEGIN that failed on the dead connection; the second went through,
      // on the pool's one connection opened again (nothing of the first left in flight on it).
      expect(attempts).toBe(2)
      expect(await withoutTenant(database, (tx) => rawRows(tx, sql`select 'after' as v`))).toEqual([{ v: 'after' }])
    } finally {
      await database.close()
      await proxy.close()
    }
  })

  it('prepares the lookups made outside any tenant (every request and recipient makes one): planned once per connection, not at every call', async () => {
    const database = openPostgres({ url: db.runtimeUrl!, runtime: true, max: 2 })
    try {
      expect(database.single).toBeDefined()
      for (let i = 0; i < 6; i++) expect(await lookupWithoutTenant<{ n: number }>(database, sql`select ${i}::int + 1 as n`)).toEqual([{ n: i + 1 }])
      // Asked on the same pool: whichever of its connections answers holds the lookup's statement.
      for (let i = 0; i < 3; i++) {
        const held = await lookupWithoutTenant<{ statement: string }>(database, sql`select statement from pg_prepared_statements`)
        expect(held.map((r) => r.statement)).toContain('select $1::int + 1 as n')
      }
    } finally {
      await database.close()
    }
  })
})
