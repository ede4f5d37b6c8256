// Human approval of what agents send: each policy, their inheritance down the tenant tree, held
// sends (send, reply, forward) that no delivery worker touches, approve (edited, twice at once: sent
// once) and reject by tenant keys only, expiry with a controllable clock, the list of what waits,
// events and the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { expireApprovals } from '../../src/approvals/service.js'
import { strictest } from '../../src/policies/service.js'
import { silentLogger } from '../../src/lib/log.js'
import { makeChild, makeInbox, makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { startSink, eventually, type Sink } from '../delivery/sink.js'
import { eventsOf, waitForStatus } from '../delivery/helpers.js'

let server: TestServer
let sink: Sink
let offsetMs = 0
const clock = { now: () => new Date(Date.now() + offsetMs) }

beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({ clock, config: { relayUrl: sink.url }, delivery: { pollMs: 50, retryBaseMs: 100 } })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

let n = 0
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 7)}`

/** An inbox under `policies`, with its key. */
async function agent(t: TenantFixture, policies?: Record<string, unknown>) {
  const inbox = await makeInbox(server, t, unique('agent'))
  if (policies) expect((await t.api.patch(`/v1/inboxes/${inbox.id}`, { policies })).status).toBe(200)
  return inbox
}

const outboxCount = async (tenantPublic: string, messagePublic: string) => {
  const tenantId = fromPublicId('tenant', tenantPublic)!
  const [r] = await withTenant(server.db.runtime, { tenantId }, (tx) =>
    rawRows<{ n: number }>(tx, sql`select count(*)::int as n from outbox where message_id = ${fromPublicId('message', messagePublic)!}`),
  )
  return r!.n
}

/** Proves nothing held went out: a direct send made after it reaches the sink, the held one does not. */
async function flushSink(t: TenantFixture, inboxId: string) {
  const marker = `${unique('marker')}@example.com`
  const res = await t.api.post(`/v1/inboxes/${inboxId}/messages`, { to: marker, subject: 'marker', text: 'x' })
  expect(res.status).toBe(201)
  await eventually(async () => sink.received.some((m) => m.to.includes(marker)), 15_000, 'marker delivered')
}

const sentTo = (address: string) => sink.received.filter((m) => m.to.includes(address))

describe('approval policies', () => {
  it('combine along the chain: every mode binds, `all` covers the rest, `none` lifts nothing, the shortest expiry wins', () => {
    expect(strictest([]).outboundApproval).toEqual([])
    expect(strictest([{ outboundApproval: 'none' }, null, {}])).toMatchObject({ outboundApproval: [], approvalExpiryHours: 72 })
    expect(strictest([{ outboundApproval: 'external' }, { outboundApproval: 'none' }, { outboundApproval: 'first_contact' }]).outboundApproval).toEqual(['first_contact', 'external'])
    expect(strictest([{ outboundApproval: 'external' }, { outboundApproval: 'all', approvalExpiryHours: 100 }, { approvalExpiryHours: 5 }])).toMatchObject({ outboundApproval: ['all'], approvalExpiryHours: 5 })
  })

  it('an agent cannot lift its own inbox\'s policy: inbox keys cannot change inboxes or their policies', async () => {
    const t = await makeTenant(server, unique('lift'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const r = await inbox.api.patch(`/v1/inboxes/${inbox.id}`, { policies: { outboundApproval: 'none' } })
    expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 403, code: 'forbidden' })
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'x@example.com', subject: 's', text: 'x' })).status).toBe(202)
  })

  it('idempotency is decided at accept time: the same key replays the held answer, nothing is held twice', async () => {
    const t = await makeTenant(server, unique('idem'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const body = { to: 'idem@example.com', subject: 'once', text: 'x' }
    const first = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, body, { 'idempotency-key': 'k-1' })
    const again = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, body, { 'idempotency-key': 'k-1' })
    expect([first.status, again.status]).toEqual([202, 202])
    expect(again.body.id).toBe(first.body.id)
    expect((await t.api.get(`/v1/approvals?inboxId=${inbox.id}`)).body.data.length).toBe(1)
  })

  it('`all`: an inbox key\'s send is held (202 pending_approval, no outbox rows, visible to the agent), a tenant key\'s is not', async () => {
    const t = await makeTenant(server, unique('all'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const to = `${unique('cust')}@example.com`
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'Quote', text: 'Our price is 10' })
    expect(res.status).toBe(202)
    expect(res.body.status).toBe('pending_approval')
    expect(res.body.deliveries).toEqual([])
    expect(res.body.approval.status).toBe('pending')
    expect(res.body.approval.reasons[0]).toMatch(/all/)
    expect(await outboxCount(t.id, res.body.id)).toBe(0)
    // The agent sees its own pending message, sealed and readable like any mail.
    const mine = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${res.body.id}`)
    expect(mine.status).toBe(200)
    expect(mine.body).toMatchObject({ status: 'pending_approval', subject: 'Quote', text: 'Our price is 10' })
    const stored = await rawRows<{ subject_enc: Buffer }>(server.db.owner.db, sql`select subject_enc from messages where id = ${fromPublicId('message', res.body.id)!}`)
    expect(Buffer.from(stored[0]!.subject_enc).includes(Buffer.from('Quote'))).toBe(false)
    // A tenant key (a person's application) sends directly.
    await flushSink(t, inbox.id)
    expect(sentTo(to)).toEqual([])
    expect((await t.api.get(`/v1/inboxes/${inbox.id}/messages/${res.body.id}`)).body.status).toBe('pending_approval')
    const events = await eventsOf(server, t.id)
    const requested = events.filter((e) => e.type === 'message.approval_requested')
    expect(requested.map((e) => (e.data as any).message.id)).toEqual([res.body.id])
  })

  it('reply and forward are held the same way', async () => {
    const t = await makeTenant(server, unique('rf'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    await sendMail(server, { from: 'client@example.com', to: inbox.address, subject: 'Question', text: 'hi' })
    await settled(server)
    const [received] = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data
    const replied = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${received.id}/reply`, { text: 'answer' })
    const forwarded = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${received.id}/forward`, { to: 'boss@example.com' })
    for (const r of [replied, forwarded]) {
      expect(r.status).toBe(202)
      expect(r.body.status).toBe('pending_approval')
      expect(await outboxCount(t.id, r.body.id)).toBe(0)
    }
  })

  it('`first_contact`: held for a recipient never in conversation, sent for one the inbox received mail from or sent approved mail to', async () => {
    const t = await makeTenant(server, unique('fc'))
    const inbox = await agent(t, { outboundApproval: 'first_contact' })
    const known = `${unique('known')}@example.com`
    await sendMail(server, { from: known, to: inbox.address, subject: 'hello', text: 'x' })
    await settled(server)
    const toKnown = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: known, subject: 're', text: 'x' })
    expect(toKnown.status).toBe(201)
    const stranger = `${unique('new')}@example.com`
    const held = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: [known, stranger], subject: 'intro', text: 'x' })
    expect(held.status).toBe(202)
    expect(held.body.approval.reasons.join(' ')).toContain(stranger)
    expect(held.body.approval.reasons.join(' ')).not.toContain(known)
    // Held mail makes nobody a contact: the next mail to the stranger waits too ...
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: stranger, subject: 'again', text: 'x' })).status).toBe(202)
    // ... until a person approves one; then the stranger is in conversation.
    expect((await t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, {})).status).toBe(200)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: stranger, subject: 'third', text: 'x' })).status).toBe(201)
  })

  it('`external`: mail to an inbox on the platform goes, mail off the platform waits', async () => {
    const t = await makeTenant(server, unique('ext'))
    const inbox = await agent(t, { outboundApproval: 'external' })
    const other = await makeTenant(server, unique('other'))
    const peer = await makeInbox(server, other, unique('peer'))
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: peer.address, subject: 'internal', text: 'x' })).status).toBe(201)
    const out = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: [peer.address, 'world@example.com'], subject: 'mixed', text: 'x' })
    expect(out.status).toBe(202)
    expect(out.body.approval.reasons.join(' ')).toContain('world@example.com')
    expect(out.body.approval.reasons.join(' ')).not.toContain(peer.address)
  })

  it('`none` and no policy: sent at once', async () => {
    const t = await makeTenant(server, unique('none'))
    const inbox = await agent(t, { outboundApproval: 'none' })
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'x@example.com', subject: 's', text: 'x' })).status).toBe(201)
  })

  it("inherited: a parent's policy on its child binds the child's agents, and the child cannot lift it", async () => {
    const parent = await makeTenant(server, unique('parent'))
    const child = await makeChild(parent, server, unique('child'))
    const inbox = await agent(child)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'a@example.com', subject: 's', text: 'x' })).status).toBe(201)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { policies: { outboundApproval: 'all', approvalExpiryHours: 24 } })).status).toBe(200)
    // The child sets its own policy to none, and its inbox too: the parent's still binds.
    expect((await child.api.patch(`/v1/tenants/${child.id}`, { policies: { outboundApproval: 'none' } })).status).toBe(200)
    expect((await child.api.patch(`/v1/inboxes/${inbox.id}`, { policies: { outboundApproval: 'none' } })).status).toBe(200)
    const me = await child.api.get(`/v1/tenants/${child.id}`)
    expect(me.body.effectivePolicies.outboundApproval).toEqual(['all'])
    expect(me.body.effectivePolicies.approvalExpiryHours).toBe(24)
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'a@example.com', subject: 's', text: 'x' })
    expect(res.status).toBe(202)
    const hours = (Date.parse(res.body.approval.expiresAt) - Date.now()) / 3_600_000
    expect(hours).toBeGreaterThan(23)
    expect(hours).toBeLessThanOrEqual(24)
    // Policies combine: first_contact on the parent's own level and external below hold both kinds.
    const modes = await parent.api.patch(`/v1/tenants/${child.id}`, { policies: { outboundApproval: 'first_contact' } })
    expect(modes.status).toBe(200)
    expect((await child.api.patch(`/v1/inboxes/${inbox.id}`, { policies: { outboundApproval: 'external' } })).status).toBe(200)
    expect((await child.api.get(`/v1/inboxes/${inbox.id}`)).body.effectivePolicies.outboundApproval).toEqual(['first_contact', 'external'])
  })
})

describe('deciding', () => {
  it('an inbox key gets 403 on approve, reject and the list, even for its own held mail', async () => {
    const t = await makeTenant(server, unique('deny'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const held = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'x@example.com', subject: 's', text: 'x' })
    expect(held.status).toBe(202)
    for (const [path, body] of [
      [`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, {}],
      [`/v1/inboxes/${inbox.id}/messages/${held.body.id}/reject`, { reason: 'no' }],
    ] as const) {
      const r = await inbox.api.post(path, body)
      expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 403, code: 'forbidden' })
    }
    const list = await inbox.api.get('/v1/approvals')
    expect({ status: list.status, code: list.body.error.code }).toEqual({ status: 403, code: 'forbidden' })
    expect((await t.api.get(`/v1/inboxes/${inbox.id}/messages/${held.body.id}`)).body.status).toBe('pending_approval')
  })

  it('approve with an edit: sent once (two approvals at once), as edited, recorded in events and the audit log with the key', async () => {
    const t = await makeTenant(server, unique('approve'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const to = `${unique('dest')}@example.com`
    const held = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'Draft subject', text: 'draft body' })
    expect(held.status).toBe(202)
    const edit = { subject: 'Approved subject', text: 'approved body' }
    const [a, b] = await Promise.all([
      t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, edit),
      t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, edit),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(a.body.approval.status).toBe('approved')
    await waitForStatus(t.api, inbox.id, held.body.id, ['sent'])
    await flushSink(t, inbox.id)
    const got = sentTo(to)
    expect(got.length).toBe(1)
    expect(got[0]!.raw.toString()).toContain('Subject: Approved subject')
    expect(got[0]!.raw.toString()).toContain('approved body')
    expect(got[0]!.raw.toString()).not.toContain('draft body')
    expect(await outboxCount(t.id, held.body.id)).toBe(1)
    // Search finds it by the words it went out with, not the agent's first draft.
    const search = async (q: string) => (await inbox.api.get(`/v1/inboxes/${inbox.id}/search?q=${q}`)).body.data.map((x: { id: string }) => x.id)
    expect(await search('approved')).toEqual([held.body.id])
    expect(await search('draft')).toEqual([])
    // A third approval answers the same, sends nothing more.
    expect((await t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, {})).status).toBe(200)
    const events = (await eventsOf(server, t.id)).filter((e) => e.type === 'message.approved')
    expect(events.length).toBe(1)
    expect((events[0]!.data as any).edited).toEqual(['subject', 'text'])
    const keys = (await t.api.get('/v1/api-keys')).body.data
    const audit = (await t.api.get('/v1/audit-log')).body.data.filter((e: any) => e.action === 'message.approved')
    expect(audit.length).toBe(1)
    expect(audit[0]).toMatchObject({ targetId: held.body.id, actor: { kind: 'tenant', tenantId: t.id }, details: { edited: ['subject', 'text'] } })
    expect(keys.map((k: any) => k.id)).toContain(audit[0].actor.keyId)
    // Rejecting an approved message is refused.
    expect((await t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/reject`, { reason: 'late' })).status).toBe(409)
  })

  it("an ancestor approves and rejects its descendant's held mail (Mailroom-Tenant); reject ends it unsent", async () => {
    const parent = await makeTenant(server, unique('anc'))
    const child = await makeChild(parent, server, unique('desc'))
    const inbox = await agent(child, { outboundApproval: 'all' })
    const to = `${unique('r')}@example.com`
    const one = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'one', text: 'x' })
    const two = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'two', text: 'x' })
    const as = { 'mailroom-tenant': child.id }
    const rejected = await parent.api.post(`/v1/inboxes/${inbox.id}/messages/${one.body.id}/reject`, { reason: 'wrong price' }, as)
    expect(rejected.status).toBe(200)
    expect(rejected.body.status).toBe('rejected')
    expect((await parent.api.post(`/v1/inboxes/${inbox.id}/messages/${one.body.id}/approve`, {}, as)).status).toBe(409)
    // Without Mailroom-Tenant the child's inbox is not the parent's own: 404, as for anything else.
    expect((await parent.api.post(`/v1/inboxes/${inbox.id}/messages/${two.body.id}/approve`, {})).status).toBe(404)
    expect((await parent.api.post(`/v1/inboxes/${inbox.id}/messages/${two.body.id}/approve`, {}, as)).status).toBe(200)
    await waitForStatus(child.api, inbox.id, two.body.id, ['sent'])
    await flushSink(child, inbox.id)
    expect(sentTo(to).length).toBe(1)
    expect(sentTo(to)[0]!.raw.toString()).toContain('Subject: two')
    const types = (await eventsOf(server, child.id)).map((e) => e.type)
    expect(types).toEqual(expect.arrayContaining(['message.approval_requested', 'message.rejected', 'message.approved']))
    const audit = (await parent.api.get('/v1/audit-log')).body.data
    const rej = audit.find((e: any) => e.action === 'message.rejected')
    expect(rej).toMatchObject({ tenantId: child.id, targetId: one.body.id, actor: { kind: 'tenant', tenantId: parent.id }, details: { reason: 'wrong price' } })
  })

  it('expires what nobody decided on in time (controllable clock), with an event; an expired message cannot be approved', async () => {
    const t = await makeTenant(server, unique('exp'))
    const inbox = await agent(t, { outboundApproval: 'all', approvalExpiryHours: 2 })
    const held = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'late@example.com', subject: 's', text: 'x' })
    const fresh = await agent(t, { outboundApproval: 'all' })
    const later = await fresh.api.post(`/v1/inboxes/${fresh.id}/messages`, { to: 'later@example.com', subject: 's', text: 'x' })
    const { database, crypto } = server.running.deps
    // An hour on: nothing is due yet.
    await expireApprovals(database, crypto, { now: () => new Date(Date.now() + 3_600_000) }, silentLogger)
    expect((await t.api.get(`/v1/inboxes/${inbox.id}/messages/${held.body.id}`)).body.status).toBe('pending_approval')
    // Past two hours: the 2-hour one expires, the 72-hour one waits on.
    await expireApprovals(database, crypto, { now: () => new Date(Date.now() + 2 * 3_600_000 + 60_000) }, silentLogger)
    expect((await t.api.get(`/v1/inboxes/${inbox.id}/messages/${held.body.id}`)).body.status).toBe('expired')
    expect((await t.api.get(`/v1/inboxes/${fresh.id}/messages/${later.body.id}`)).body.status).toBe('pending_approval')
    expect((await eventsOf(server, t.id)).filter((e) => e.type === 'message.expired').map((e) => (e.data as any).message.id)).toEqual([held.body.id])
    expect((await t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.body.id}/approve`, {})).status).toBe(409)
    const audit = (await t.api.get('/v1/audit-log')).body.data.find((e: any) => e.action === 'message.expired')
    expect(audit).toMatchObject({ targetId: held.body.id, actor: { kind: 'system' } })
    // The server's own clock: approving once its clock is past the expiry expires it instead.
    offsetMs = 73 * 3_600_000
    try {
      const r = await t.api.post(`/v1/inboxes/${fresh.id}/messages/${later.body.id}/approve`, {})
      expect(r.status).toBe(409)
      expect((await t.api.get(`/v1/inboxes/${fresh.id}/messages/${later.body.id}`)).body.status).toBe('expired')
    } finally {
      offsetMs = 0
    }
  })

  it('GET /v1/approvals: across inboxes and descendants, oldest first, filtered by inbox and tenant, paged', async () => {
    const parent = await makeTenant(server, unique('list'))
    const child = await makeChild(parent, server, unique('kid'))
    const own = await agent(parent, { outboundApproval: 'all' })
    const kid = await agent(child, { outboundApproval: 'all' })
    const ids: string[] = []
    for (const [inbox, subject] of [
      [own, 'p1'],
      [kid, 'c1'],
      [own, 'p2'],
    ] as const) {
      const r = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'someone@example.com', subject, text: 'x' })
      expect(r.status).toBe(202)
      ids.push(r.body.id)
    }
    const all = await parent.api.get('/v1/approvals')
    expect(all.status).toBe(200)
    expect(all.body.data.map((a: any) => a.messageId)).toEqual(ids)
    expect(all.body.data.map((a: any) => a.subject)).toEqual(['p1', 'c1', 'p2'])
    expect(all.body.data[1]).toMatchObject({ tenantId: child.id, inboxId: kid.id, status: 'pending', recipients: ['someone@example.com'] })
    // The child sees its own only; another tenant sees none.
    expect((await child.api.get('/v1/approvals')).body.data.map((a: any) => a.messageId)).toEqual([ids[1]])
    expect((await (await makeTenant(server, unique('stranger'))).api.get('/v1/approvals')).body.data).toEqual([])
    expect((await parent.api.get(`/v1/approvals?inboxId=${own.id}`)).body.data.map((a: any) => a.messageId)).toEqual([ids[0], ids[2]])
    expect((await parent.api.get(`/v1/approvals?tenantId=${child.id}`)).body.data.map((a: any) => a.messageId)).toEqual([ids[1]])
    const pages: string[] = []
    let after: string | null = null
    do {
      const page: any = await parent.api.get(`/v1/approvals?limit=1${after ? `&after=${after}` : ''}`)
      pages.push(...page.body.data.map((a: any) => a.messageId))
      after = page.body.nextCursor
    } while (after)
    expect(pages).toEqual(ids)
    // Decided ones leave the pending list and show under their status.
    await parent.api.post(`/v1/inboxes/${own.id}/messages/${ids[0]}/reject`, { reason: 'no' })
    expect((await parent.api.get('/v1/approvals')).body.data.map((a: any) => a.messageId)).toEqual([ids[1], ids[2]])
    const rejected = (await parent.api.get('/v1/approvals?status=rejected')).body.data
    expect(rejected).toMatchObject([{ messageId: ids[0], reason: 'no', decidedBy: { kind: 'tenant', tenantId: parent.id } }])
  })
})
