import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('api keys', () => {
  it('mints a tenant key shown once, lists keys without secrets, revokes', async () => {
    const t = await makeTenant(server)
    const res = await t.api.post('/v1/api-keys', { name: 'ci' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ scope: 'tenant', name: 'ci', tenantId: t.id, inboxId: null, revokedAt: null })
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true)
    const list = await t.api.get('/v1/api-keys')
    expect(list.body.data).toHaveLength(2) // the tenant's first key and this one
    expect(JSON.stringify(list.body)).not.toContain(res.body.key)
    expect(JSON.stringify(list.body)).not.toMatch(/"(key|hash)"/)
    const newKey = client(server.baseUrl, res.body.key)
    expect((await newKey.get('/v1/me')).status).toBe(200)
    expect((await t.api.delete(`/v1/api-keys/${res.body.id}`)).status).toBe(204)
    const after = await newKey.get('/v1/me')
    expect(after.status).toBe(401)
    expect(after.body.error.message).toBe('this API key has been revoked')
    // Its use is written with the usage counts (once a second), not by the request itself.
    await server.running.deps.usage.flush()
    const listed = (await t.api.get('/v1/api-keys')).body.data.find((k: { id: string }) => k.id === res.body.id)
    expect(listed.revokedAt).not.toBeNull()
    expect(listed.lastUsedAt).not.toBeNull()
  })

  it("marks a key used with the next usage flush, in the key's own tenant also when it acts in a descendant", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const minted = await parent.api.post('/v1/api-keys', { name: 'acting' })
    expect(minted.status).toBe(201)
    const lastUsed = async () => (await parent.api.get('/v1/api-keys')).body.data.find((k: { id: string }) => k.id === minted.body.id).lastUsedAt
    await server.running.deps.usage.flush()
    expect(await lastUsed()).toBeNull()
    const res = await fetch(`${server.baseUrl}/v1/inboxes`, { headers: { authorization: `Bearer ${minted.body.key}`, 'mailroom-tenant': child.id } })
    expect(res.status).toBe(200)
    await server.running.deps.usage.flush()
    const at = await lastUsed()
    expect(at).not.toBeNull()
    expect(Math.abs(Date.parse(at) - Date.now())).toBeLessThan(5 * 60_000)
  })

  it('mints an inbox key only for an inbox of its own tenant', async () => {
    const a = await makeTenant(server)
    const b = await makeTenant(server)
    const inbox = await makeInbox(server, a)
    const ok = await a.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })
    expect(ok.status).toBe(201)
    expect(ok.body.key).toMatch(/^mr_ik_/)
    const cross = await b.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id })
    expect(cross.status).toBe(404)
    expect((await a.api.post('/v1/api-keys', { scope: 'inbox' })).status).toBe(400)
    expect((await a.api.post('/v1/api-keys', { scope: 'tenant', inboxId: inbox.id })).status).toBe(400)
  })

  it('refuses an expiry in the past', async () => {
    const t = await makeTenant(server)
    const res = await t.api.post('/v1/api-keys', { expiresAt: '2001-01-01T00:00:00Z' })
    expect(res.status).toBe(400)
    expect(res.body.error.issues[0].path).toBe('body.expiresAt')
  })

  it('cannot revoke another tenant\'s key', async () => {
    const a = await makeTenant(server)
    const b = await makeTenant(server)
    const k = await a.api.post('/v1/api-keys', {})
    expect((await b.api.delete(`/v1/api-keys/${k.body.id}`)).status).toBe(404)
    expect((await client(server.baseUrl, k.body.key).get('/v1/me')).status).toBe(200)
  })
})
