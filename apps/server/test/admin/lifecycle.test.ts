// Suspension pauses a tenant's outbox until it is resumed; deleting a tenant leaves nothing of it
// (or of its descendants) in any table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { onPostgres } from '@mailroom/testkit/db'
import { startSink, type Sink } from '../delivery/sink.js'
import { waitForStatus } from '../delivery/helpers.js'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'

let server: TestServer
let sink: Sink
beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({ config: { relayUrl: sink.url }, delivery: { pollMs: 50, retryBaseMs: 1000 } })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

describe('tenant lifecycle', () => {
  it("suspending a tenant pauses its outbox; resuming delivers what waited", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const inbox = await makeInbox(server, child)
    const to = `waiting-${Date.now()}@external.example`
    sink.rule = (rcpt, attempt) => (rcpt === to && attempt === 1 ? { code: 451, message: '4.3.0 try later' } : undefined)
    const sent = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'after resume', text: 'x' })
    expect(sent.status).toBe(201)
    await waitForStatus(inbox.api, inbox.id, sent.body.id, ['deferred'])
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    await new Promise((r) => setTimeout(r, 3000)) // past the retry time
    expect(sink.received.filter((m) => m.to.includes(to))).toHaveLength(0)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    await waitForStatus(inbox.api, inbox.id, sent.body.id, ['sent'])
    expect(sink.received.filter((m) => m.to.includes(to))).toHaveLength(1)
    sink.rule = () => undefined
  })

  it.skipIf(!onPostgres)('deleting a tenant removes all of its data and its descendants\' from every table', async () => {
    const root = await makeTenant(server)
    const child = await makeChild(root, server)
    const grandchild = await makeChild(child, server)
    const keepSibling = await makeChild(root, server)
    const ids = [child.id, grandchild.id].map((id) => fromPublicId('tenant', id)!)
    for (const t of [child, grandchild, keepSibling]) {
      const inbox = await makeInbox(server, t)
      await sendMail(server, { to: inbox.address, subject: 'data', attachments: [{ filename: 'f.txt', content: 'f' }] })
      await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'someone@external.example', subject: 'out', text: 'x' })
      await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'x.example' })
      await t.api.post('/v1/api-keys', { name: 'extra' })
    }
    await settled(server)
    await server.running.deps.usage.flush()

    const tables = await rawRows<{ relname: string }>(server.db.owner.db, sql`
      select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'
        and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)`)
    expect(tables.length).toBeGreaterThan(10)
    // The owner connection in tests is a superuser: it sees every row, RLS or not.
    const count = async (ofIds: string[]) => {
      const out: Record<string, number> = {}
      for (const { relname } of tables) {
        const [r] = await rawRows<{ n: number }>(server.db.owner.db, sql`select count(*)::int as n from ${sql.identifier(relname)} where tenant_id = any(${`{${ofIds.join(',')}}`}::uuid[])`)
        out[relname] = r!.n
      }
      const [t] = await rawRows<{ n: number }>(server.db.owner.db, sql`select count(*)::int as n from tenants where id = any(${`{${ofIds.join(',')}}`}::uuid[])`)
      out.tenants = t!.n
      return out
    }
    const before = await count(ids)
    for (const table of ['messages', 'raw_messages', 'attachments', 'inboxes', 'api_keys', 'tenant_keys', 'sender_rules', 'events', 'usage_daily', 'audit_log']) {
      expect({ table, some: (before[table] ?? 0) > 0 }).toEqual({ table, some: true })
    }
    expect((await root.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    const after = await count(ids)
    expect(Object.entries(after).filter(([, n]) => n > 0)).toEqual([])
    // The sibling is untouched.
    const sibling = await count([fromPublicId('tenant', keepSibling.id)!])
    expect(sibling.messages).toBeGreaterThan(0)
  })
})
