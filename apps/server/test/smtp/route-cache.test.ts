// The SMTP door keeps each address's route in memory (smtp/recipient-routing.ts). What it keeps is
// used (a route removed behind its back, by SQL, is still served), and whatever changes a route
// through Mailroom is seen by the very next RCPT: an inbox deleted, a tenant suspended and resumed,
// an inbox created over a domain's catch-all, the catch-all removed, a tenant deleted. The cache
// here lasts an hour, so only the announcement can make these pass. On Postgres: a lost listening
// connection forgets everything (the notifications it missed are lost). The recipient's limits and
// sender rules (smtp/recipient-policy.ts) are kept and forgotten the same way: a rule or a limit
// changed through Mailroom is seen by the next RCPT.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, notificationsHeard, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { rcptReply, rcptReplyUntil, sendMail, settled } from '@mailroom/testkit/mail'
import { onPostgres } from '@mailroom/testkit/db'
import { editableDns } from '../helpers/dns.js'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'

const { resolver, publish } = editableDns()

let server: TestServer
let uncached: TestServer

beforeAll(async () => {
  server = await startTestServer({ resolver, config: { smtpRouteCacheSeconds: 3600 } })
  uncached = await startTestServer({ db: server.db, config: { smtpRouteCacheSeconds: 0 } })
})
afterAll(async () => {
  await uncached?.stop()
  await server?.stop()
})

const rcpt = (address: string, on: TestServer = server, mailFrom?: string) => rcptReply(on.running.smtpPort, address, mailFrom)
const rcptUntil = (address: string, pattern: RegExp) => rcptReplyUntil(server.running.smtpPort, address, pattern)

/** Removes an address's route the way no Mailroom code does: by SQL, announcing nothing. */
async function dropRouteBySql(address: string) {
  await rawRows(server.db.owner.db, sql`delete from address_routes where address = ${address}`)
}

describe('the route memory of the SMTP door', () => {
  it('is used: a route removed behind its back is still served, and looked up afresh where nothing is kept', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    // The inbox's creation is announced (its address forgotten) here at once and again when its
    // notification comes back; from then on its route is kept.
    await notificationsHeard(server)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await dropRouteBySql(inbox.address)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    // MAILROOM_SMTP_ROUTE_CACHE_SECONDS=0 (the second server, same database): every RCPT looks.
    expect(await rcpt(inbox.address, uncached)).toMatch(/^550 5\.1\.1 /)
  })

  it("a change forgets only the routes it may touch: another inbox created or deleted keeps them, a tenant's suspension forgets its subtree's only", async () => {
    const top = await makeTenant(server)
    const root = await makeChild(top, server)
    const kept = await makeInbox(server, root)
    await notificationsHeard(server)
    expect(await rcpt(kept.address)).toMatch(/^250 /)
    await dropRouteBySql(kept.address)
    const other = await makeInbox(server, root)
    expect((await root.api.delete(`/v1/inboxes/${other.id}`)).status).toBe(204)
    // Heard here at once, and again from the notifications: neither forgets the other route.
    await notificationsHeard(server)
    expect(await rcpt(kept.address)).toMatch(/^250 /)
    // A child's suspension, resumption and deletion, and a sibling's suspension, touch the routes
    // of their subtrees only: the root's is kept.
    const child = await makeChild(root, server)
    const sibling = await makeChild(top, server)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect((await root.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    expect((await top.api.patch(`/v1/tenants/${sibling.id}`, { status: 'suspended' })).status).toBe(200)
    await notificationsHeard(server)
    expect(await rcpt(kept.address)).toMatch(/^250 /)
    // The root's own suspension (its subtree's routes change) forgets it.
    expect((await top.api.patch(`/v1/tenants/${root.id}`, { status: 'suspended' })).status).toBe(200)
    expect(await rcpt(kept.address)).toMatch(/^550 5\.1\.1 /)
  })

  it('keeps no address that routes nowhere: an inbox created later takes mail at once', async () => {
    const t = await makeTenant(server)
    const address = `later-${Date.now()}@agents.test`
    expect(await rcpt(address)).toMatch(/^550 5\.1\.1 /)
    const created = await t.api.post('/v1/inboxes', { name: address.split('@')[0] })
    expect(created.status).toBe(201)
    expect(await rcpt(address)).toMatch(/^250 /)
  })

  it('an inbox deleted through the API is refused by the next RCPT', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    expect((await t.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect(await rcpt(inbox.address)).toMatch(/^550 5\.1\.1 /)
  })

  it("a tenant suspended (or its parent) is answered 451 by the next RCPT, and 250 again once resumed", async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const inbox = await makeInbox(server, child)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    expect(await rcpt(inbox.address)).toMatch(/^451 4\.7\.1 /)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    // Deleting the tenant takes its addresses with it.
    expect((await root.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    expect(await rcpt(inbox.address)).toMatch(/^550 5\.1\.1 /)
  })

  it("a domain's catch-all: an inbox created over it gets its own address's mail, and removing it refuses the rest", async () => {
    const t = await makeTenant(server)
    const domain = (await t.api.post('/v1/domains', { name: `routes-${Date.now()}.test` })).body
    publish(domain)
    expect((await t.api.post(`/v1/domains/${domain.id}/verify`)).body.status).toBe('verified')
    const catchAll = (await t.api.post('/v1/inboxes', { name: 'catchall', createKey: true })).body
    expect((await t.api.patch(`/v1/domains/${domain.id}`, { catchAllInboxId: catchAll.id })).status).toBe(200)
    const address = `sales@${domain.name}`
    expect(await rcpt(address)).toMatch(/^250 /)
    expect(await rcpt(`other@${domain.name}`)).toMatch(/^250 /)

    const sales = (await t.api.post('/v1/inboxes', { name: 'sales', domain: domain.name, createKey: true })).body
    expect(sales.address).toBe(address)
    await sendMail(server, { to: address, subject: 'for sales', text: 'x' })
    await settled(server)
    const got = await client(server.baseUrl, sales.apiKey).get(`/v1/inboxes/${sales.id}/messages`)
    expect(got.body.data.map((m: any) => m.subject)).toEqual(['for sales'])
    const caught = await client(server.baseUrl, catchAll.apiKey).get(`/v1/inboxes/${catchAll.id}/messages`)
    expect(caught.body.data).toEqual([])

    expect((await t.api.patch(`/v1/domains/${domain.id}`, { catchAllInboxId: null })).status).toBe(200)
    expect(await rcpt(`other@${domain.name}`)).toMatch(/^550 5\.1\.1 /)
    expect(await rcpt(address)).toMatch(/^250 /)
  })

  it.skipIf(!onPostgres)('a lost listening connection forgets every route (the changes announced meanwhile are lost)', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await notificationsHeard(server)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await dropRouteBySql(inbox.address)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await rawRows(server.db.owner.db, sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'mailroom-listen' and datname = current_database()`)
    expect(await rcptUntil(inbox.address, /^550 /)).toMatch(/^550 5\.1\.1 /)
  })
})

/** Blocks a sender for a tenant the way no Mailroom code does: by SQL, announcing nothing. */
async function blockBySql(tenantId: string, pattern: string) {
  const tenant = fromPublicId('tenant', tenantId)!
  await rawRows(
    server.db.owner.db,
    sql`insert into sender_rules (tenant_id, id, direction, action, pattern, block_mode, set_by_tenant_id)
        values (${tenant}, gen_random_uuid(), 'inbound', 'block', ${pattern}, 'reject', ${tenant})`,
  )
}

describe("the recipient-policy memory of the SMTP door (limits and sender rules)", () => {
  it('is used: a rule added behind its back is not seen; where nothing is kept it is', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    // No change announced earlier (another test's) is still on its way to forget what is kept.
    await notificationsHeard(server)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await blockBySql(t.id, 'example.com')
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    expect(await rcpt(inbox.address, uncached)).toMatch(/^550 5\.7\.1 /)
  })

  it('a sender rule created or deleted through the API is seen by the next RCPT; another tenant keeps its own', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const other = await makeTenant(server)
    const theirs = await makeInbox(server, other)
    for (const box of [inbox, theirs]) expect(await rcpt(box.address)).toMatch(/^250 /)
    await blockBySql(other.id, 'example.com')

    const rule = await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'example.com' })
    expect(rule.status).toBe(201)
    expect(await rcpt(inbox.address)).toMatch(/^550 5\.7\.1 /)
    // The other tenant's memory was not touched: its SQL-made rule is still unseen.
    expect(await rcpt(theirs.address)).toMatch(/^250 /)
    expect((await t.api.delete(`/v1/sender-rules/${rule.body.id}`)).status).toBe(204)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)

    const allow = await t.api.post('/v1/sender-rules', { inboxId: inbox.id, direction: 'inbound', action: 'allow', pattern: 'partner.example' })
    expect(allow.status).toBe(201)
    expect(await rcpt(inbox.address)).toMatch(/^550 5\.7\.1 /)
    expect(await rcpt(inbox.address, server, '<someone@partner.example>')).toMatch(/^250 /)
  })

  it('is kept by inbox, and never served to another tenant than the one it was read for', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const stranger = await makeTenant(server)
    expect((await t.api.post('/v1/sender-rules', { inboxId: inbox.id, direction: 'inbound', action: 'block', pattern: 'example.com' })).status).toBe(201)
    const policies = server.running.deps.policies
    const [tenantId, inboxId, strangerId] = [fromPublicId('tenant', t.id)!, fromPublicId('inbox', inbox.id)!, fromPublicId('tenant', stranger.id)!]
    // Asked first for the stranger (no caller does): read under the stranger's row-level security,
    // where the inbox and its rule do not exist.
    const theirs = await policies.get(strangerId, inboxId)
    expect(theirs.tenantId).toBe(strangerId)
    expect(theirs.rules).toEqual([])
    // The inbox's own tenant is not served what was read for the stranger.
    const own = await policies.get(tenantId, inboxId)
    expect(own.tenantId).toBe(tenantId)
    expect(own.rules).toHaveLength(1)
    // Nor the other way round, once the owner's policy is kept.
    expect((await policies.get(tenantId, inboxId)).rules).toHaveLength(1)
    const again = await policies.get(strangerId, inboxId)
    expect(again.tenantId).toBe(strangerId)
    expect(again.rules).toEqual([])
    expect(await rcpt(inbox.address)).toMatch(/^550 5\.7\.1 /)
  })

  it("an inbox's own receive rate set through the API holds from the next RCPT", async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    for (let i = 0; i < 3; i++) expect(await rcpt(inbox.address)).toMatch(/^250 /)
    expect((await t.api.call('PUT', `/v1/inboxes/${inbox.id}/limits`, { receivePerMinute: 1 })).status).toBe(200)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    expect(await rcpt(inbox.address)).toMatch(/^451 4\.7\.1 Rate limit/)
  })

  it("a parent's limit on its child caps the grandchild's inboxes from the next RCPT", async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const grandchild = await makeChild(child, server, 'grandchild')
    const inbox = await makeInbox(server, grandchild)
    const big = '<sender@example.com> SIZE=50000'
    expect(await rcpt(inbox.address, server, big)).toMatch(/^250 /)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { limits: { maxMessageBytes: 10000 } })).status).toBe(200)
    expect(await rcpt(inbox.address, server, big)).toMatch(/^552 5\.3\.4 /)
    expect(await rcpt(inbox.address, server, '<sender@example.com> SIZE=5000')).toMatch(/^250 /)
  })

  it("a tenant's limits changed forget the policies and limits of its subtree only, not a sibling's", async () => {
    const top = await makeTenant(server, 'top')
    const t = await makeChild(top, server, 't')
    const sibling = await makeChild(top, server, 'sibling')
    const [inbox, theirs] = [await makeInbox(server, t), await makeInbox(server, sibling)]
    const policies = server.running.deps.policies
    const siblingId = fromPublicId('tenant', sibling.id)!
    await notificationsHeard(server)
    for (const box of [inbox, theirs]) expect(await rcpt(box.address)).toMatch(/^250 /)
    await policies.tenantLimits(siblingId)
    // A rule made behind the memory's back: unseen while the sibling's policy is kept.
    await blockBySql(sibling.id, 'example.com')
    expect((await top.api.patch(`/v1/tenants/${t.id}`, { limits: { maxMessageBytes: 10000 } })).status).toBe(200)
    await notificationsHeard(server)
    expect(await rcpt(inbox.address, server, '<sender@example.com> SIZE=50000')).toMatch(/^552 5\.3\.4 /)
    expect(await rcpt(theirs.address)).toMatch(/^250 /)
    const read = policies.counts.tenantLimits.database
    await policies.tenantLimits(siblingId)
    expect(policies.counts.tenantLimits.database).toBe(read)
    // The sibling's own limits changed: its policy is read again, and the rule is seen.
    expect((await top.api.patch(`/v1/tenants/${sibling.id}`, { limits: { maxMessageBytes: 20000 } })).status).toBe(200)
    expect(await rcpt(theirs.address)).toMatch(/^550 5\.7\.1 /)
    expect((await policies.tenantLimits(siblingId)).maxMessageBytes).toBe(20000)
    expect(policies.counts.tenantLimits.database).toBe(read + 1)
  })

  it.skipIf(!onPostgres)('a lost listening connection forgets every policy', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    // No change announced earlier (another test's) is still on its way to forget what is kept.
    await notificationsHeard(server)
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await blockBySql(t.id, 'example.com')
    expect(await rcpt(inbox.address)).toMatch(/^250 /)
    await rawRows(server.db.owner.db, sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'mailroom-listen' and datname = current_database()`)
    expect(await rcptUntil(inbox.address, /^550 /)).toMatch(/^550 5\.7\.1 /)
  })
})
