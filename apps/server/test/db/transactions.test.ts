// Transactions on real Postgres (postgres.js, patched): a transaction's first statements go out
// behind its BEGIN without waiting for the BEGIN's answer (one round trip less per transaction),
// and a BEGIN that fails on a dead pooled connection is marked so the one door to the database
// (db/scope.ts) tries the whole transaction again, nothing of it having run.
import { createServer, connect, type Socket } from 'node:net'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { openPostgres, rawRows } from '../../src/db/client.js'
import { withoutTenant } from '../../src/db/scope.js'

/** A proxy whose answers from the database can be held back while what the client sends goes on. */
async function holdingProxy(target: URL) {
  const toServer: Buffer[] = []
  let holding = false
  let resetOnNextWrite = false
  const held: { client: Socket; data: Buffer }[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    client.on('data', (d) => {
      if (resetOnNextWrite) {
        resetOnNextWrite = false
        return client.resetAndDestroy()
      }
      toServer.push(d)
      upstream.write(d)
    })
    upstream.on('data', (d) => (holding ? held.push({ client, data: d }) : client.write(d)))
    const done = () => (client.destroy(), upstream.destroy())
    client.on('error', done).on('close', done)
    upstream.on('error', done).on('close', done)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as { port: number }).port,
    /** Everything the client has sent so far, as text. */
    sent: () => Buffer.concat(toServer).toString('latin1'),
    hold: () => void (holding = true),
    /** The next thing a client sends finds its connection dead (reset), as after a database restart unnoticed. */
    resetOnNextWrite: () => void (resetOnNextWrite = true),
    release() {
      holding = false
      for (const h of held.splice(0)) h.client.write(h.data)
    },
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise<void>((r) => server.close(() => r()))
    },
  }
}

describe.skipIf(!onPostgres)('transactions on Postgres', () => {
  let db: TestDb
  beforeAll(async () => {
    db = await createTestDb()
  })
  afterAll(() => db?.close())

  it("sends a transaction's first statement behind its BEGIN, before the BEGIN is answered", async () => {
    const url = new URL(db.ownerUrl!)
    const proxy = await holdingProxy(url)
    const client = postgres({ host: '127.0.0.1', port: proxy.port, database: url.pathname.slice(1), username: url.username || 'postgres', max: 1, onnotice: () => {} })
    try {
      await client`select 1` // connected, types fetched
      proxy.hold()
      const before = proxy.sent().length
      const done = client.begin((tx) => tx`select 'behind the begin' as marker`)
      // Nothing comes back while held: the statement can only be on the wire if it did not wait.
      for (let i = 0; i < 200 && !proxy.sent().slice(before).includes('behind the begin'); i++) await new Promise((r) => setTimeout(r, 10))
      const sent = proxy.sent().slice(before)
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
    const client = postgres(db.ownerUrl!, { max: 1, onnotice: () => {} })
    const admin = postgres(db.ownerUrl!, { max: 1, onnotice: () => {} })
    try {
      await client`create table if not exists tx_probe (n int)`
      const [row] = await client<{ pid: number }[]>`select pg_backend_pid() as pid`
      await admin`select pg_terminate_backend(${row!.pid})`
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
    }
  })

  it("the one door tries such a transaction again: the caller gets the answer, written once", async () => {
    const proxy = await holdingProxy(new URL(db.runtimeUrl!))
    const url = new URL(db.runtimeUrl!)
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    const database = openPostgres({ url: url.toString(), max: 1, runtime: true })
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
})
