// The audit log: who did what with which key, readable by the tenant and its ancestors only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('audit log', () => {
  it('records administrative actions with the acting key, for the tenant and its ancestors', async () => {
    const root = await makeTenant(server)
    const child = await makeChild(root, server)
    const sibling = await makeChild(root, server, 'sibling')
    const me = (await root.api.get('/v1/me')).body
    await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })
    await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })
    const inbox = await makeInbox(server, child)
    const key = await child.api.post('/v1/api-keys', { name: 'ci' })
    await child.api.delete(`/v1/api-keys/${key.body.id}`)

    const childView = (await child.api.get('/v1/audit-log')).body.data
    expect(childView.map((e: { action: string }) => e.action)).toEqual([
      'api_key.revoked',
      'api_key.created',
      'inbox.created',
      'tenant.resumed',
      'tenant.suspended',
      'tenant.created',
    ])
    const suspended = childView.find((e: { action: string }) => e.action === 'tenant.suspended')
    expect(suspended.actor).toEqual({ kind: 'tenant', tenantId: root.id, keyId: me.keyId })
    expect(childView.find((e: { action: string }) => e.action === 'inbox.created').details.address).toBe(inbox.address)

    // The parent sees its child's entries; filtering by tenant works; the sibling sees none of them.
    const rootView = (await root.api.get(`/v1/audit-log?tenantId=${child.id}`)).body.data
    expect(rootView).toHaveLength(childView.length)
    const siblingView = (await sibling.api.get('/v1/audit-log?limit=100')).body.data
    expect(siblingView.every((e: { tenantId: string }) => e.tenantId === sibling.id)).toBe(true)
    expect((await sibling.api.get(`/v1/audit-log?tenantId=${child.id}`)).body.data).toEqual([])
    // Inbox keys cannot read it.
    expect((await client(server.baseUrl, inbox.key).get('/v1/audit-log')).status).toBe(403)
  })

  it('a deleted tenant leaves a record with its parent', async () => {
    const root = await makeTenant(server)
    const child = await makeChild(root, server, 'gone')
    await root.api.delete(`/v1/tenants/${child.id}`)
    const entries = (await root.api.get('/v1/audit-log')).body.data
    expect(entries[0]).toMatchObject({ action: 'tenant.deleted', targetId: child.id, tenantId: root.id, details: { name: 'gone' } })
  })
})
