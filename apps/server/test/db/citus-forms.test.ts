// The guarantees migration 0025 re-expressed in forms Citus accepts, each checked where it is kept
// (on PGlite and real Postgres): raw bytes reach an inbox key only through a visible message of its
// inbox (was a sub-query, now raw_messages.inbox_ids kept by a trigger); audit rows reach the
// tenant's ancestors only (was a sub-query, now a copy of the ancestors); a deleted thread unlinks its
// messages and a deleted inbox its domain catch-all (were SET NULL keys); a deleted inbox takes its
// route along (was a cascade from a global table).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows, type Tx } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { createRootTenant, createTenantWithKey } from '../../src/tenancy/service.js'
import { createInbox, deleteInbox } from '../../src/inboxes/service.js'
import { newUuid } from '../../src/lib/ids.js'
import { TenantCrypto } from '../../src/crypto/service.js'
import { MasterKeyring } from '../../src/crypto/masterKey.js'
import { createTestDb, onCitus, type TestDb } from '@mailroom/testkit/db'
import { TEST_MASTER_KEY } from '@mailroom/testkit/server'

let db: TestDb
const crypto = new TenantCrypto(MasterKeyring.fromStrings(TEST_MASTER_KEY))
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.close())

const rows = <T>(tx: Tx, q: ReturnType<typeof sql>) => rawRows<T>(tx, q)

async function tenantWithInboxes(n: number) {
  const { tenant } = await createRootTenant(db.runtime, crypto, 'forms')
  const inboxes: string[] = []
  for (let i = 0; i < n; i++) {
    const { inbox } = await withTenant(db.runtime, { tenantId: tenant.id }, (tx) => createInbox(tx, { tenantId: tenant.id, domain: 'forms.test' }))
    inboxes.push(inbox.id)
  }
  return { tenantId: tenant.id, inboxes }
}

async function storeMessage(tenantId: string, inboxId: string, rawId: string, opts: { quarantined?: boolean; threadId?: string } = {}) {
  const id = newUuid()
  await withTenant(db.runtime, { tenantId }, async (tx) => {
    await tx.execute(sql`insert into raw_messages (tenant_id, id, data_enc, size, sha256) values (${tenantId}, ${rawId}, '\\x00'::bytea, 1, 'x') on conflict do nothing`)
    await tx.execute(sql`insert into messages (tenant_id, id, inbox_id, raw_id, thread_id, direction, size, quarantined)
                         values (${tenantId}, ${id}, ${inboxId}, ${rawId}, ${opts.threadId ?? null}, 'inbound', 1, ${opts.quarantined ?? false})`)
  })
  return id
}

const rawSeenBy = async (tenantId: string, inboxId: string, rawId: string) =>
  (await withTenant(db.runtime, { tenantId, inboxId }, (tx) => rows<{ id: string }>(tx, sql`select id from raw_messages where id = ${rawId}`))).length

describe('policy and key forms Citus accepts keep the plain-Postgres guarantees', () => {
  it('raw bytes: an inbox key sees them through a visible message of its own inbox only (quarantine, release, delete, a second inbox)', async () => {
    const { tenantId, inboxes: [a, b] } = await tenantWithInboxes(2)
    const rawId = newUuid()
    const m = await storeMessage(tenantId, a!, rawId)
    expect(await rawSeenBy(tenantId, a!, rawId)).toBe(1)
    expect(await rawSeenBy(tenantId, b!, rawId)).toBe(0)
    const set = (q: boolean) => withTenant(db.runtime, { tenantId }, (tx) => tx.execute(sql`update messages set quarantined = ${q} where id = ${m}`))
    await set(true)
    expect(await rawSeenBy(tenantId, a!, rawId)).toBe(0)
    await set(false)
    expect(await rawSeenBy(tenantId, a!, rawId)).toBe(1)
    // The same bytes delivered to the second inbox too (one raw copy per tenant), then the first copy deleted.
    await storeMessage(tenantId, b!, rawId)
    expect(await rawSeenBy(tenantId, b!, rawId)).toBe(1)
    await withTenant(db.runtime, { tenantId }, (tx) => tx.execute(sql`delete from messages where id = ${m}`))
    expect(await rawSeenBy(tenantId, a!, rawId)).toBe(0)
    expect(await rawSeenBy(tenantId, b!, rawId)).toBe(1)
    // Quarantined on arrival: never visible to the inbox key.
    const held = newUuid()
    await storeMessage(tenantId, a!, held, { quarantined: true })
    expect(await rawSeenBy(tenantId, a!, held)).toBe(0)
    // The tenant key sees all of them.
    const all = await withTenant(db.runtime, { tenantId }, (tx) => rows(tx, sql`select id from raw_messages`))
    expect(all.length).toBe(2)
  })

  it('audit rows: the tenant and its ancestors read them, a sibling does not; the ancestors cannot be forged', async () => {
    const { tenant: root } = await createRootTenant(db.runtime, crypto, 'root')
    const { child, sibling } = await withTenant(db.runtime, { tenantId: root.id }, async (tx) => ({
      child: (await createTenantWithKey(tx, crypto, { parentId: root.id, name: 'child' })).tenant,
      sibling: (await createTenantWithKey(tx, crypto, { parentId: root.id, name: 'sibling' })).tenant,
    }))
    const id = newUuid()
    await withTenant(db.runtime, { tenantId: child.id }, (tx) =>
      tx.execute(sql`insert into audit_log (tenant_id, id, actor_kind, action, target_type, tenant_ancestors)
                     values (${child.id}, ${id}, 'tenant_key', 'x', 'tenant', array[${sibling.id}]::uuid[])`),
    )
    const sees = async (tenantId: string) =>
      (await withTenant(db.runtime, { tenantId }, (tx) => rows(tx, sql`select id from audit_log where id = ${id}`))).length
    expect([await sees(child.id), await sees(root.id), await sees(sibling.id)]).toEqual([1, 1, 0])
  })

  it('a deleted thread unlinks its messages; a deleted inbox clears its domain catch-all and takes its route along', async () => {
    const { tenantId, inboxes: [a, b] } = await tenantWithInboxes(2)
    const threadId = newUuid()
    await withTenant(db.runtime, { tenantId }, (tx) => tx.execute(sql`insert into threads (tenant_id, id, inbox_id) values (${tenantId}, ${threadId}, ${a})`))
    const m = await storeMessage(tenantId, a!, newUuid(), { threadId })
    await withTenant(db.runtime, { tenantId }, (tx) => tx.execute(sql`delete from threads where id = ${threadId}`))
    const [msg] = await withTenant(db.runtime, { tenantId }, (tx) => rows<{ thread_id: string | null; tenant_id: string }>(tx, sql`select thread_id, tenant_id from messages where id = ${m}`))
    expect(msg).toEqual({ thread_id: null, tenant_id: tenantId })

    const domainId = newUuid()
    await withTenant(db.runtime, { tenantId }, (tx) =>
      tx.execute(sql`insert into domains (tenant_id, id, name, verification_token, dkim_selector, dkim_private_enc, dkim_public, catch_all_inbox_id)
                     values (${tenantId}, ${domainId}, ${`d${newUuid().slice(0, 8)}.example`}, 't', 's', '\\x00'::bytea, 'p', ${b})`),
    )
    const routesOf = (inboxId: string) => withTenant(db.runtime, { tenantId }, (tx) => rows(tx, sql`select address from address_routes where inbox_id = ${inboxId}`))
    expect((await routesOf(b!)).length).toBe(1)
    expect(await withTenant(db.runtime, { tenantId }, (tx) => deleteInbox(tx, b!))).toBe(true)
    const [d] = await withTenant(db.runtime, { tenantId }, (tx) => rows<{ catch_all_inbox_id: string | null }>(tx, sql`select catch_all_inbox_id from domains where id = ${domainId}`))
    expect(d).toEqual({ catch_all_inbox_id: null })
    expect(await routesOf(b!)).toEqual([])
    // Without the service's own delete, the database still takes the route along on plain Postgres
    // (on Citus the routing table is a reference table and only the service does: README, Scaling out).
    await withTenant(db.runtime, { tenantId }, (tx) => tx.execute(sql`delete from inboxes where id = ${a}`))
    expect((await routesOf(a!)).length).toBe(onCitus ? 1 : 0)
  })
})
