import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('tenants', () => {
  it('creates a child with its own key, lists and gets it', async () => {
    const parent = await makeTenant(server, 'platform')
    const res = await parent.api.post('/v1/tenants', { name: 'client-a', metadata: { plan: 'pro' } })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ name: 'client-a', parentId: parent.id, status: 'active', metadata: { plan: 'pro' } })
    expect(res.body.apiKey).toMatch(/^mr_tk_[0-9A-Za-z]{40}$/)
    expect(res.body.id).toMatch(/^tnt_[0-9a-f]{32}$/)

    const list = await parent.api.get('/v1/tenants')
    expect(list.status).toBe(200)
    expect(list.body.data.map((t: { id: string }) => t.id)).toEqual([res.body.id])
    expect(list.body.nextCursor).toBeNull()

    const child = client(server.baseUrl, res.body.apiKey)
    const me = await child.get('/v1/me')
    expect(me.body).toMatchObject({ scope: 'tenant', tenant: { id: res.body.id, parentId: parent.id }, inbox: null })
    expect((await child.get(`/v1/tenants/${parent.id}`)).status).toBe(404)
  })

  it('paginates children with a cursor, newest first', async () => {
    const parent = await makeTenant(server)
    const made: string[] = []
    for (let i = 0; i < 5; i++) made.push((await makeChild(parent, server, `c${i}`)).id)
    const seen: string[] = []
    let after: string | null = null
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await parent.api.get(
        `/v1/tenants?limit=2${after ? `&after=${after}` : ''}`,
      )
      expect(page.body.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.data.map((t) => t.id))
      after = page.body.nextCursor
    } while (after)
    expect(seen).toEqual([...made].reverse())
    const bad = await parent.api.get('/v1/tenants?after=garbage')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('validation_error')
  })

  it('suspends and resumes a child: its keys answer 403 tenant_suspended meanwhile', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const grandchild = await makeChild(child, server, 'grandchild')
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).body.status).toBe('suspended')
    for (const t of [child, grandchild]) {
      const res = await t.api.get('/v1/me')
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('tenant_suspended')
    }
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    expect((await child.api.get('/v1/me')).status).toBe(200)
    expect((await grandchild.api.get('/v1/me')).status).toBe(200)
  })

  it('a tenant cannot change its own status or limits, nor delete itself', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    expect((await child.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).body.error.code).toBe('forbidden')
    expect((await child.api.patch(`/v1/tenants/${child.id}`, { limits: { maxInboxes: 5 } })).status).toBe(403)
    expect((await child.api.patch(`/v1/tenants/${child.id}`, { name: 'renamed' })).body.name).toBe('renamed')
    expect((await child.api.delete(`/v1/tenants/${child.id}`)).status).toBe(403)
  })

  it("caps a child's limits at its parent's", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxInboxes: 10 } })).status).toBe(200)
    const res = await child.api.post('/v1/tenants', { name: 'greedy', limits: { maxInboxes: 11 } })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/maxInboxes/)
    expect((await child.api.post('/v1/tenants', { name: 'fine', limits: { maxInboxes: 10 } })).status).toBe(201)
  })

  it('acts inside a descendant with Mailroom-Tenant, never inside a sibling or an ancestor', async () => {
    const root = await makeTenant(server)
    const a = await makeChild(root, server, 'a')
    const b = await makeChild(root, server, 'b')
    const a1 = await makeChild(a, server, 'a1')
    const asRoot = (id: string) => client(server.baseUrl, root.key, { 'mailroom-tenant': id })
    const created = await asRoot(a1.id).post('/v1/inboxes', { name: 'in-a1' })
    expect(created.status).toBe(201)
    expect(created.body.tenantId).toBe(a1.id)
    expect((await a1.api.get(`/v1/inboxes/${created.body.id}`)).status).toBe(200)
    // a sibling, a cousin's parent and an ancestor are all "not found"
    for (const [key, target] of [
      [a.key, b.id],
      [a1.key, a.id],
      [a1.key, root.id],
      [b.key, a1.id],
    ] as const) {
      const res = await client(server.baseUrl, key, { 'mailroom-tenant': target }).get('/v1/inboxes')
      expect(res.status).toBe(404)
      expect(res.body.error.code).toBe('not_found')
    }
  })

  it('deleting a tenant removes its descendants and their inboxes', async () => {
    const root = await makeTenant(server)
    const child = await makeChild(root, server)
    const grandchild = await makeChild(child, server)
    const inbox = await makeInbox(server, grandchild, `gc-${Date.now()}`)
    expect((await root.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    expect((await root.api.get(`/v1/tenants/${child.id}`)).status).toBe(404)
    expect((await grandchild.api.get('/v1/me')).status).toBe(401)
    expect((await inbox.api.get('/v1/me')).status).toBe(401)
    // the address is free again
    const other = await makeTenant(server)
    expect((await other.api.post('/v1/inboxes', { name: inbox.address.split('@')[0] })).status).toBe(201)
  })

  it('validates bodies with the error envelope', async () => {
    const t = await makeTenant(server)
    const res = await t.api.post('/v1/tenants', { name: '' })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'validation_error', requestId: expect.stringMatching(/^req_/) })
    expect(res.body.error.issues[0].path).toBe('body.name')
    const unknown = await t.api.post('/v1/tenants', { name: 'x', bogus: 1 })
    expect(unknown.status).toBe(400)
    const notJson = await t.api.call('POST', '/v1/tenants', '{"name":', { 'content-type': 'application/json' })
    expect(notJson.status).toBe(400)
    expect(notJson.body.error.code).toBe('bad_request')
  })
})
