// Allow/block lists: inbound from a blocked sender is refused or kept hidden; a parent's rule binds
// its child and cannot be removed by it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { sql } from 'drizzle-orm'
import { boundStatement } from '../helpers/bound-statement.js'
import { fromPublicId } from '../../src/lib/ids.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

describe('sender rules', () => {
  it('refuses mail from a blocked address or domain at SMTP (550), per inbox or tenant-wide', async () => {
    const t = await makeTenant(server)
    const a = await makeInbox(server, t)
    const b = await makeInbox(server, t)
    expect((await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'spam.example' })).status).toBe(201)
    expect((await t.api.post('/v1/sender-rules', { inboxId: a.id, direction: 'inbound', action: 'block', pattern: 'Boss@Corp.example' })).status).toBe(201)
    await expect(sendMail(server, { from: 'x@mail.spam.example', to: a.address })).rejects.toMatchObject({ responseCode: 550 })
    await expect(sendMail(server, { from: 'boss@corp.example', to: a.address })).rejects.toMatchObject({ responseCode: 550 })
    await sendMail(server, { from: 'boss@corp.example', to: b.address, subject: 'b is fine' })
    await settled(server)
    expect((await b.api.get(`/v1/inboxes/${b.id}/messages`)).body.data).toHaveLength(1)
    expect((await a.api.get(`/v1/inboxes/${a.id}/messages`)).body.data).toHaveLength(0)
  })

  it('keeps blocked mail hidden when the rule says hide', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'noisy.example', blockMode: 'hide' })
    await sendMail(server, { from: 'a@noisy.example', to: inbox.address, subject: 'hidden' })
    await sendMail(server, { from: 'a@quiet.example', to: inbox.address, subject: 'shown' })
    await settled(server)
    const visible = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data
    expect(visible.map((m: { subject: string }) => m.subject)).toEqual(['shown'])
    const all = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?includeHidden=true`)).body.data
    expect(all.map((m: { subject: string }) => m.subject).sort()).toEqual(['hidden', 'shown'])
  })

  it('an inbound allow list refuses everyone else', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await t.api.post('/v1/sender-rules', { inboxId: inbox.id, direction: 'inbound', action: 'allow', pattern: '@partner.example' })
    await sendMail(server, { from: 'ok@partner.example', to: inbox.address })
    await expect(sendMail(server, { from: 'who@else.example', to: inbox.address })).rejects.toMatchObject({ responseCode: 550 })
  })

  it("a parent's rule binds the child, which can list but not remove it", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const asParent = client(server.baseUrl, parent.key, { 'mailroom-tenant': child.id })
    const rule = await asParent.post('/v1/sender-rules', { direction: 'outbound', action: 'allow', pattern: 'customer.example' })
    expect(rule.status).toBe(201)
    expect(rule.body.setByTenantId).toBe(parent.id)
    expect((await child.api.get('/v1/sender-rules')).body.data.map((r: { id: string }) => r.id)).toEqual([rule.body.id])
    // The child's agent may mail customers, and no one else.
    const agent = await makeInbox(server, child)
    const ok = await agent.api.post(`/v1/inboxes/${agent.id}/messages`, { to: 'buyer@shop.customer.example', text: 'x' })
    expect(ok.status).toBe(201)
    const refused = await agent.api.post(`/v1/inboxes/${agent.id}/messages`, { to: ['buyer@customer.example', 'leak@elsewhere.example'], text: 'x' })
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toContain('leak@elsewhere.example')
    expect(refused.body.error.message).not.toContain('buyer@customer.example')
    const denied = await child.api.delete(`/v1/sender-rules/${rule.body.id}`)
    expect(denied.status).toBe(403)
    expect((await asParent.delete(`/v1/sender-rules/${rule.body.id}`)).status).toBe(204)
    // Another tenant cannot see or remove it.
    const other = await makeTenant(server)
    expect((await other.api.delete(`/v1/sender-rules/${rule.body.id}`)).status).toBe(404)
  })

  it("Postgres keeps a parent's rule from the child whatever the statement; the child's own rules, a deleted inbox's and the parent's removal go", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const inbox = await makeInbox(server, child)
    const asParent = client(server.baseUrl, parent.key, { 'mailroom-tenant': child.id })
    const imposed = (await asParent.post('/v1/sender-rules', { direction: 'outbound', action: 'allow', pattern: 'customer.example' })).body
    const onInbox = (await asParent.post('/v1/sender-rules', { inboxId: inbox.id, direction: 'inbound', action: 'block', pattern: 'spam.example' })).body
    const own = (await child.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'junk.example' })).body
    /** `statement` bound to the child: 'ok' or the Postgres error code. */
    const asChild = (statement: ReturnType<typeof sql>) => boundStatement(server.db.runtime, fromPublicId('tenant', child.id)!, statement)
    const ruleId = (r: { id: string }) => fromPublicId('rule', r.id)!
    expect(await asChild(sql`delete from sender_rules where id = ${ruleId(imposed)}`)).toBe('42501')
    expect(await asChild(sql`update sender_rules set pattern = 'anyone.example' where id = ${ruleId(imposed)}`)).toBe('42501')
    expect(await asChild(sql`update sender_rules set set_by_tenant_id = tenant_id where id = ${ruleId(imposed)}`)).toBe('42501')
    expect(await asChild(sql`delete from sender_rules where id = ${ruleId(own)}`)).toBe('ok')
    expect((await child.api.get('/v1/sender-rules')).body.data.map((r: { id: string }) => r.id).sort()).toEqual([imposed.id, onInbox.id].sort())
    // The inbox deleted by the child: the parent's rule on it goes with it (the foreign key's cascade).
    expect((await child.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect((await child.api.get('/v1/sender-rules')).body.data.map((r: { id: string }) => r.id)).toEqual([imposed.id])
    // The parent removes its own rule through the API.
    expect((await asParent.delete(`/v1/sender-rules/${imposed.id}`)).status).toBe(204)
    expect((await child.api.get('/v1/sender-rules')).body.data).toEqual([])
  })

  it('validates patterns', async () => {
    const t = await makeTenant(server)
    for (const pattern of ['not a pattern', 'a@', '@', 'x@@y.com']) {
      const res = await t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern })
      expect({ pattern, status: res.status }).toEqual({ pattern, status: 400 })
    }
  })
})
