// Deleting a tenant cascades through every row it owns, in whatever order Postgres reaches them, so
// it can deadlock with a writer that holds one of those rows and then needs the tenant row (an
// insert checking its key), as the usage counters' flush does. Postgres breaks the deadlock by rolling
// one of the two back. Here the deadlock is made on purpose, with the writer's part held by hand: the
// deletion, rolled back, is run again and answers 204; the flush, rolled back, keeps its counts for
// the next one. A request that loses such a conflict is told to retry (503), and one whose tenant
// is deleted while it runs is told it is gone (404), neither 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import postgres from 'postgres'
import { createTestDb, onCitus, onPostgres, type TestDb } from '@mailroom/testkit/db'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { withTenant } from '../../src/db/scope.js'
import { later, waitUntil } from '@mailroom/testkit'
import { fromPublicId } from '../../src/lib/ids.js'
import { retryConflicts } from '../../src/db/health.js'
import { transientError } from '../../src/http/errors.js'
import { ApiRequestMeter, utcDay } from '../../src/usage/service.js'
import { NIL_UUID } from '../../src/usage/tables.js'
import { silentLogger } from '../../src/lib/log.js'

const conflict = (code: string) => Object.assign(new Error(code === '40P01' ? 'deadlock detected' : 'could not serialize access'), { code })

describe('conflicts Postgres broke', () => {
  it('are answered 503 service_unavailable with Retry-After, not 500', () => {
    for (const code of ['40P01', '40001']) {
      const e = transientError(conflict(code))
      expect(e).toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'Retry-After': '1' } })
      expect(e!.message).toMatch(/concurrent change/)
    }
    expect(transientError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeNull()
  })

  it('retryConflicts runs the transaction again on a conflict only, and gives up after its attempts', async () => {
    let calls = 0
    const retried: number[] = []
    expect(await retryConflicts(async () => (++calls < 3 ? Promise.reject(conflict('40P01')) : 'done'), (_e, n) => retried.push(n))).toBe('done')
    expect([calls, retried]).toEqual([3, [1, 2]])
    calls = 0
    await expect(retryConflicts(async () => (++calls, Promise.reject(conflict('40001'))))).rejects.toMatchObject({ code: '40001' })
    expect(calls).toBe(3)
    calls = 0
    await expect(retryConflicts(async () => (++calls, Promise.reject(new Error('other'))))).rejects.toThrow('other')
    expect(calls).toBe(1)
  })
})

describe('a request whose tenant is deleted while it runs', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server?.stop())

  it('is answered 404 not_found, not 500, while its key is still valid in memory', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const list = `/v1/inboxes/${inbox.id}/messages`
    // A wait's cursor from before the message: a wait from it answers with the message.
    const cursor = (await inbox.api.get(`${list}/wait?timeout=0`)).headers.get('mailroom-cursor')!
    await sendMail(server, { from: 'a@example.com', to: inbox.address, subject: 'hello' })
    await settled(server)
    expect((await inbox.api.get(list)).body.data).toHaveLength(1)
    // The deletion's first step, committed on its own (the rest of a deletion follows in the same
    // transaction; a request reading between its commit and the key caches hearing of it sees this).
    const tenantId = fromPublicId('tenant', t.id)!
    const crypto = server.running.deps.crypto
    await withTenant(server.db.runtime, { tenantId }, (tx) => crypto.destroyKeys(tx, [tenantId]))
    for (const res of [await inbox.api.get(list), await t.api.get(`${list}?q=hello`), await inbox.api.get(`${list}/wait?timeout=1&cursor=${encodeURIComponent(cursor)}`)]) {
      expect(res.status, res.text).toBe(404)
      expect(res.body.error).toMatchObject({ code: 'not_found', message: 'not found: its tenant has been deleted' })
    }
  })
})

// Postgres only: on Citus the rows are locked on the workers, where the coordinator's
// pg_blocking_pids cannot see who waits for whom, and Citus breaks a deadlock across nodes in its own
// time (the deletion's retry is the same code there).
describe.skipIf(!onPostgres || onCitus)('a tenant deleted while a usage writer holds its rows (a real deadlock)', () => {
  let db: TestDb
  let server: TestServer
  let owner: postgres.Sql
  beforeAll(async () => {
    db = await createTestDb()
    server = await startTestServer({ db })
    owner = postgres(db.ownerUrl!, { max: 4, onnotice: () => {} })
  })
  afterAll(async () => {
    await owner?.end()
    await server?.stop()
    await db?.close()
  })

  /** A transaction of the owner's, held open: `step` runs a statement in it (it may block). */
  function held() {
    let finish!: (commit: boolean) => void
    const end = new Promise<boolean>((r) => (finish = r))
    const steps: { q: (tx: postgres.TransactionSql) => Promise<unknown>; done: (v: unknown) => void; fail: (e: unknown) => void }[] = []
    let wake: () => void = () => {}
    let pid = 0
    const done = owner
      .begin(async (tx) => {
        // This side never gives up first: the other one (1 s, the default) finds the deadlock.
        await tx`set local deadlock_timeout = '60s'`
        pid = (await tx<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid
        for (;;) {
          const step = steps.shift()
          if (step) {
            await step.q(tx).then(step.done, step.fail)
            continue
          }
          const stop = await Promise.race([end, new Promise<null>((r) => (wake = () => r(null)))])
          if (stop === true) return
          if (stop === false) throw new Error('rolled back by the test')
        }
      })
      .catch((e) => {
        if (!String(e).includes('rolled back by the test')) throw e
      })
    return {
      pid: () => pid,
      step: <T>(q: (tx: postgres.TransactionSql) => Promise<T>) =>
        new Promise<T>((done, fail) => {
          steps.push({ q, done: done as (v: unknown) => void, fail })
          wake()
        }),
      commit: async () => {
        finish(true)
        wake()
        await done
      },
    }
  }

  /** Backends of this database waiting for a lock `pid` holds. */
  const blockedBy = async (pid: number) =>
    (await owner<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and ${pid} = any(pg_blocking_pids(pid))`)[0]!.n

  it('the deletion rolled back by Postgres is run again, and the tenant goes', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const childId = fromPublicId('tenant', child.id)!
    const day = utcDay(new Date())
    await owner`insert into usage_daily (tenant_id, day, inbox_id, api_requests) values (${childId}, ${day}, ${NIL_UUID}, 1)`

    // The writer's first statement, as the flush's: the tenant's counter row for today, held.
    const writer = held()
    await writer.step((tx) => tx`update usage_daily set api_requests = api_requests + 1 where tenant_id = ${childId} and day = ${day} and inbox_id = ${NIL_UUID}`)

    const deleting = later(parent.api.delete(`/v1/tenants/${child.id}`))
    // The deletion holds the tenant row and waits in its cascade for the writer's counter row.
    await waitUntil('the deletion waits for the writer', async () => (await blockedBy(writer.pid())) > 0)

    // The writer's next statement, as the flush's for an inbox new today: its key check needs the
    // tenant row the deletion holds. A deadlock: Postgres rolls the deletion back (it waited first,
    // and this side's deadlock_timeout is a minute). Had it not, this insert could never finish.
    await writer.step((tx) => tx`insert into usage_daily (tenant_id, day, inbox_id, api_requests) values (${childId}, ${day}, gen_random_uuid(), 1)`)
    await writer.commit()

    const res = await deleting
    expect(res.status, res.text).toBe(204)
    expect((await parent.api.get(`/v1/tenants/${child.id}`)).status).toBe(404)
    expect((await owner`select 1 from tenants where id = ${childId}`).length).toBe(0)
    expect((await owner`select 1 from usage_daily where tenant_id = ${childId}`).length).toBe(0)
  })

  it('the usage flush rolled back by Postgres keeps its counts for the next flush', async () => {
    const t = await makeTenant(server)
    const tenantId = fromPublicId('tenant', t.id)!
    const inboxId = '00000000-0000-4000-8000-000000000001'
    const day = utcDay(new Date())
    await owner`insert into usage_daily (tenant_id, day, inbox_id, api_requests) values (${tenantId}, ${day}, ${NIL_UUID}, 0), (${tenantId}, ${day}, ${inboxId}, 0)`
    const meter = new ApiRequestMeter(db.runtime, silentLogger)
    for (let i = 0; i < 5; i++) meter.record(tenantId, inboxId, day)

    // Another writer holds the inbox's row; the flush takes the tenant's row, then waits for it.
    const writer = held()
    await writer.step((tx) => tx`update usage_daily set messages_sent = messages_sent + 1 where tenant_id = ${tenantId} and day = ${day} and inbox_id = ${inboxId}`)
    const flushing = later(meter.flush())
    await waitUntil('the flush waits for the writer', async () => (await blockedBy(writer.pid())) > 0)
    // The writer now wants the tenant's row: Postgres rolls the flush back (it waited first).
    await writer.step((tx) => tx`update usage_daily set messages_sent = messages_sent + 1 where tenant_id = ${tenantId} and day = ${day} and inbox_id = ${NIL_UUID}`)
    await writer.commit()
    await flushing
    const counts = async () =>
      (await owner<{ inbox_id: string; api_requests: number; messages_sent: number }[]>`
        select inbox_id, api_requests, messages_sent from usage_daily where tenant_id = ${tenantId} order by inbox_id`).map((r) => ({ ...r }))
    // Nothing of the rolled-back flush is there; the writer's part is.
    expect(await counts()).toEqual([
      { inbox_id: NIL_UUID, api_requests: 0, messages_sent: 1 },
      { inbox_id: inboxId, api_requests: 0, messages_sent: 1 },
    ])
    // The next flush writes the five requests, once.
    await meter.flush()
    expect(await counts()).toEqual([
      { inbox_id: NIL_UUID, api_requests: 5, messages_sent: 1 },
      { inbox_id: inboxId, api_requests: 5, messages_sent: 1 },
    ])
  })
})
