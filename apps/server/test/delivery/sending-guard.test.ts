// A tenant's sending is resumed, its reputation window restarted and its IP pool assigned by an
// ancestor or the operator only, and Postgres holds to it (the trigger on sending_states, migration
// 0038), not only the API: a statement bound to the tenant itself cannot lift its own pause (abuse
// detection's), wipe its bounce history or take a dedicated pool, whatever the statement. Pausing
// itself stays open (the reputation check pauses a tenant in its own transaction). Through the API an
// ancestor and the operator still do all of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeChild, makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { rawRows } from '../../src/db/client.js'
import { boundStatement } from '../helpers/bound-statement.js'
import { fromPublicId } from '../../src/lib/ids.js'

const OPERATOR_KEY = 'sending-guard-test-operator-key-0123456789'
let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ config: { operatorKey: OPERATOR_KEY, ipPools: { premium: ['127.0.0.1'] } } })
})
afterAll(() => server?.stop())

const uuid = (t: TenantFixture) => fromPublicId('tenant', t.id)!

/** `statement` bound to tenant `t` (with app.sending_manager said, when `manager`): 'ok' or the Postgres error code. */
const asTenant = (t: TenantFixture, statement: ReturnType<typeof sql>, manager = false): Promise<string> =>
  boundStatement(server.db.runtime, uuid(t), statement, manager ? { checked: 'sending_manager' } : {})

/** The sending state's row, as the owner reads it. */
async function stateOf(t: TenantFixture) {
  const [row] = await rawRows<{ paused: boolean; ip_pool: string | null; window_from: Date | null }>(server.db.owner.db, sql`select paused, ip_pool, window_from from sending_states where tenant_id = ${uuid(t)}`)
  return row
}

describe("a tenant's sending, decided above it", () => {
  it('bound to itself, a tenant pauses itself, but cannot resume, restart its window or take a pool', async () => {
    const t = await makeTenant(server)
    const id = uuid(t)
    // Its pause, as the reputation check writes it.
    expect(await asTenant(t, sql`insert into sending_states (tenant_id, paused, paused_reason, paused_at) values (${id}, true, 'bounces', now())
                                 on conflict (tenant_id) do update set paused = true`)).toBe('ok')
    expect(await asTenant(t, sql`update sending_states set paused = false where tenant_id = ${id}`)).toBe('42501')
    expect(await asTenant(t, sql`update sending_states set window_from = now() where tenant_id = ${id}`)).toBe('42501')
    expect(await asTenant(t, sql`update sending_states set ip_pool = 'premium' where tenant_id = ${id}`)).toBe('42501')
    expect(await asTenant(t, sql`delete from sending_states where tenant_id = ${id}`)).toBe('ok')
    // A fresh row that would start a window or name a pool: refused too.
    expect(await asTenant(t, sql`insert into sending_states (tenant_id, window_from) values (${id}, now())`)).toBe('42501')
    expect(await asTenant(t, sql`insert into sending_states (tenant_id, ip_pool) values (${id}, 'premium')`)).toBe('42501')
    expect(await stateOf(t)).toBeUndefined()
    // Said to be a manager's (what the routes say once they checked the caller): it passes.
    expect(await asTenant(t, sql`insert into sending_states (tenant_id, ip_pool, window_from) values (${id}, 'premium', now())`, true)).toBe('ok')
    expect(await stateOf(t)).toMatchObject({ paused: false, ip_pool: 'premium' })
  })

  it('through the API: the tenant cannot resume itself; its parent resumes it and assigns it a pool; the operator too', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    await asTenant(child, sql`insert into sending_states (tenant_id, paused, paused_reason, paused_at) values (${uuid(child)}, true, 'bounces', now())`)
    expect((await child.api.post(`/v1/tenants/${child.id}/sending/resume`, {})).status).toBe(403)
    expect((await parent.api.post(`/v1/tenants/${child.id}/sending/resume`, {})).body).toMatchObject({ paused: false })
    expect((await parent.api.patch(`/v1/tenants/${child.id}/sending`, { ipPool: 'shared' })).body).toMatchObject({ ipPool: 'shared' })
    const operator = client(server.baseUrl, OPERATOR_KEY)
    expect((await operator.patch(`/v1/tenants/${parent.id}/sending`, { ipPool: 'premium' })).body).toMatchObject({ ipPool: 'premium' })
    expect(await stateOf(parent)).toMatchObject({ ip_pool: 'premium' })
    await asTenant(parent, sql`update sending_states set paused = true where tenant_id = ${uuid(parent)}`)
    expect((await operator.post(`/v1/tenants/${parent.id}/sending/resume`, {})).body).toMatchObject({ paused: false, ipPool: 'premium' })
  })
})
