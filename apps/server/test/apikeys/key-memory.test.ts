// The HTTP door keeps what a presented key stands for (apikeys/key-memory.ts), so a request of a
// key seen lately opens no transaction to authenticate. What it keeps is used (a key revoked by SQL,
// behind its back, is still accepted), and whatever changes a key through Mailroom is seen by the
// very next request: the key revoked, its inbox deleted, its tenant (or an ancestor) suspended or
// deleted, and resumed. The same for a tenant acting in a descendant (`Mailroom-Tenant`). Expiry is checked at every use. The memory here lasts an hour, so only the
// announcement can make these pass. On Postgres: a lost listening connection forgets every key.
// (Across processes: test/messages/multi-node.test.ts.)
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, notificationsHeard, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { onPostgres } from '@mailroom/testkit/db'
import { rawRows } from '../../src/db/client.js'
import { keyPrefix } from '../../src/apikeys/secret.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { turnsAsked } from '../helpers/turns.js'

/** A clock the test moves (the keys' expiry reads it). */
function manualClock(start = Date.UTC(2026, 0, 5, 12)) {
  let now = start
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) }
}

const clock = manualClock()
let server: TestServer
let uncached: TestServer

beforeAll(async () => {
  server = await startTestServer({ clock, config: { keyCacheSeconds: 3600 } })
  uncached = await startTestServer({ db: server.db, clock, config: { keyCacheSeconds: 0 } })
  // Nothing is kept until the process listens for changes (a moment after it starts).
  for (let i = 0; i < 400 && !server.running.deps.keys.trusted; i++) await new Promise((r) => setTimeout(r, 25))
  expect(server.running.deps.keys.trusted).toBe(true)
})
afterAll(async () => {
  await uncached?.stop()
  await server?.stop()
})

const me = (key: string, on: TestServer = server) => client(on.baseUrl, key).get('/v1/me')

/** Revokes a key the way no Mailroom code does: by SQL, announcing nothing. */
async function revokeBySql(key: string) {
  await rawRows(server.db.owner.db, sql`update api_keys set revoked_at = now() where prefix = ${keyPrefix(key)}`)
}

/** The key lookups (`mailroom_authenticate`, a line of its own each: `auth:<prefix>`) that `f` made. */
async function lookups(f: () => Promise<unknown>): Promise<number> {
  return (await turnsAsked(server.db.runtime, f)).filter((key) => key.startsWith('auth:')).length
}

/** Polls until `key`'s request gets `status` (a notification from another connection is on its way). */
async function statusUntil(key: string, status: number, on: TestServer = server): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const res = await me(key, on)
    if (res.status === status) return status
    await new Promise((r) => setTimeout(r, 50))
  }
  return (await me(key, on)).status
}

describe('the key memory of the HTTP door', () => {
  it('is used: a key seen once is not looked up again, and a key revoked behind its back is still served; without it every request looks', async () => {
    const t = await makeTenant(server)
    expect((await me(t.key)).status).toBe(200)
    expect(await lookups(async () => {
      for (let i = 0; i < 5; i++) expect((await me(t.key)).status).toBe(200)
    })).toBe(0)
    await revokeBySql(t.key)
    expect((await me(t.key)).status).toBe(200)
    // MAILROOM_KEY_CACHE_SECONDS=0 (the second server, same database): every request looks.
    const refused = await me(t.key, uncached)
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toMatch(/revoked/)
  })

  it('keeps no key that matches nothing: a key presented before it exists, then minted, is accepted', async () => {
    const t = await makeTenant(server)
    const unknown = 'mr_tk_' + 'a'.repeat(40)
    const first = await me(unknown)
    expect(first.status).toBe(401)
    expect(await lookups(async () => expect((await me(unknown)).status).toBe(401))).toBe(1)
    expect((await me(t.key)).status).toBe(200)
  })

  it('a key revoked through the API is refused by the next request; another tenant\'s revocation forgets none of this one\'s keys', async () => {
    const a = await makeTenant(server)
    const b = await makeTenant(server)
    const second = (await a.api.post('/v1/api-keys', { scope: 'tenant' })).body
    const other = (await b.api.post('/v1/api-keys', { scope: 'tenant' })).body
    expect((await me(a.key)).status).toBe(200)
    expect((await me(second.key)).status).toBe(200)
    await revokeBySql(a.key)
    // Tenant b's key revoked: a's keys are kept (a's revoked-by-SQL key still served).
    expect((await b.api.delete(`/v1/api-keys/${other.id}`)).status).toBe(204)
    expect((await me(other.key)).status).toBe(401)
    expect((await me(a.key)).status).toBe(200)
    // A key of a revoked through the API: refused at once, and a's other keys looked up afresh.
    expect((await a.api.delete(`/v1/api-keys/${second.id}`)).status).toBe(204)
    const refused = await me(second.key)
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toMatch(/revoked/)
    expect((await me(a.key)).status).toBe(401)
  })

  it("an inbox deleted through the API: its key is refused by the next request", async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}`)).status).toBe(200)
    expect((await t.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    const refused = await me(inbox.key)
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toMatch(/invalid API key/)
  })

  it('a tenant suspended (or its parent): its keys and its descendants\' are refused by the next request, and served again once resumed', async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const grandchild = await makeChild(child, server, 'grandchild')
    const inbox = await makeInbox(server, grandchild)
    for (const key of [child.key, grandchild.key, inbox.key]) expect((await me(key)).status).toBe(200)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    for (const key of [child.key, grandchild.key, inbox.key]) {
      const refused = await me(key)
      expect(refused.status).toBe(403)
      expect(refused.body.error.code).toBe('tenant_suspended')
    }
    expect((await me(root.key)).status).toBe(200)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    for (const key of [child.key, grandchild.key, inbox.key]) expect((await me(key)).status).toBe(200)
  })

  it('a tenant deleted through the API: its keys and its descendants\' are refused by the next request', async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const grandchild = await makeChild(child, server, 'grandchild')
    for (const key of [child.key, grandchild.key]) expect((await me(key)).status).toBe(200)
    expect((await root.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    for (const key of [child.key, grandchild.key]) expect((await me(key)).status).toBe(401)
    expect((await me(root.key)).status).toBe(200)
  })

  it("a tenant suspended, resumed or deleted forgets the keys of its subtree only: its parent's, a sibling's and another tenant's stay kept, and so does acting outside it", async () => {
    const top = await makeTenant(server, 'top')
    const t = await makeChild(top, server, 't')
    const grandchild = await makeChild(t, server, 'grandchild')
    const sibling = await makeChild(top, server, 'sibling')
    const stranger = await makeTenant(server, 'stranger')
    const mint = async (of: { api: ReturnType<typeof client> }, body: object) => (await of.api.post('/v1/api-keys', body)).body as { key: string }
    const siblingInbox = await makeInbox(server, sibling)
    // Keys revoked by SQL once seen (announcing nothing): served while they are kept, refused once forgotten.
    const kept = {
      top: (await mint(top, { scope: 'tenant' })).key,
      sibling: (await mint(sibling, { scope: 'tenant' })).key,
      siblingInbox: (await mint(sibling, { scope: 'inbox', inboxId: siblingInbox.id })).key,
      stranger: (await mint(stranger, { scope: 'tenant' })).key,
    }
    const actingIn = (target: string) => client(server.baseUrl, top.key, { 'mailroom-tenant': target }).get('/v1/me')
    for (const key of [...Object.values(kept), grandchild.key]) expect((await me(key)).status).toBe(200)
    expect((await actingIn(sibling.id)).status).toBe(200)
    for (const key of Object.values(kept)) await revokeBySql(key)
    // Acting in the sibling: suspended by SQL, still served where it is kept.
    await rawRows(server.db.owner.db, sql`update tenants set status = 'suspended' where id = ${fromPublicId('tenant', sibling.id)}`)

    expect((await top.api.patch(`/v1/tenants/${t.id}`, { status: 'suspended' })).status).toBe(200)
    expect((await me(grandchild.key)).status).toBe(403)
    expect((await top.api.patch(`/v1/tenants/${t.id}`, { status: 'active' })).status).toBe(200)
    expect((await me(grandchild.key)).status).toBe(200)
    expect((await top.api.delete(`/v1/tenants/${t.id}`)).status).toBe(204)
    expect((await me(grandchild.key)).status).toBe(401)
    // Heard here at once and again from the notifications: none of it touched the keys outside t's subtree.
    await notificationsHeard(server)
    expect(await lookups(async () => {
      for (const key of Object.values(kept)) expect((await me(key)).status).toBe(200)
      expect((await actingIn(sibling.id)).status).toBe(200)
    })).toBe(0)

    // The sibling's own suspension (announced) forgets its keys and acting in it, and nothing else.
    expect((await top.api.patch(`/v1/tenants/${sibling.id}`, { status: 'suspended' })).status).toBe(200)
    for (const key of [kept.sibling, kept.siblingInbox]) expect((await me(key)).status).toBe(401)
    expect((await actingIn(sibling.id)).status).toBe(403)
    for (const key of [kept.top, kept.stranger]) expect((await me(key)).status).toBe(200)
  })

  it('expiry is checked at every use, also of a key kept', async () => {
    const t = await makeTenant(server)
    const expiring = (await t.api.post('/v1/api-keys', { scope: 'tenant', expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() })).body
    expect((await me(expiring.key)).status).toBe(200)
    clock.advance(61_000)
    const refused = await me(expiring.key)
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toMatch(/expired/)
  })

  it("a tenant acting in a descendant (Mailroom-Tenant) is resolved once; a suspension of it or of a tenant between, a resumption and a deletion are seen by the next request", async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const grandchild = await makeChild(child, server, 'grandchild')
    const actingIn = (target: string, on: TestServer = server) => client(on.baseUrl, root.key, { 'mailroom-tenant': target }).get('/v1/me')
    expect((await actingIn(grandchild.id)).status).toBe(200)
    // Suspended by SQL (announcing nothing): still served where it is kept, refused where nothing is.
    await rawRows(server.db.owner.db, sql`update tenants set status = 'suspended' where id = ${fromPublicId('tenant', grandchild.id)}`)
    expect((await actingIn(grandchild.id)).status).toBe(200)
    expect((await actingIn(grandchild.id, uncached)).status).toBe(403)
    await rawRows(server.db.owner.db, sql`update tenants set status = 'active' where id = ${fromPublicId('tenant', grandchild.id)}`)
    // The tenant between suspended through the API: refused at once, and served again once resumed.
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    const refused = await actingIn(grandchild.id)
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('tenant_suspended')
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect((await actingIn(grandchild.id)).status).toBe(200)
    // Deleted through the API: not found at once.
    expect((await root.api.delete(`/v1/tenants/${grandchild.id}`)).status).toBe(204)
    expect((await actingIn(grandchild.id)).status).toBe(404)
    // Another tenant naming it is not found, kept or not.
    const stranger = await makeTenant(server, 'stranger')
    expect((await client(server.baseUrl, stranger.key, { 'mailroom-tenant': child.id }).get('/v1/me')).status).toBe(404)
  })

  it.skipIf(!onPostgres)('a lost listening connection forgets every key', async () => {
    // The last tests' changes are heard again when their notifications come back (on Citus, again
    // from the echo): not in the middle of this one.
    await notificationsHeard(server)
    const t = await makeTenant(server)
    expect((await me(t.key)).status).toBe(200)
    await revokeBySql(t.key)
    expect((await me(t.key)).status).toBe(200)
    await rawRows(server.db.owner.db, sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'mailroom-listen' and datname = current_database()`)
    expect(await statusUntil(t.key, 401)).toBe(401)
  })
})
