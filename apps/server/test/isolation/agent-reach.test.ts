// What an agent's transaction (bound to an inbox, as every request of an inbox key is) reaches of its
// tenant's administration, held by Postgres (migration 0042), not only by the routes: its own
// inbox's keys to read and no key to write (no tenant key made for itself, no revoked key revived),
// no key route, console session, domain or domain claim, the webhooks for all inboxes and its own
// (its events fan out to them) but not another inbox's and none to write, no webhook attempt, and an
// audit log it writes to in its own name only and never reads. A key is an inbox key exactly when
// it names an inbox. Bound to the tenant (a person's key) all of it stays as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { boundStatement } from '../helpers/bound-statement.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const tenantUuid = (t: TenantFixture) => fromPublicId('tenant', t.id)!
const inboxUuid = (i: InboxFixture) => fromPublicId('inbox', i.id)!
type Statement = ReturnType<typeof sql>
type Options = { rows?: number; rollback?: boolean }

describe("an agent's transaction and its tenant's administration", () => {
  it('reaches its own keys to read, its inbox-wide and own webhooks to read, an audit entry in its own name to write, and nothing else of it', async () => {
    const t = await makeTenant(server)
    const a = await makeInbox(server, t)
    const b = await makeInbox(server, t)
    const tenantId = tenantUuid(t)
    // The tenant's administration: a webhook for every inbox, one for b alone, a domain (its claim),
    // a console session, and the audit entries all of that wrote.
    expect((await t.api.post('/v1/webhooks', { url: 'https://all.invalid/hook' })).status).toBe(201)
    expect((await t.api.post('/v1/webhooks', { url: 'https://b.invalid/hook', inboxId: b.id })).status).toBe(201)
    expect((await t.api.post('/v1/domains', { name: `reach${Date.now()}.example` })).status).toBe(201)
    const [tenantKey] = await rawRows<{ id: string }>(server.db.owner.db, sql`select id from api_keys where tenant_id = ${tenantId} and scope = 'tenant'`)
    await rawRows(server.db.owner.db, sql`insert into console_sessions (tenant_id, id, key_id, token_hash, expires_at)
      values (${tenantId}, gen_random_uuid(), ${tenantKey!.id}, ${'reach-' + Date.now()}, now() + interval '1 hour')`)

    const asAgent = (statement: Statement, o: Options = {}) => boundStatement(server.db.runtime, tenantId, statement, { ...o, inboxId: inboxUuid(a) })
    const asTenant = (statement: Statement, o: Options = {}) => boundStatement(server.db.runtime, tenantId, statement, o)
    const count = (table: string) => sql`select 1 from ${sql.identifier(table)}`

    // Keys: its own inbox's, read only. No tenant key made for itself, no key of its own either, no
    // revoked key revived, none deleted.
    expect(await asAgent(count('api_keys'), { rows: 1 })).toBe('ok')
    expect(await asAgent(sql`insert into api_keys (tenant_id, id, scope, prefix, hash) values (${tenantId}, gen_random_uuid(), 'tenant', 'mr_tk_forged', 'x')`)).toBe('42501')
    expect(await asAgent(sql`insert into api_keys (tenant_id, id, scope, inbox_id, prefix, hash) values (${tenantId}, gen_random_uuid(), 'inbox', ${inboxUuid(a)}, 'mr_ik_forged', 'x')`)).toBe('42501')
    expect(await asAgent(sql`update api_keys set revoked_at = null returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(sql`delete from api_keys returning 1`, { rows: 0 })).toBe('ok')
    // The rest of the administration: nothing to read or write.
    for (const table of ['key_routes', 'console_sessions', 'domains', 'domain_claims', 'webhook_attempts', 'audit_log']) {
      expect(await asAgent(count(table), { rows: 0 }), table).toBe('ok')
      expect(await asTenant(count(table)), table).toBe('ok')
    }
    expect(await asTenant(count('console_sessions'), { rows: 1 })).toBe('ok')
    expect(await asTenant(count('domains'), { rows: 1 })).toBe('ok')
    expect(await asAgent(sql`insert into console_sessions (tenant_id, id, key_id, token_hash, expires_at)
      values (${tenantId}, gen_random_uuid(), ${tenantKey!.id}, 'forged', now() + interval '1 hour')`)).toBe('42501')
    // A route even for its own key, as the key's check (0034) would pass it.
    const [own] = await rawRows<{ id: string; prefix: string }>(server.db.owner.db, sql`select id, prefix from api_keys where inbox_id = ${inboxUuid(a)}`)
    expect(await asAgent(sql`insert into key_routes (prefix, tenant_id, key_id) values (${own!.prefix}, ${tenantId}, ${own!.id})`)).toBe('42501')
    // Webhooks: the one for every inbox (its events go there), not b's; none changed, made or deleted.
    expect(await asAgent(sql`select url from webhooks`, { rows: 1 })).toBe('ok')
    expect(await asTenant(sql`select url from webhooks`, { rows: 2 })).toBe('ok')
    expect(await asAgent(sql`update webhooks set url = 'https://attacker.invalid/' returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(sql`delete from webhooks returning 1`, { rows: 0 })).toBe('ok')
    // The audit log: written in its own name (an inbox key's, as a cancel does), never in a person's.
    const entry = (kind: string) => sql`insert into audit_log (tenant_id, id, actor_kind, actor_tenant_id, action, target_type)
      values (${tenantId}, gen_random_uuid(), ${kind}, ${tenantId}, 'message.cancelled', 'message')`
    expect(await asAgent(entry('inbox'), { rollback: true })).toBe('ok')
    expect(await asAgent(entry('tenant'))).toBe('42501')
    expect(await asTenant(entry('tenant'), { rollback: true })).toBe('ok')
  })

  it('a key is an inbox key exactly when it names an inbox', async () => {
    const t = await makeTenant(server)
    const a = await makeInbox(server, t)
    const tenantId = tenantUuid(t)
    const key = (scope: string, inboxId: string | null) =>
      boundStatement(server.db.runtime, tenantId, sql`insert into api_keys (tenant_id, id, scope, inbox_id, prefix, hash)
        values (${tenantId}, gen_random_uuid(), ${scope}, ${inboxId}, ${'mr_x_' + Math.random().toString(36).slice(2)}, 'x')`, { rollback: true })
    expect(await key('inbox', null)).toBe('23514')
    expect(await key('tenant', inboxUuid(a))).toBe('23514')
    expect(await key('inbox', inboxUuid(a))).toBe('ok')
    expect(await key('tenant', null)).toBe('ok')
  })
})
