// The one memory kept on change notices (db/change-feed.ts Memory), under the route, policy and key
// memories: concurrent asks share one read; a failed read, a value not worth keeping and a read
// that a change may have overtaken are not kept; a change forgets what it touches and every read in
// flight; listening begun or lost forgets everything; past its size the oldest goes first. Each test
// runs a feed of its own on a real database, listening on a channel of its own.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, type TestDb } from '@mailroom/testkit/db'
import { announce, ChangeFeed, tenantChangeOf, type Memory, type MemoryOptions, type TenantChange } from '../../src/db/change-feed.js'
import { withoutTenant } from '../../src/db/scope.js'

let db: TestDb
let channels = 0
const feeds: ChangeFeed<TenantChange>[] = []

beforeAll(async () => {
  db = await createTestDb()
})
afterAll(async () => {
  for (const f of feeds) await f.stop()
  await db?.close()
})

/** A controllable read: resolves or fails when the test says so, and counts how often it ran. */
function reads<V>() {
  const pending: { resolve: (v: V) => void; reject: (e: unknown) => void }[] = []
  return {
    pending,
    read: () => new Promise<V>((resolve, reject) => pending.push({ resolve, reject })),
    /** A read that answers `v` at once. */
    now: (v: V) => () => (pending.push({ resolve: () => {}, reject: () => {} }), Promise.resolve(v)),
  }
}

/** A listening feed (keeping an hour) with one memory; `forget` is what the feed does with a tenant's change. */
async function feedWith<V>(o: MemoryOptions<V> = {}, forget?: (m: Memory<V>, tenantId: string) => void) {
  let memory: Memory<V> | undefined
  const channel = `mailroom_test_memory_${process.pid}_${++channels}`
  const feed = new ChangeFeed<TenantChange>(db.runtime, {
    channel,
    parse: tenantChangeOf,
    // A change of everything the feed forgets itself.
    forget: (change) => (forget && 'tenantId' in change ? forget(memory!, change.tenantId) : memory!.forget(() => false)),
    keepMs: 3_600_000,
    what: 'test values are',
  })
  memory = feed.memory(o)
  feeds.push(feed)
  feed.start()
  for (let i = 0; i < 400 && !feed.trusted; i++) await new Promise((r) => setTimeout(r, 25))
  expect(feed.trusted).toBe(true)
  return { feed, memory, channel }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('a memory kept on change notices', () => {
  it('serves what it read; concurrent asks of one key share one read; the counts say which was which', async () => {
    const { memory } = await feedWith<string>()
    const r = reads<string>()
    const a = memory.get('k', r.read)
    const b = memory.get('k', r.read)
    expect(r.pending).toHaveLength(1)
    r.pending[0]!.resolve('v1')
    expect(await a).toBe('v1')
    expect(await b).toBe('v1')
    expect(await memory.get('k', r.read)).toBe('v1')
    expect(r.pending).toHaveLength(1)
    expect(memory.counts).toEqual({ memory: 2, database: 1 })
  })

  it('keeps no failed read and no value not worth keeping', async () => {
    const { memory } = await feedWith<string | null>({ worth: (v) => v !== null })
    const r = reads<string | null>()
    const failed = memory.get('k', r.read)
    r.pending[0]!.reject(new Error('database down'))
    await expect(failed).rejects.toThrow('database down')
    expect(await memory.get('k', r.now(null))).toBeNull()
    await tick()
    expect(memory.size).toBe(0)
    expect(await memory.get('k', r.now('found'))).toBe('found')
    await tick()
    expect(await memory.get('k', r.now('not read'))).toBe('found')
    expect(memory.counts).toEqual({ memory: 1, database: 3 })
  })

  it('a change heard while a read is in flight: the read is not kept, and a later ask does not share it', async () => {
    const { feed, memory } = await feedWith<string>()
    const r = reads<string>()
    const before = memory.get('k', r.read)
    feed.heard({ tenantId: 'another' })
    const after = memory.get('k', r.read)
    expect(r.pending).toHaveLength(2)
    r.pending[0]!.resolve('old')
    r.pending[1]!.resolve('new')
    expect(await before).toBe('old')
    expect(await after).toBe('new')
    // The read begun before the change was not kept; the one begun after it was.
    expect(await memory.get('k', r.read)).toBe('new')
    expect(r.pending).toHaveLength(2)
  })

  it("forgets what a change touches, and nothing else, in this process and through another connection's announcement", async () => {
    const { memory, channel } = await feedWith<string>({}, (m, tenantId) => m.forget((_, v) => v.startsWith(tenantId + ':')))
    const r = reads<string>()
    for (const k of ['a1', 'a2', 'b1']) await memory.get(k, r.now(`${k[0]}:${k}`))
    await tick()
    await withoutTenant(db.runtime, (tx) => announce(tx, channel, { tenantId: 'a' }))
    expect(memory.size).toBe(1)
    expect(await memory.get('b1', r.now('not read'))).toBe('b:b1')
    // A notification sent by another connection (as another process would): heard, and forgotten.
    await db.owner.db.execute(sql`select pg_notify(${channel}, ${JSON.stringify({ tenantId: 'b' })})`)
    for (let i = 0; i < 200 && memory.size > 0; i++) await new Promise((res) => setTimeout(res, 25))
    expect(memory.size).toBe(0)
    // A payload it cannot read: everything.
    await memory.get('a1', r.now('a:a1'))
    await tick()
    expect(memory.size).toBe(1)
    await db.owner.db.execute(sql`select pg_notify(${channel}, 'garbled')`)
    for (let i = 0; i < 200 && memory.size > 0; i++) await new Promise((res) => setTimeout(res, 25))
    expect(memory.size).toBe(0)
  })

  it('past its size the oldest goes first', async () => {
    const { memory } = await feedWith<number>({ max: 3 })
    for (let i = 1; i <= 4; i++) await memory.get(`k${i}`, () => Promise.resolve(i))
    expect(memory.size).toBe(3)
    expect(await memory.get('k2', () => Promise.resolve(-1))).toBe(2)
    expect(await memory.get('k1', () => Promise.resolve(-1))).toBe(-1)
  })

  it('keeps nothing before it listens, nor after it stopped', async () => {
    const feed = new ChangeFeed<TenantChange>(db.runtime, { channel: `mailroom_test_memory_${process.pid}_idle`, parse: tenantChangeOf, forget: () => {}, keepMs: 3_600_000, what: 'test values are' })
    const memory = feed.memory<number>()
    expect(await memory.get('k', () => Promise.resolve(1))).toBe(1)
    await tick()
    expect(await memory.get('k', () => Promise.resolve(2))).toBe(2)
    expect(memory.counts).toEqual({ memory: 0, database: 2 })
    await feed.stop()
  })
})
