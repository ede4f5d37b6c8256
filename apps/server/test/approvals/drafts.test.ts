// Drafts: saved per inbox (sealed), listed, updated, deleted, and sent through the send path (held
// under an approval policy like any send, scheduled by their sendAt), at most once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

let n = 0
const unique = (p: string) => `${p}-${++n}-${Math.random().toString(36).slice(2, 7)}`

describe('drafts', () => {
  it('create, list, get, update, delete; content sealed; another inbox key sees none', async () => {
    const t = await makeTenant(server, unique('drafts'))
    const inbox = await makeInbox(server, t, unique('writer'))
    const other = await makeInbox(server, t, unique('other'))
    const created = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { to: 'alice@example.com', subject: 'Secret plan', text: 'first version' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^drf_/), to: ['alice@example.com'], subject: 'Secret plan', text: 'first version', sendAt: null })
    const [row] = await rawRows<{ body_enc: Buffer }>(server.db.owner.db, sql`select body_enc from drafts`)
    expect(Buffer.from(row!.body_enc).includes(Buffer.from('Secret plan'))).toBe(false)
    const second = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { subject: 'empty one' })
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/drafts`)).body.data.map((d: any) => d.id)).toEqual([second.body.id, created.body.id])
    const updated = await inbox.api.patch(`/v1/inboxes/${inbox.id}/drafts/${created.body.id}`, { text: 'second version', cc: ['bob@example.com'] })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ subject: 'Secret plan', text: 'second version', cc: ['bob@example.com'] })
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/drafts/${created.body.id}`)).body.text).toBe('second version')
    expect((await other.api.get(`/v1/inboxes/${inbox.id}/drafts/${created.body.id}`)).status).toBe(404)
    expect((await other.api.get(`/v1/inboxes/${other.id}/drafts`)).body.data).toEqual([])
    expect((await inbox.api.delete(`/v1/inboxes/${inbox.id}/drafts/${second.body.id}`)).status).toBe(204)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/drafts/${second.body.id}`)).status).toBe(404)
  })

  it('send: checked like a send, sent once (two sends at once), the draft gone; under a policy held (202); sendAt schedules it', async () => {
    const t = await makeTenant(server, unique('send'))
    const inbox = await makeInbox(server, t, unique('sender'))
    const noRecipients = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { subject: 'nobody' })
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts/${noRecipients.body.id}/send`, {})).status).toBe(400)
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/drafts/${noRecipients.body.id}`)).status).toBe(200)

    const d = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { to: 'carol@example.com', subject: 'Hello', text: 'hi' })
    const [a, b] = await Promise.all([
      inbox.api.post(`/v1/inboxes/${inbox.id}/drafts/${d.body.id}/send`, {}),
      inbox.api.post(`/v1/inboxes/${inbox.id}/drafts/${d.body.id}/send`, {}),
    ])
    expect([a.status, b.status].sort()).toEqual([201, 404])
    const sent = a.status === 201 ? a : b
    expect(sent.body).toMatchObject({ subject: 'Hello', direction: 'outbound' })
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?direction=outbound`)).body.data.map((m: any) => m.id)).toEqual([sent.body.id])
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/drafts/${d.body.id}`)).status).toBe(404)

    const at = new Date(Date.now() + 3_600_000).toISOString()
    const later = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { to: 'dave@example.com', subject: 'Later', text: 'x', sendAt: at })
    const scheduled = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts/${later.body.id}/send`, {})
    expect(scheduled.status).toBe(201)
    expect(scheduled.body.status).toBe('scheduled')

    expect((await t.api.patch(`/v1/inboxes/${inbox.id}`, { policies: { outboundApproval: 'all' } })).status).toBe(200)
    const guarded = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts`, { to: 'erin@example.com', subject: 'Guarded', text: 'x' })
    const held = await inbox.api.post(`/v1/inboxes/${inbox.id}/drafts/${guarded.body.id}/send`, {})
    expect(held.status).toBe(202)
    expect(held.body.status).toBe('pending_approval')
  })
})
