// A person, never the agent, lets held mail out, and Postgres holds to it (migration 0040), not only
// the API: a transaction bound to an inbox (an agent's requests) cannot decide its own approvals,
// cannot queue mail its approval policy holds (the policy trigger on the outbox re-decides what the
// send path decided), cannot queue another inbox's mail or mail it received, and cannot change its
// inbox (its policy, its limits) or the delivery of its mail; nor change its tenant (the tenant's
// own policies among them; migration 0041), see the tenants below, or make or delete one; its event
// counter (0043) it moves. Bound to the tenant (a person's key, the workers) all of it stays open, and through the API
// nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { makeChild, makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { onPostgres } from '@mailroom/testkit/db'
import { rawRows } from '../../src/db/client.js'
import { sendMessage } from '../../src/delivery/send.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { boundStatement } from '../helpers/bound-statement.js'
import { startSink, eventually, type Sink } from '../delivery/sink.js'

let server: TestServer
let sink: Sink
beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({ config: { relayUrl: sink.url }, delivery: { pollMs: 50, retryBaseMs: 100 } })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

let n = 0
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 7)}`
const tenantUuid = (t: TenantFixture) => fromPublicId('tenant', t.id)!
const inboxUuid = (i: InboxFixture) => fromPublicId('inbox', i.id)!
const messageUuid = (id: string) => fromPublicId('message', id)!

/** `statement` bound to agent `i` of tenant `t` (as its key's requests are): 'ok' or the Postgres error code. */
const asAgent = (t: TenantFixture, i: InboxFixture, statement: ReturnType<typeof sql>, o: { rows?: number; rollback?: boolean } = {}) =>
  boundStatement(server.db.runtime, tenantUuid(t), statement, { ...o, inboxId: inboxUuid(i) })
/** `statement` bound to tenant `t` alone (a person's key, the workers). */
const asTenant = (t: TenantFixture, statement: ReturnType<typeof sql>, o: { rows?: number; rollback?: boolean } = {}) =>
  boundStatement(server.db.runtime, tenantUuid(t), statement, o)

/** One outbox row of message `messageId` (public) to `recipient`, queued by inbox `i`. */
const queueRow = (t: TenantFixture, i: InboxFixture, messageId: string, recipient: string, status = 'queued') =>
  sql`insert into outbox (tenant_id, id, message_id, inbox_id, recipient, status)
      values (${tenantUuid(t)}, gen_random_uuid(), ${messageUuid(messageId)}, ${inboxUuid(i)}, ${recipient}, ${status}) returning 1`

/** What the owner reads (past row-level security). */
const ownerRows = <T>(statement: ReturnType<typeof sql>) => rawRows<T>(server.db.owner.db, statement)

async function agent(t: TenantFixture, policies?: Record<string, unknown>) {
  const inbox = await makeInbox(server, t, unique('agent'))
  if (policies) await setPolicy(t, inbox, policies)
  return inbox
}
async function setPolicy(t: TenantFixture, i: InboxFixture, policies: Record<string, unknown>) {
  expect((await t.api.patch(`/v1/inboxes/${i.id}`, { policies })).status).toBe(200)
}
async function send(i: InboxFixture, to: string | string[], status: number) {
  const res = await i.api.post(`/v1/inboxes/${i.id}/messages`, { to, subject: unique('s'), text: 'x' })
  expect(res.status, res.text).toBe(status)
  return res.body as { id: string }
}

describe('held mail, decided by a person alone', () => {
  it('bound to its inbox, an agent cannot approve, reject, delete or forge the decision on its own held mail', async () => {
    const t = await makeTenant(server, unique('decide'))
    const inbox = await agent(t, { outboundApproval: 'all' })
    const to = `${unique('held')}@example.com`
    const held = await send(inbox, to, 202)
    const m = messageUuid(held.id)
    // It reads its own approval ...
    expect(await asAgent(t, inbox, sql`select status from approvals where message_id = ${m}`, { rows: 1 })).toBe('ok')
    // ... and changes none of it: no row to update or delete (row-level security), no decided row to insert.
    expect(await asAgent(t, inbox, sql`update approvals set status = 'approved', decided_at = now() where message_id = ${m} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`update approvals set expires_at = now() + interval '1 year' where message_id = ${m} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`delete from approvals where message_id = ${m} returning 1`, { rows: 0 })).toBe('ok')
    const [status] = await ownerRows<{ status: string }>(sql`select status from approvals where message_id = ${m}`)
    expect(status).toEqual({ status: 'pending' })
    const forged = (status: string) => sql`insert into approvals (tenant_id, message_id, inbox_id, status, requested_at, expires_at, draft_enc)
      select tenant_id, gen_random_uuid(), inbox_id, ${status}, now(), now() + interval '1 hour', draft_enc from approvals where message_id = ${m}`
    expect(await asAgent(t, inbox, forged('approved'))).toBe('42501')
    // A person's decision still goes (bound to the tenant, as the approve route runs), rolled back here ...
    expect(await asTenant(t, sql`update approvals set status = 'rejected' where message_id = ${m} returning 1`, { rows: 1, rollback: true })).toBe('ok')
    // ... and through the API the tenant's key approves it: it goes out.
    expect((await t.api.post(`/v1/inboxes/${inbox.id}/messages/${held.id}/approve`, {})).status).toBe(200)
    await eventually(async () => sink.received.some((r) => r.to.includes(to)), 15_000, 'approved mail delivered')
  })

  it('bound to its inbox, nothing its approval policy holds reaches the outbox, whatever the statement', async () => {
    const t = await makeTenant(server, unique('queue'))
    const inbox = await agent(t)
    const known = `${unique('known')}@example.com`
    const fresh = `${unique('fresh')}@example.com`
    const other = await makeTenant(server, unique('other'))
    const peer = await makeInbox(server, other, unique('peer'))
    // Mail sent under no policy: both recipients become contacts; then the fresh one is made a stranger again.
    const sent = await send(inbox, [known, fresh, peer.address], 201)
    await ownerRows(sql`update contacts set sent_count = 0, received_count = 0 where inbox_id = ${inboxUuid(inbox)} and address = ${fresh}`)
    const again = (to: string, status = 'queued') => asAgent(t, inbox, queueRow(t, inbox, sent.id, to, status), { rollback: true })

    // No policy: the agent queues its own mail to its recipients.
    expect(await again(known)).toBe('ok')
    // `first_contact`: to a contact, yes; to an address never in conversation, no (a suppressed row never leaves: yes).
    await setPolicy(t, inbox, { outboundApproval: 'first_contact' })
    expect(await again(known)).toBe('ok')
    expect(await again(fresh)).toBe('42501')
    expect(await again(fresh, 'suppressed')).toBe('ok')
    // `external`: to an inbox on the platform, yes; off it, no.
    await setPolicy(t, inbox, { outboundApproval: 'external' })
    expect(await again(peer.address)).toBe('ok')
    expect(await again(known)).toBe('42501')
    // `all`: nothing.
    await setPolicy(t, inbox, { outboundApproval: 'all' })
    expect(await again(peer.address)).toBe('42501')
    expect(await again(known)).toBe('42501')
    // Bound to the tenant (a person's send, the approval path), the policy holds nothing.
    expect(await asTenant(t, queueRow(t, inbox, sent.id, known), { rollback: true })).toBe('ok')
    // Already delivered rows cannot be queued again under another status either.
    expect(await asAgent(t, inbox, queueRow(t, inbox, sent.id, known, 'sent'), { rollback: true })).toBe('42501')
  })

  it("the policy the trigger applies is the chain's: a parent's policy on its child binds the child's agents", async () => {
    const parent = await makeTenant(server, unique('parent'))
    const child = await makeChild(parent, server, unique('child'))
    const inbox = await agent(child)
    const sent = await send(inbox, 'a@example.com', 201)
    expect(await asAgent(child, inbox, queueRow(child, inbox, sent.id, 'a@example.com'), { rollback: true })).toBe('ok')
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { policies: { outboundApproval: 'all' } })).status).toBe(200)
    expect(await asAgent(child, inbox, queueRow(child, inbox, sent.id, 'a@example.com'), { rollback: true })).toBe('42501')
  })

  it('bound to its inbox, an agent queues only its own outbound mail, to its recipients, never mail once held', async () => {
    const t = await makeTenant(server, unique('own'))
    const inbox = await agent(t)
    const sibling = await agent(t, { outboundApproval: 'all' })
    const sent = await send(inbox, 'b@example.com', 201)
    // Another recipient than the message's.
    expect(await asAgent(t, inbox, queueRow(t, inbox, sent.id, 'someone-else@example.com'), { rollback: true })).toBe('42501')
    // A sibling's held mail, queued under this (unheld) inbox's name.
    const held = await send(sibling, 'c@example.com', 202)
    expect(await asAgent(t, inbox, queueRow(t, inbox, held.id, 'c@example.com'), { rollback: true })).toBe('42501')
    // Mail it received (sent on as it came: someone else's words under the platform's name).
    const subject = unique('inbound')
    await sendMail(server, { from: 'stranger@example.com', to: inbox.address, subject, text: 'x' })
    await settled(server)
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)
    const received = (list.body.data as { id: string; subject: string }[]).find((m) => m.subject === subject)!
    expect(await asAgent(t, inbox, queueRow(t, inbox, received.id, 'stranger@example.com'), { rollback: true })).toBe('42501')
    // Its own mail once held, after the policy was lifted: still a person's to release.
    await setPolicy(t, sibling, { outboundApproval: 'none' })
    expect(await asAgent(t, sibling, queueRow(t, sibling, held.id, 'c@example.com'), { rollback: true })).toBe('42501')
  })

  // A real Postgres: the person's change commits on another connection while the send's transaction
  // is open (the embedded store has one session).
  it.skipIf(!onPostgres)('a policy set while an agent\'s send runs: the outbox check refuses the send\'s rows, and the send is made again under it (held)', async () => {
    const t = await makeTenant(server, unique('race'))
    const inbox = await agent(t)
    const i = inboxUuid(inbox)
    let attempts = 0
    // Runs in the send's transaction, after it read the policy: a person's `all` commits then.
    const personSetsAll = async () => {
      attempts++
      if (attempts === 1) await ownerRows(sql`update inboxes set policies = '{"outboundApproval": "all"}'::jsonb where id = ${i}`)
    }
    const out = await sendMessage(server.running.deps, { tenantId: tenantUuid(t), inboxId: i }, i, { type: 'send', body: { to: 'race@example.com', subject: 'race', text: 'x' } }, personSetsAll)
    expect(attempts).toBe(2)
    expect(out.held).toBe(true)
    expect(out.sent.status).toBe('pending_approval')
    // The first attempt left nothing: one message, held, no outbox row.
    const rows = await ownerRows<{ status: string; n: number }>(sql`select m.status, (select count(*)::int from outbox o where o.tenant_id = m.tenant_id and o.message_id = m.id) as n
      from messages m where m.tenant_id = ${tenantUuid(t)} and m.inbox_id = ${i}`)
    expect(rows).toEqual([{ status: 'pending_approval', n: 0 }])
  })

  it('bound to its inbox, an agent reads its inbox and its deliveries but changes neither; it withdraws a queued one', async () => {
    const t = await makeTenant(server, unique('read'))
    const inbox = await agent(t, { outboundApproval: 'first_contact' })
    const i = inboxUuid(inbox)
    expect(await asAgent(t, inbox, sql`select policies from inboxes where id = ${i}`, { rows: 1 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`update inboxes set policies = '{}'::jsonb where id = ${i} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`update inboxes set limits = '{}'::jsonb where id = ${i} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`delete from inboxes where id = ${i} returning 1`, { rows: 0 })).toBe('ok')
    const [row] = await ownerRows<{ policies: unknown }>(sql`select policies from inboxes where id = ${i}`)
    expect(row?.policies).toMatchObject({ outboundApproval: 'first_contact' })
    // A scheduled send: its row is the agent's to read and withdraw (cancel), not to change.
    await setPolicy(t, inbox, { outboundApproval: 'none' })
    const later = new Date(Date.now() + 3_600_000).toISOString()
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'later@example.com', subject: 'later', text: 'x', sendAt: later })
    expect(res.status, res.text).toBe(201)
    const m = messageUuid(res.body.id)
    expect(await asAgent(t, inbox, sql`select 1 from outbox where message_id = ${m}`, { rows: 1 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`update outbox set next_attempt_at = now() where message_id = ${m} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`update outbox set recipient = 'elsewhere@example.com' where message_id = ${m} returning 1`, { rows: 0 })).toBe('ok')
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${res.body.id}/cancel`, {})).body).toMatchObject({ status: 'cancelled' })
    expect(await ownerRows(sql`select 1 from outbox where message_id = ${m}`)).toHaveLength(0)
  })
})

describe("an agent's tenant, out of its reach (migration 0041)", () => {
  it('bound to an inbox, a transaction reads its own tenant alone, changes nothing of it, makes or deletes no tenant, and moves its event counter', async () => {
    const parent = await makeTenant(server, unique('top'))
    const t = await makeChild(parent, server, unique('mid'))
    const below = await makeChild(t, server, unique('low'))
    const inbox = await agent(t)
    // A person of the tenant holds every agent's mail (the tenant's own policy).
    expect((await t.api.patch(`/v1/tenants/${t.id}`, { policies: { outboundApproval: 'all' } })).status).toBe(200)
    const id = tenantUuid(t)
    expect(await asAgent(t, inbox, sql`update tenants set policies = '{}'::jsonb where id = ${id} returning 1`)).toBe('42501')
    expect(await asAgent(t, inbox, sql`update tenants set name = 'renamed' where id = ${id} returning 1`)).toBe('42501')
    expect(await asAgent(t, inbox, sql`update tenants set metadata = '{"x": 1}'::jsonb where id = ${id} returning 1`)).toBe('42501')
    // Its event counter, which every event of its sends takes ids from (a table of its own: 0043), moves.
    expect(await asAgent(t, inbox, sql`insert into tenant_event_seqs as c (tenant_id, seq) values (${id}, 1)
      on conflict (tenant_id) do update set seq = c.seq + 1 returning 1`, { rows: 1, rollback: true })).toBe('ok')
    // Its own tenant's row alone, to read: not the tenant below it; no tenant made or deleted.
    expect(await asAgent(t, inbox, sql`select id from tenants`, { rows: 1 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`delete from tenants where id = ${tenantUuid(below)} returning 1`, { rows: 0 })).toBe('ok')
    expect(await asAgent(t, inbox, sql`insert into tenants (id, parent_id, name) values (gen_random_uuid(), ${id}, 'made') returning 1`)).toBe('42501')
    expect(await ownerRows(sql`select 1 from tenants where id = ${tenantUuid(below)}`)).toHaveLength(1)
    // Bound to the tenant (a person's key) all of it stays open.
    expect(await asTenant(t, sql`select id from tenants`, { rows: 2 })).toBe('ok')
    expect(await asTenant(t, sql`update tenants set policies = '{}'::jsonb where id = ${id} returning 1`, { rows: 1, rollback: true })).toBe('ok')
    expect(await asTenant(t, sql`delete from tenants where id = ${tenantUuid(below)} returning 1`, { rows: 1, rollback: true })).toBe('ok')
    // And the agent's mail waits, as the tenant's policy says.
    await send(inbox, 'held@example.com', 202)
    expect((await ownerRows<{ policies: unknown }>(sql`select policies from tenants where id = ${id}`))[0]?.policies).toMatchObject({ outboundApproval: 'all' })
  })
})
