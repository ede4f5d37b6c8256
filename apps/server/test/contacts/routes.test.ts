// The contacts API: an inbox lists, searches, reads, edits (name, notes stored encrypted, tags,
// blocked) and deletes the contacts its mail made; another tenant or another inbox's key reaches
// none of them; deleting the inbox or the tenant deletes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { listAll, sendMail, settled } from '@mailroom/testkit/mail'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const owner = <T>(q: ReturnType<typeof sql>) => rawRows<T>(server.db.owner.db, q)

describe('contacts API', () => {
  it('lists, searches, gets, edits and deletes an inbox contacts', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await sendMail(server, { from: 'Alice@Example.com', to: inbox.address, subject: 'one' })
    await sendMail(server, { from: 'bob@builder.example', to: inbox.address, subject: 'two' })
    await settled(server)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'carol@partner.example', subject: 'hi', text: 'x' })).status).toBeLessThan(300)
    const base = `/v1/inboxes/${inbox.id}/contacts`

    const all = await listAll(inbox.api, base)
    expect(all.map((c: any) => c.address)).toEqual(['carol@partner.example', 'bob@builder.example', 'alice@example.com'])
    expect(all[0]).toMatchObject({ receivedCount: 0, sentCount: 1, name: null, notes: null, tags: [], blocked: false })
    expect(all[2]).toMatchObject({ receivedCount: 1, sentCount: 0 })
    expect(all[0].id).toMatch(/^con_[0-9a-f]{32}$/)

    const bob = all[1]
    const edited = await inbox.api.patch(`${base}/${bob.id}`, { name: 'Bob the Builder', notes: 'Prefers mornings. Owes us an invoice.', tags: ['vendor', 'Urgent'], blocked: true })
    expect(edited.status, edited.text).toBe(200)
    expect(edited.body).toMatchObject({ name: 'Bob the Builder', notes: 'Prefers mornings. Owes us an invoice.', tags: ['urgent', 'vendor'], blocked: true })
    expect((await t.api.get(`${base}/${bob.id}`)).body).toEqual(edited.body)
    // Notes are sealed: the row holds no readable note.
    const [row] = await owner<{ notes_enc: Buffer }>(sql`select notes_enc from contacts where id = ${fromPublicId('contact', bob.id)}::uuid`)
    expect(Buffer.from(row!.notes_enc).includes(Buffer.from('mornings'))).toBe(false)

    const addresses = async (q: string) => (await listAll(inbox.api, `${base}?${q}`)).map((c: any) => c.address)
    expect(await addresses('q=builder')).toEqual(['bob@builder.example'])
    expect(await addresses('q=BOB%20THE')).toEqual(['bob@builder.example'])
    expect(await addresses('q=example')).toEqual(['carol@partner.example', 'bob@builder.example', 'alice@example.com'])
    expect(await addresses('tag=vendor')).toEqual(['bob@builder.example'])
    expect(await addresses('blocked=true')).toEqual(['bob@builder.example'])
    expect(await addresses('blocked=false')).toEqual(['carol@partner.example', 'alice@example.com'])
    const page = await inbox.api.get(`${base}?limit=2`)
    expect(page.body.data).toHaveLength(2)
    expect((await inbox.api.get(`${base}?limit=2&after=${page.body.nextCursor}`)).body.data.map((c: any) => c.address)).toEqual(['alice@example.com'])

    // Clearing: null notes and name, no tags.
    const cleared = await inbox.api.patch(`${base}/${bob.id}`, { name: null, notes: null, tags: [] })
    expect(cleared.body).toMatchObject({ name: null, notes: null, tags: [], blocked: true })
    for (const bad of [{}, { tags: ['two words'] }, { notes: 'x'.repeat(10_001) }, { address: 'x@y.z' }]) {
      const res = await inbox.api.patch(`${base}/${bob.id}`, bad)
      expect({ bad, status: res.status, code: res.body.error?.code }).toEqual({ bad, status: 400, code: 'validation_error' })
    }

    expect((await inbox.api.delete(`${base}/${bob.id}`)).status).toBe(204)
    expect((await inbox.api.get(`${base}/${bob.id}`)).status).toBe(404)
    expect((await inbox.api.delete(`${base}/${bob.id}`)).status).toBe(404)
    // New mail from the address makes it a contact again, from scratch.
    await sendMail(server, { from: 'bob@builder.example', to: inbox.address, subject: 'three' })
    await settled(server)
    const again = (await listAll(inbox.api, `${base}?q=bob`))[0]
    expect(again).toMatchObject({ address: 'bob@builder.example', receivedCount: 1, name: null, notes: null, blocked: false })
  })

  it('another tenant or another inbox key reaches nothing; deleting the inbox or the tenant deletes its contacts', async () => {
    // A child tenant, so that its parent can delete it at the end (as a platform would its client).
    const parent = await makeTenant(server)
    const t = await makeChild(parent, server)
    const inbox = await makeInbox(server, t)
    const sibling = await makeInbox(server, t)
    const other = await makeTenant(server)
    await sendMail(server, { from: 'dave@example.com', to: inbox.address, subject: 'one' })
    await settled(server)
    const [dave] = (await inbox.api.get(`/v1/inboxes/${inbox.id}/contacts`)).body.data
    const path = `/v1/inboxes/${inbox.id}/contacts/${dave.id}`
    for (const api of [other.api, sibling.api]) {
      expect((await api.get(`/v1/inboxes/${inbox.id}/contacts`)).status).toBe(404)
      expect((await api.get(path)).status).toBe(404)
      expect((await api.patch(path, { name: 'pwned' })).status).toBe(404)
      expect((await api.delete(path)).status).toBe(404)
    }
    // Through its own inbox path, the sibling's key does not see the contact either.
    expect((await sibling.api.get(`/v1/inboxes/${sibling.id}/contacts/${dave.id}`)).status).toBe(404)
    expect((await sibling.api.get(`/v1/inboxes/${sibling.id}/contacts`)).body.data).toEqual([])
    expect((await inbox.api.get(path)).body.name).toBeNull()

    const count = async (inboxId: string) => (await owner<{ n: number }>(sql`select count(*)::int as n from contacts where inbox_id = ${fromPublicId('inbox', inboxId)}::uuid`))[0]!.n
    expect(await count(inbox.id)).toBe(1)
    expect((await t.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    expect(await count(inbox.id)).toBe(0)
    await sendMail(server, { from: 'erin@example.com', to: sibling.address, subject: 'one' })
    await settled(server)
    expect(await count(sibling.id)).toBe(1)
    expect((await parent.api.delete(`/v1/tenants/${t.id}`)).status).toBe(204)
    expect(await count(sibling.id)).toBe(0)
  })
})
