import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { withTenant } from '../../src/db/scope.js'
import { fromPublicId, newUuid } from '../../src/lib/ids.js'
import { inboxes } from '../../src/inboxes/tables.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('inboxes', () => {
  it('creates an inbox at <name>@<MAILROOM_DOMAIN> with an inbox key shown once', async () => {
    const t = await makeTenant(server)
    const res = await t.api.post('/v1/inboxes', { name: 'Support.Team', displayName: 'Support', metadata: { team: 'cx' }, createKey: true })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ address: 'support.team@agents.test', displayName: 'Support', metadata: { team: 'cx' }, tenantId: t.id })
    expect(res.body.apiKey).toMatch(/^mr_ik_/)
    const got = await t.api.get(`/v1/inboxes/${res.body.id}`)
    expect(got.body.apiKey).toBeUndefined()
    const me = await client(server.baseUrl, res.body.apiKey).get('/v1/me')
    expect(me.body).toMatchObject({ scope: 'inbox', inbox: { id: res.body.id, address: 'support.team@agents.test' } })
  })

  it('generates an address when no name is given', async () => {
    const t = await makeTenant(server)
    const res = await t.api.post('/v1/inboxes', {})
    expect(res.status).toBe(201)
    expect(res.body.address).toMatch(/^agent-[0-9a-f]{12}@agents\.test$/)
    expect(res.body.apiKey).toBeUndefined()
  })

  it('refuses a taken address without saying who holds it', async () => {
    const a = await makeTenant(server, 'a')
    const b = await makeTenant(server, 'b')
    expect((await a.api.post('/v1/inboxes', { name: 'sales' })).status).toBe(201)
    const fromB = await b.api.post('/v1/inboxes', { name: 'sales' })
    const fromA = await a.api.post('/v1/inboxes', { name: 'SALES' })
    for (const res of [fromB, fromA]) {
      expect(res.status).toBe(409)
      expect(res.body.error.code).toBe('address_taken')
      expect(res.body.error.message).toBe('the address sales@agents.test is taken')
      expect(res.text).not.toContain(a.id)
    }
  })

  it('rejects bad local parts', async () => {
    const t = await makeTenant(server)
    for (const name of ['-x', 'a b', 'x..y', 'ü', 'a'.repeat(65), 'x@y']) {
      const res = await t.api.post('/v1/inboxes', { name })
      expect({ name, status: res.status, code: res.body.error?.code }).toEqual({ name, status: 400, code: 'validation_error' })
    }
  })

  it('lists with pagination; an inbox key lists only its own inbox', async () => {
    const t = await makeTenant(server)
    const made = []
    for (let i = 0; i < 3; i++) made.push(await makeInbox(server, t))
    const page1 = await t.api.get('/v1/inboxes?limit=2')
    expect(page1.body.data).toHaveLength(2)
    const page2 = await t.api.get(`/v1/inboxes?limit=2&after=${page1.body.nextCursor}`)
    expect(page2.body.data).toHaveLength(1)
    expect(page2.body.nextCursor).toBeNull()
    expect([...page1.body.data, ...page2.body.data].map((i: { id: string }) => i.id)).toEqual(made.map((m) => m.id).reverse())
    const own = await made[1]!.api.get('/v1/inboxes')
    expect(own.body.data.map((i: { id: string }) => i.id)).toEqual([made[1]!.id])
  })

  it('updates and deletes; a deleted inbox frees its address and kills its keys', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t, `del-${Date.now()}`)
    const upd = await t.api.patch(`/v1/inboxes/${inbox.id}`, { displayName: 'New', metadata: { a: 1 } })
    expect(upd.body).toMatchObject({ displayName: 'New', metadata: { a: 1 } })
    expect((await t.api.patch(`/v1/inboxes/${inbox.id}`, { address: 'x@y' })).status).toBe(400)
    expect((await t.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect((await t.api.get(`/v1/inboxes/${inbox.id}`)).status).toBe(404)
    expect((await t.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(404)
    expect((await inbox.api.get('/v1/me')).status).toBe(401)
    expect((await t.api.post('/v1/inboxes', { name: inbox.address.split('@')[0] })).status).toBe(201)
  })

  it('paginates rows that share a millisecond without skipping any (cursor keeps microseconds)', async () => {
    const t = await makeTenant(server)
    const tenantId = fromPublicId('tenant', t.id)!
    const stamps = ['.123456', '.123400', '.123100', '.123001', '.122999']
    await withTenant(server.db.runtime, { tenantId }, async (tx) => {
      for (const [i, us] of stamps.entries()) {
        await tx.insert(inboxes).values({
          tenantId,
          id: newUuid(),
          address: `same-ms-${i}-${Date.now()}@agents.test`,
          createdAt: sql`${`2026-01-01 00:00:00${us}+00`}::timestamptz`,
        })
      }
    })
    const seen: string[] = []
    let after = ''
    for (let guard = 0; guard < 10; guard++) {
      const page = await t.api.get(`/v1/inboxes?limit=1${after ? `&after=${after}` : ''}`)
      seen.push(...page.body.data.map((i: { address: string }) => i.address))
      if (!page.body.nextCursor) break
      after = page.body.nextCursor
    }
    expect(seen.map((a) => a.split('-')[2])).toEqual(['0', '1', '2', '3', '4'])
  })

  it('a malformed id is the same 404 as a missing one', async () => {
    const t = await makeTenant(server)
    const a = await t.api.get('/v1/inboxes/not-an-id')
    const b = await t.api.get(`/v1/inboxes/inb_${'0'.repeat(32)}`)
    expect([a.status, b.status]).toEqual([404, 404])
    expect(a.body.error.message).toBe(b.body.error.message)
  })
})
