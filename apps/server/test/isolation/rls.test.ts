// Row-level security with the runtime role: nothing without a tenant, nothing of another tenant,
// not even through a foreign key. Runs on real Postgres and on PGlite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq, sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { withTenant, withoutTenant } from '../../src/db/scope.js'
import { createRootTenant } from '../../src/tenancy/service.js'
import { createInbox } from '../../src/inboxes/service.js'
import { apiKeys, keyRoutes } from '../../src/apikeys/tables.js'
import { createApiKey } from '../../src/apikeys/service.js'
import { hashKey, keyPrefix } from '../../src/apikeys/secret.js'
import type { Tx } from '../../src/db/client.js'
import { inboxes, addressRoutes } from '../../src/inboxes/tables.js'
import { tenants } from '../../src/tenancy/tables.js'
import { threads } from '../../src/messages/tables.js'
import { domainClaims } from '../../src/domains/tables.js'
import { createDomain } from '../../src/domains/service.js'
import { newUuid } from '../../src/lib/ids.js'
import { pgErrorCode } from '../../src/db/client.js'
import { createTestDb, onCitus, type TestDb } from '@mailroom/testkit/db'
import { TEST_MASTER_KEY } from '@mailroom/testkit/server'
import { TenantCrypto } from '../../src/crypto/service.js'
import { MasterKeyring } from '../../src/crypto/masterKey.js'

let db: TestDb
const crypto = new TenantCrypto(MasterKeyring.fromStrings(TEST_MASTER_KEY))
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.close())

async function tenantWithInbox(name: string) {
  const { tenant } = await createRootTenant(db.runtime, crypto, name)
  const { inbox } = await withTenant(db.runtime, { tenantId: tenant.id }, (tx) =>
    createInbox(tx, { tenantId: tenant.id, domain: 'rls.test', createKey: true }),
  )
  return { tenantId: tenant.id, inboxId: inbox.id }
}

/** Every table of the public schema holding tenant_id, read from the catalog (new ones included). */
async function tenantTables(): Promise<string[]> {
  const rows = await rawRows<{ relname: string }>(db.owner.db, sql`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)`)
  return [...rows.map((r) => r.relname), 'tenants']
}

describe('row-level security for the runtime role', () => {
  it('with no tenant set, sees zero rows in every tenant-owned table', async () => {
    await tenantWithInbox('a')
    const tables = await tenantTables()
    expect(tables.length).toBeGreaterThanOrEqual(4)
    for (const table of tables) {
      const rows = await withoutTenant(db.runtime, (tx) => rawRows<{ n: number }>(tx, sql.raw(`select count(*)::int as n from ${table}`)))
      expect({ table, n: rows[0]!.n }).toEqual({ table, n: 0 })
    }
    // ... while the owner's view proves there is data to hide.
    const [total] = await rawRows<{ n: number }>(db.owner.db, sql`select count(*)::int as n from inboxes`)
    if (db.owner !== db.runtime) expect(total!.n).toBeGreaterThan(0)
  })

  it('with tenant A set, sees only A in every table', async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    for (const table of await tenantTables()) {
      const col = table === 'tenants' ? 'id' : 'tenant_id'
      const rows = await withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
        rawRows<{ t: string }>(tx, sql.raw(`select distinct ${col}::text as t from ${table}`)),
      )
      expect(rows.map((r) => r.t).filter((t) => t === b.tenantId)).toEqual([])
    }
  })

  it("with tenant A set, cannot update or delete B's rows", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    await withTenant(db.runtime, { tenantId: a.tenantId }, async (tx) => {
      const upd = await tx.update(inboxes).set({ displayName: 'pwned' }).where(sql`${inboxes.id} = ${b.inboxId}`).returning()
      expect(upd).toEqual([])
      const del = await tx.delete(inboxes).where(sql`${inboxes.id} = ${b.inboxId}`).returning()
      expect(del).toEqual([])
      const delT = await tx.delete(tenants).where(sql`${tenants.id} = ${b.tenantId}`).returning()
      expect(delT).toEqual([])
    })
    const still = await withTenant(db.runtime, { tenantId: b.tenantId }, (tx) => tx.select().from(inboxes))
    expect(still.map((i) => i.displayName)).toEqual([null])
  })

  it("with tenant A set, cannot insert rows under B's tenant_id", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const attempt = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(inboxes).values({ tenantId: b.tenantId, id: newUuid(), address: `x-${newUuid()}@rls.test` }),
    )
    await expect(attempt).rejects.toSatisfy((e) => pgErrorCode(e) === '42501')
  })

  it("cannot point at B's inbox through a foreign key", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    // A's key row claiming B's inbox: the composite FK (tenant_id, inbox_id) has no such row in A.
    const keyAttempt = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(apiKeys).values({ tenantId: a.tenantId, id: newUuid(), scope: 'inbox', inboxId: b.inboxId, prefix: 'mr_ik_xxxxxxxx', hash: 'x' }),
    )
    await expect(keyAttempt).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
    // A route (a global routing table) is A's alone: one naming B as its tenant is refused (by the
    // route's check, which reads inboxes as A: as if B's inbox did not exist; on Citus, without that
    // check, by B's policy).
    const asB = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(addressRoutes).values({ address: `steal-${newUuid()}@rls.test`, tenantId: b.tenantId, inboxId: b.inboxId }),
    )
    await expect(asB).rejects.toSatisfy((e) => pgErrorCode(e) === (onCitus ? '42501' : '23503'))
  })

  it.skipIf(onCitus)("a route of A cannot name B's inbox (plain Postgres: checked by a trigger; on Citus see the next test)", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const routeAttempt = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(addressRoutes).values({ address: `steal-${newUuid()}@rls.test`, tenantId: a.tenantId, inboxId: b.inboxId }),
    )
    await expect(routeAttempt).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
  })

  it.skipIf(onCitus)("a route or domain claim A writes under B's name is refused the same way whether B's inbox or domain exists or not", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const bDomain = await withTenant(db.runtime, { tenantId: b.tenantId }, async (tx) =>
      createDomain(tx, await crypto.cipher(tx, b.tenantId), b.tenantId, `b-${newUuid().slice(0, 8)}.example`, 'rls.test'),
    )
    const asA = <T>(fn: (tx: Tx) => Promise<T>) => withTenant(db.runtime, { tenantId: a.tenantId }, fn)
    const codeOf = (p: Promise<unknown>) => p.then(() => 'written', (e) => pgErrorCode(e))
    const route = (inboxId: string) => codeOf(asA((tx) => tx.insert(addressRoutes).values({ address: `probe-${newUuid()}@rls.test`, tenantId: b.tenantId, inboxId })))
    const claim = (domainId: string) => codeOf(asA((tx) => tx.insert(domainClaims).values({ name: `probe-${newUuid()}.example`, tenantId: b.tenantId, domainId })))
    // A's answer for B's real inbox or domain is the one for a made-up id: nothing learned.
    expect([await route(b.inboxId), await route(newUuid())]).toEqual(['23503', '23503'])
    expect([await claim(bDomain.id), await claim(newUuid())]).toEqual(['23503', '23503'])
  })

  it.runIf(onCitus)("on Citus a route of A naming B's inbox leads nowhere: what it routes is A's, and A's keys refuse B's inbox", async () => {
    // Citus keeps no key from a reference table (address_routes) into a tenant table (README,
    // Scaling out): the route is stored, but under A, so mail through it is stored under A, where
    // B's inbox does not exist: every row naming it under A is refused by A's composite keys.
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const address = `steal-${newUuid()}@rls.test`
    await withTenant(db.runtime, { tenantId: a.tenantId }, (tx) => tx.insert(addressRoutes).values({ address, tenantId: a.tenantId, inboxId: b.inboxId }))
    const [route] = await withoutTenant(db.runtime, (tx) => rawRows<{ tenant_id: string; inbox_id: string }>(tx, sql`select tenant_id, inbox_id from mailroom_route(${address})`))
    expect(route).toEqual({ tenant_id: a.tenantId, inbox_id: b.inboxId })
    expect(await withTenant(db.runtime, { tenantId: a.tenantId }, (tx) => tx.select().from(inboxes).where(eq(inboxes.id, b.inboxId)))).toEqual([])
    const stored = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(threads).values({ tenantId: a.tenantId, id: newUuid(), inboxId: b.inboxId }),
    )
    await expect(stored).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
  })

  it('a tenant cannot create a child under a tenant it cannot see, nor forge its ancestry', async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const attempt = withTenant(db.runtime, { tenantId: a.tenantId }, (tx) =>
      tx.insert(tenants).values({ id: newUuid(), parentId: b.tenantId, name: 'sneaky', ancestors: [a.tenantId] }),
    )
    await expect(attempt).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
  })

  it('an inbox-scoped transaction sees only its own inbox', async () => {
    const a = await tenantWithInbox('a')
    const second = await withTenant(db.runtime, { tenantId: a.tenantId }, (tx) => createInbox(tx, { tenantId: a.tenantId, domain: 'rls.test' }))
    const seen = await withTenant(db.runtime, { tenantId: a.tenantId, inboxId: a.inboxId }, (tx) => tx.select({ id: inboxes.id }).from(inboxes))
    expect(seen.map((r) => r.id)).toEqual([a.inboxId])
    expect(seen.map((r) => r.id)).not.toContain(second.inbox.id)
  })

  it("a key's route: A can neither read B's nor plant one under B; one planted under A leads to no key of B", async () => {
    const a = await tenantWithInbox('a')
    const b = await tenantWithInbox('b')
    const { key, row } = await withTenant(db.runtime, { tenantId: b.tenantId }, (tx) => createApiKey(tx, { tenantId: b.tenantId, scope: 'tenant' }))
    const asA = <T>(fn: (tx: Tx) => Promise<T>) => withTenant(db.runtime, { tenantId: a.tenantId }, fn)
    expect(await asA((tx) => tx.select().from(keyRoutes).where(eq(keyRoutes.keyId, row.id)))).toEqual([])
    // Refused by B's policy on Citus; elsewhere first by the route's check, which reads keys as A (so
    // the answer is the same whether B has that key or not).
    await expect(asA((tx) => tx.insert(keyRoutes).values({ prefix: keyPrefix(key), tenantId: b.tenantId, keyId: row.id }))).rejects.toSatisfy(
      (e) => pgErrorCode(e) === (onCitus ? '42501' : '23503'),
    )
    await expect(asA((tx) => tx.insert(keyRoutes).values({ prefix: 'mr_tk_nokey0000', tenantId: b.tenantId, keyId: newUuid() }))).rejects.toSatisfy(
      (e) => pgErrorCode(e) === (onCitus ? '42501' : '23503'),
    )
    // A route of A's own with B's prefix and key id: refused on plain Postgres and PGlite (no such key
    // of A's), and A's own key under another prefix too. On Citus (no trigger there) it is written, but
    // the lookup reads keys by the route's tenant: B's key is still found once, as B's.
    const plant = () => asA((tx) => tx.insert(keyRoutes).values({ prefix: keyPrefix(key), tenantId: a.tenantId, keyId: row.id }))
    const aKey = await asA((tx) => createApiKey(tx, { tenantId: a.tenantId, scope: 'tenant' }))
    const misrouted = () => asA((tx) => tx.insert(keyRoutes).values({ prefix: 'mr_tk_misroute', tenantId: a.tenantId, keyId: aKey.row.id }))
    if (onCitus) await plant()
    else {
      await expect(plant()).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
      await expect(misrouted()).rejects.toSatisfy((e) => pgErrorCode(e) === '23503')
      expect(await asA((tx) => tx.select().from(keyRoutes).where(eq(keyRoutes.keyId, aKey.row.id)))).toEqual([
        { prefix: keyPrefix(aKey.key), tenantId: a.tenantId, keyId: aKey.row.id },
      ])
      // A key deleted takes its route with it.
      await rawRows(db.owner.db, sql`delete from api_keys where tenant_id = ${a.tenantId} and id = ${aKey.row.id}`)
      expect(await asA((tx) => tx.select().from(keyRoutes).where(eq(keyRoutes.keyId, aKey.row.id)))).toEqual([])
    }
    const found = await withoutTenant(db.runtime, (tx) =>
      rawRows<{ tenant_id: string; key_id: string }>(tx, sql`select tenant_id, key_id from mailroom_authenticate(${keyPrefix(key)}, ${hashKey(key)})`),
    )
    expect(found).toEqual([{ tenant_id: b.tenantId, key_id: row.id }])
  })

  it('the lookup functions return only what they must', async () => {
    const a = await tenantWithInbox('a')
    const [route] = await withTenant(db.runtime, { tenantId: a.tenantId }, (tx) => tx.select().from(addressRoutes))
    const found = await withoutTenant(db.runtime, (tx) =>
      rawRows<Record<string, unknown>>(tx, sql`select * from mailroom_route(${route!.address.toUpperCase()})`),
    )
    // The tenant's path (its ancestors, then itself) tells the door's memory which changes touch the route.
    expect(found).toEqual([{ tenant_id: a.tenantId, inbox_id: a.inboxId, tenant_suspended: false, tenant_path: [a.tenantId] }])
    const none = await withoutTenant(db.runtime, (tx) => rawRows(tx, sql`select * from mailroom_authenticate('mr_tk_nope', 'nope')`))
    expect(none).toEqual([])
  })
})
