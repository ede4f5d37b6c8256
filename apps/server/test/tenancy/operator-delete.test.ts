// The operator deletes a tenant, a top-level one included (DELETE /v1/tenants/{id} with the
// operator key; `mailroom tenant delete` in test/cli): its data key first, then everything it and its
// descendants own, while no other tenant loses anything. Before, only an ancestor could delete a
// tenant, so a top-level tenant (a customer leaving) could not be deleted at all. No tenant key can
// delete its own tenant: Postgres refuses it (the policy tenants_delete_root, migration 0029).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, rcptReply, sendMail, settled } from '@mailroom/testkit/mail'
import { rawRows } from '../../src/db/client.js'
import { sayChecked, withTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'

const OPERATOR_KEY = 'operator-delete-test-key-0123456789abcdef'
let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ config: { operatorKey: OPERATOR_KEY } })
})
afterAll(() => server?.stop())

const owner = <T>(q: ReturnType<typeof sql>) => rawRows<T>(server.db.owner.db, q)
const TABLES = ['tenants', 'tenant_keys', 'api_keys', 'key_routes', 'inboxes', 'messages', 'raw_messages', 'events', 'usage_daily', 'storage_usage', 'audit_log']

/** Rows each table holds for these tenants (by tenant_id; `tenants` by id). */
async function rowsOf(tenantIds: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of TABLES) {
    const column = t === 'tenants' ? 'id' : 'tenant_id'
    const [r] = await owner<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(t)} where ${sql.identifier(column)} = any(${`{${tenantIds.join(',')}}`}::uuid[])`)
    out[t] = r!.n
  }
  return out
}

const uuidOf = (t: TenantFixture) => fromPublicId('tenant', t.id)!

describe('the operator deletes a tenant', () => {
  const operator = () => client(server.baseUrl, OPERATOR_KEY)

  it('a top-level one, with its descendants and all they own; every other tenant keeps all of its own', async () => {
    const created = await operator().post('/v1/tenants', { name: 'leaving' })
    expect(created.status).toBe(201)
    const root: TenantFixture = { id: created.body.id, key: created.body.apiKey, api: client(server.baseUrl, created.body.apiKey) }
    const child = await makeChild(root, server)
    const inbox = await makeInbox(server, root)
    const childInbox = await makeInbox(server, child)
    const staying = await makeTenant(server)
    const stayingInbox = await makeInbox(server, staying)
    for (const to of [inbox.address, childInbox.address, stayingInbox.address]) await sendMail(server, { to, subject: 'hello' })
    await settled(server)
    await server.running.deps.usage.flush()
    const leaving = [uuidOf(root), uuidOf(child)]
    const before = await rowsOf(leaving)
    for (const t of TABLES) {
      expect(before[t], t).toBeGreaterThan(0)
    }
    const stayingBefore = await rowsOf([uuidOf(staying)])

    // Its own key cannot, nor can a tenant key acting as it: only an ancestor or the operator.
    expect((await root.api.delete(`/v1/tenants/${root.id}`)).status).toBe(403)
    expect((await operator().delete(`/v1/tenants/${root.id}`)).status).toBe(204)

    expect(await rowsOf(leaving)).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])))
    for (const key of [root.key, child.key, inbox.key]) expect((await client(server.baseUrl, key).get('/v1/me')).status).toBe(401)
    expect(await rcptReply(server.running.smtpPort, inbox.address)).toMatch(/^550/)
    expect((await operator().delete(`/v1/tenants/${root.id}`)).status).toBe(404)

    // The tenant that stays has all it had, and goes on receiving.
    await server.running.deps.usage.flush()
    const stayingAfter = await rowsOf([uuidOf(staying)])
    for (const t of TABLES.filter((t) => t !== 'usage_daily' && t !== 'audit_log')) expect(stayingAfter[t], t).toBe(stayingBefore[t])
    await sendMail(server, { to: stayingInbox.address, subject: 'still here' })
    await settled(server)
    expect((await listAll(stayingInbox.api, `/v1/inboxes/${stayingInbox.id}/messages`)).map((m: any) => m.subject)).toEqual(['still here', 'hello'])
  })

  it('a child, as its parent would: recorded in the parent audit log', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    expect((await operator().delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    expect((await parent.api.get(`/v1/tenants/${child.id}`)).status).toBe(404)
    const log = (await parent.api.get('/v1/audit-log')).body.data
    expect(log[0]).toMatchObject({ action: 'tenant.deleted', actor: { kind: 'operator' }, targetType: 'tenant', targetId: child.id })
  })
})

describe('no tenant can delete its own top-level tenant', () => {
  it('bound to it, its own row is not deleted unless the deletion says it is the operator: Postgres decides', async () => {
    const t = await makeTenant(server)
    const other = await makeTenant(server)
    const id = uuidOf(t)
    const runtime = server.db.runtime
    const remove = (bound: string, asOperator: boolean) =>
      withTenant(runtime, { tenantId: bound }, async (tx) => {
        if (asOperator) await sayChecked(tx, 'delete_root')
        return (await rawRows(tx, sql`delete from tenants where id = ${id} returning id`)).length
      })
    expect(await remove(id, false)).toBe(0)
    expect(await remove(uuidOf(other), true)).toBe(0)
    expect((await t.api.get('/v1/me')).status).toBe(200)
    // Bound to itself and marked as the operator's: the one way, as deleteTenantFor takes it.
    expect(await remove(id, true)).toBe(1)
    expect((await rowsOf([id])).tenants).toBe(0)
  })
})
