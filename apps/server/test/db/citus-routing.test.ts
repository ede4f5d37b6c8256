// On a Citus coordinator every statement of a tenant's transaction names its tenant (db/scope.ts
// ownRows), so that it runs on the tenant's shard alone, not on every shard: row-level security
// keeps other tenants' rows out either way, but Citus routes a statement only by the distribution
// column's value written in it. An agent's day runs through a server here: mail received over SMTP
// (the ingest's batches), a held wait answered, the mailbox read, searched and marked, its threads,
// contacts, counts and events, a message's attachment and raw copy; its sending: a draft and a
// message sent and delivered; and its mail held for approval, approved with an edit or rejected by a
// person; and its tenant's administration: keys, a console session, domains verified and given a
// catch-all, webhooks delivered by the worker and replayed, rules, suppressions, the audit log and
// usage, and the retention purge. Nothing may fail, and no statement may leave its tenant out:
// - on Citus (MAILROOM_TEST_CITUS_URL) the server's tenant transactions refuse any statement that
//   would run on more than one shard (Database.routerOnly: citus.multi_task_query_log_level = error),
//   and no such refusal may be logged;
// - on plain Postgres (CI has no Citus) every statement the tenant transactions sent is planned again
//   with its values, and every read of a distributed table must name a constant tenant in its plan
//   (helpers/tenant-statements.ts): a new statement that leaves its tenant out fails here first.
// Not on PGlite (no driver to listen to).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { waitUntil } from '@mailroom/testkit'
import { createTestDb, onCitus, onPostgres, type TestDb } from '@mailroom/testkit/db'
import type { Logger } from '../../src/lib/log.js'
import { sql, type SQL } from 'drizzle-orm'
import { openPostgres, rawRows } from '../../src/db/client.js'
import { useCoordinator } from '../../src/db/open.js'
import { useValuesInserts } from '../../src/db/bulk.js'
import { withoutTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { hashKey, keyPrefix } from '../../src/apikeys/secret.js'
import { purgeExpired } from '../../src/retention/service.js'
import { csrfTokenOf, tokenHash } from '../../src/console/service.js'
import { editableDns } from '../helpers/dns.js'
import { startReceiver, type Receiver } from '../webhooks/helpers.js'
import { TenantStatements } from '../helpers/tenant-statements.js'

/** Every warning and error the server logs. */
const logged: string[] = []
const capture: Logger = {
  debug: () => {},
  info: () => {},
  warn: (msg, fields) => void logged.push(`${msg} ${JSON.stringify(fields ?? {})}`),
  error: (msg, fields) => void logged.push(`${msg} ${JSON.stringify(fields ?? {})}`),
  child: () => capture,
}

/** A response's body, once its status is the one expected (else the body says why). */
async function ok(p: Promise<{ status: number; body: any }>, status = 200) {
  const res = await p
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  return res.body
}

/** A lookup of the doors (no tenant bound), refused if it would run on more than one shard. */
const routerOnlyLookup = <T>(query: SQL) =>
  withoutTenant(server.running.deps.database, async (tx) => {
    await tx.execute(sql`set local citus.multi_task_query_log_level = 'error'`)
    return rawRows<T>(tx, query)
  })

/** What the server logged of statements refused for reaching more than one shard. */
const refusals = () => logged.filter((line) => /multi-task|shard/i.test(line))

/** Without Citus: the tenant transactions' statements, checked by their plans. */
const statements = new TenantStatements()
let ownerUrl = ''

/**
 * The statements that left their tenant out since the last call: refused by Citus (and logged), or,
 * on plain Postgres, found so by their plans (the statements seen since the last call, none seen
 * being a failure of the check itself).
 */
async function offTheirShard(): Promise<string[]> {
  if (onCitus) return refusals()
  expect(statements.size, 'statements seen in tenant transactions').toBeGreaterThan(0)
  return [...refusals(), ...(await statements.unpinned(ownerUrl))]
}

const dns = editableDns()
let server: TestServer
let receiver: Receiver
let listened: TestDb['runtime'] | undefined
/** The process's form of bulk inserts before this file turned on the coordinator's (restored after). */
let valuesInsertsBefore: boolean | undefined
beforeAll(async () => {
  if (!onPostgres) return
  const db = await createTestDb()
  if (onCitus) db.runtime.routerOnly = true
  else {
    // The runtime's pool, told of every statement it sends, and writing the statements a Citus
    // coordinator is sent (the forms of its own where there are: db/open.ts useCoordinator).
    listened = openPostgres({ url: db.runtimeUrl!, max: 10, runtime: true, onStatement: statements.onStatement })
    // (useCoordinator also sets the form of bulk inserts for the whole process, which the files run
    // after this one in the same worker must not inherit: put back in afterAll.)
    valuesInsertsBefore = useValuesInserts(true)
    useCoordinator([listened], true)
    ownerUrl = db.ownerUrl!
  }
  receiver = await startReceiver()
  server = await startTestServer({
    db: listened ? { ...db, runtime: listened } : db,
    log: capture,
    resolver: dns.resolver,
    config: { webhookAllowPrivate: 'loopback' },
    webhooks: { pollMs: 100, retryBaseMs: 50, retryMaxMs: 200 },
  })
})
afterAll(async () => {
  await server?.stop()
  await listened?.close()
  if (valuesInsertsBefore !== undefined) useValuesInserts(valuesInsertsBefore)
  await server?.db.close()
  await receiver?.close()
})

describe.skipIf(!onPostgres)("a tenant's statements name their tenant (on Citus: run on its shard alone)", () => {
  // What the server logged (a statement refused, with its error) says what to mend.
  beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(logged.join('\n'))))

  it("an agent's day: receiving, waiting, reading, searching, marking, threads, contacts, counts, events", async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const api = inbox.api
    const base = `/v1/inboxes/${inbox.id}`

    // A wait held until the mail comes, answered from the committed message.
    const waiting = api.get(`${base}/messages/wait?timeout=30`)
    await waitUntil('the wait is held', () => server.running.deps.waits.parked >= 1)
    await sendMail(server, {
      to: inbox.address,
      subject: 'Invoice 42',
      text: 'Please find the invoice attached.',
      messageId: '<first@example.com>',
      attachments: [{ filename: 'invoice.txt', content: 'total: 42' }],
    })
    const first = (await ok(waiting)).message
    expect(first.subject).toBe('Invoice 42')
    // A reply in the same thread, stored by the ingest's next batch.
    await sendMail(server, { to: inbox.address, subject: 'Re: Invoice 42', text: 'Paid.', inReplyTo: '<first@example.com>', references: '<first@example.com>' })
    await settled(server)

    const list = await ok(api.get(`${base}/messages?limit=10`))
    expect(list.data).toHaveLength(2)
    const got = await ok(api.get(`${base}/messages/${first.id}`))
    expect(got.attachments).toHaveLength(1)
    const attachment = await api.call('GET', `${base}/messages/${first.id}/attachments/${got.attachments[0].id}`)
    expect(attachment.status).toBe(200)
    expect((await api.call('GET', `${base}/messages/${first.id}/raw`)).status).toBe(200)

    const threads = await ok(api.get(`${base}/threads`))
    expect(threads.data).toHaveLength(1)
    expect((await ok(api.get(`${base}/threads/${threads.data[0].id}`))).messages).toHaveLength(2)
    expect((await ok(api.get(`${base}/search?q=paid`))).data).toHaveLength(1)

    await ok(api.patch(`${base}/messages/${first.id}`, { seen: true, addLabels: ['billing'] }))
    expect(await ok(api.get(`${base}/counts`))).toMatchObject({ total: 2, unread: 1 })
    expect((await ok(api.get(`${base}/messages?label=billing`))).data).toHaveLength(1)

    const contacts = await ok(api.get(`${base}/contacts`))
    expect(contacts.data.map((c: { address: string }) => c.address)).toContain('sender@example.com')
    await ok(api.get(`${base}/contacts/${contacts.data[0].id}`))
    await ok(api.get(base))
    // The inbox's events, from the first: the stream's first event comes.
    const stream = await fetch(`${server.baseUrl}/v1/events?after=0`, { headers: { authorization: `Bearer ${inbox.key}` } })
    expect(stream.status).toBe(200)
    const reader = stream.body!.getReader()
    let text = ''
    while (!text.includes('data:')) text += new TextDecoder().decode((await reader.read()).value)
    await reader.cancel()

    expect(await offTheirShard()).toEqual([])
  })

  it("an agent's sending: a draft written, changed and sent, a message sent, both delivered to another inbox, their deliveries read", async () => {
    const t = await makeTenant(server)
    const [from, to] = [await makeInbox(server, t), await makeInbox(server, t)]
    const base = `/v1/inboxes/${from.id}`
    // A wait held on the other inbox before anything is sent (a wait without a cursor looks for mail
    // from its start on); the second message is then asked for from the first one's cursor.
    const waiting = to.api.get(`/v1/inboxes/${to.id}/messages/wait?timeout=30`)
    await waitUntil('the wait is held', () => server.running.deps.waits.parked >= 1)
    const draft = await ok(from.api.post(`${base}/drafts`, { to: [to.address], subject: 'Draft', text: 'first' }), 201)
    await ok(from.api.patch(`${base}/drafts/${draft.id}`, { text: 'second' }))
    await ok(from.api.get(`${base}/drafts/${draft.id}`))
    const fromDraft = await ok(from.api.post(`${base}/drafts/${draft.id}/send`, {}), 201)
    const sent = await ok(from.api.post(`${base}/messages`, { to: to.address, subject: 'Direct', text: 'hello' }), 201)
    // Both reach the other inbox (the internal route: the delivery worker stores them there).
    const first = await ok(waiting)
    const second = await ok(to.api.get(`/v1/inboxes/${to.id}/messages/wait?timeout=30&cursor=${first.cursor}`))
    const got = new Set<string>([first.message.subject, second.message.subject])
    expect([...got].sort()).toEqual(['Direct', 'Draft'])
    for (const m of [fromDraft, sent]) {
      const deliveries = await ok(from.api.get(`${base}/messages/${m.id}/deliveries`))
      expect(deliveries.data.map((d: { recipient: string }) => d.recipient)).toEqual([to.address])
    }
    expect(await offTheirShard()).toEqual([])
  })

  it("an agent's mail held for approval: one approved with an edit and delivered, one rejected", async () => {
    const t = await makeTenant(server)
    const [from, to] = [await makeInbox(server, t), await makeInbox(server, t)]
    const base = `/v1/inboxes/${from.id}`
    await ok(t.api.patch(base, { policies: { outboundApproval: 'all' } }))
    const held = await ok(from.api.post(`${base}/messages`, { to: to.address, subject: 'Quote', text: 'Our price is 10' }), 202)
    const dropped = await ok(from.api.post(`${base}/messages`, { to: to.address, subject: 'Oops', text: 'never' }), 202)
    expect([held.status, dropped.status]).toEqual(['pending_approval', 'pending_approval'])
    const waiting = to.api.get(`/v1/inboxes/${to.id}/messages/wait?timeout=30`)
    await waitUntil('the wait is held', () => server.running.deps.waits.parked >= 1)
    // A person (the tenant key) decides; the agent's own key cannot.
    expect((await from.api.post(`${base}/messages/${held.id}/approve`, {})).status).toBe(403)
    const approved = await ok(t.api.post(`${base}/messages/${held.id}/approve`, { text: 'Our price is 12' }))
    expect(approved.approval.status).toBe('approved')
    expect((await ok(t.api.post(`${base}/messages/${dropped.id}/reject`, { reason: 'no' }))).status).toBe('rejected')
    const arrived = (await ok(waiting)).message
    expect(arrived.subject).toBe('Quote')
    expect((await ok(to.api.get(`/v1/inboxes/${to.id}/messages/${arrived.id}`))).text).toContain('Our price is 12')
    expect((await ok(from.api.get(`${base}/messages/${dropped.id}`))).status).toBe('rejected')
    expect(await offTheirShard()).toEqual([])
  })

  it("a tenant's administration: keys, a domain verified with a catch-all, a webhook delivered and replayed, rules, suppressions, audit, usage", async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)

    // API keys: one made, listed and revoked (then refused).
    const key = await ok(t.api.post('/v1/api-keys', { scope: 'inbox', inboxId: inbox.id, name: 'agent 2' }), 201)
    // The key lookup (the HTTP door's, for a key not kept in memory) reads the key's row on its
    // tenant's shard alone, also once its plan would be generic (from the sixth run on a connection).
    for (let i = 0; i < 7; i++) {
      const found = await routerOnlyLookup<{ key_id: string }>(sql`select key_id from mailroom_authenticate(${keyPrefix(key.key)}, ${hashKey(key.key)})`)
      expect(found.map((r) => r.key_id)).toEqual([fromPublicId('apiKey', key.id)])
    }
    expect((await ok(t.api.get('/v1/api-keys'))).data.map((k: { id: string }) => k.id)).toContain(key.id)
    // A console session: signed in with the tenant's key, then found by its cookie's token on the
    // tenant's shard alone (the token names its tenant), seven times over, and signed out.
    const signIn = await fetch(`${server.baseUrl}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.baseUrl },
      body: JSON.stringify({ key: t.key }),
    })
    expect(signIn.status).toBe(201)
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!
    const token = cookie.slice(cookie.indexOf('=') + 1)
    const tenantId = fromPublicId('tenant', t.id)!
    for (let i = 0; i < 7; i++) {
      const found = await routerOnlyLookup<{ tenant_id: string }>(sql`select tenant_id from mailroom_console_session(${tenantId}::uuid, ${tokenHash(token)})`)
      expect(found.map((r) => r.tenant_id)).toEqual([tenantId])
    }
    const me = await fetch(`${server.baseUrl}/v1/me`, { headers: { cookie } })
    expect(((await me.json()) as { tenant: { id: string } }).tenant.id).toBe(t.id)
    const out = await fetch(`${server.baseUrl}/console/session`, { method: 'DELETE', headers: { cookie, origin: server.baseUrl, 'x-csrf-token': csrfTokenOf(token) } })
    expect(out.status).toBe(204)
    expect((await t.api.delete(`/v1/api-keys/${key.id}`)).status).toBe(204)
    await waitUntil('the revoked key is refused', async () => (await client(server.baseUrl, key.key).get('/v1/me')).status === 401)

    // A domain: added, verified once its records are published, given a catch-all, then taking mail.
    const name = `t${Date.now().toString(36)}.example`
    const domain = await ok(t.api.post('/v1/domains', { name }), 201)
    dns.publish(domain)
    expect((await ok(t.api.post(`/v1/domains/${domain.id}/verify`))).status).toBe('verified')
    await ok(t.api.patch(`/v1/domains/${domain.id}`, { catchAllInboxId: inbox.id }))
    expect((await ok(t.api.get('/v1/domains'))).data).toHaveLength(1)
    await ok(t.api.get(`/v1/domains/${domain.id}`))

    // A webhook: made, changed, fed by mail (the full message) and delivered by the worker, its
    // deliveries listed, one replayed and delivered again.
    const hook = await ok(t.api.post('/v1/webhooks', { url: `${receiver.url}/hook`, eventTypes: ['message.received'] }), 201)
    await ok(t.api.patch(`/v1/webhooks/${hook.id}`, { description: 'the agent\'s mail' }))
    expect((await ok(t.api.get('/v1/webhooks'))).data).toHaveLength(1)
    await sendMail(server, { to: `anyone@${name}`, subject: 'To the catch-all', text: 'hello' })
    // The catch-all's route, looked up (the SMTP door's lookup) on the domain's tenant's shard alone,
    // also once its plan would be generic (from the sixth run on a connection).
    for (let i = 0; i < 7; i++) {
      const [route] = await routerOnlyLookup<{ inbox_id: string }>(sql`select * from mailroom_route(${`someone${i}@${name}`})`)
      expect(route?.inbox_id).toBe(fromPublicId('inbox', inbox.id))
    }
    const [hit] = await receiver.waitFor(1, 30_000, '/hook')
    expect(hit!.json.data.message.subject).toBe('To the catch-all')
    const deliveries = await waitUntil('the delivery is recorded', async () => {
      const page = await ok(t.api.get(`/v1/webhooks/${hook.id}/deliveries`))
      return page.data[0]?.status === 'succeeded' ? page.data : null
    })
    expect(deliveries[0].attemptLog).toHaveLength(1)
    await ok(t.api.post(`/v1/webhooks/${hook.id}/deliveries/${deliveries[0].id}/replay`, {}))
    await receiver.waitFor(2, 30_000, '/hook')
    await ok(t.api.get(`/v1/webhooks/${hook.id}`))

    // Rules, suppressions, the audit log and usage.
    const rule = await ok(t.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'spam.example' }), 201)
    expect((await ok(t.api.get('/v1/sender-rules'))).data).toHaveLength(1)
    expect((await t.api.delete(`/v1/sender-rules/${rule.id}`)).status).toBe(204)
    await ok(t.api.post('/v1/suppressions', { address: 'gone@example.com' }), 201)
    expect((await ok(t.api.get('/v1/suppressions'))).data).toHaveLength(1)
    expect((await t.api.delete('/v1/suppressions/gone@example.com')).status).toBe(204)
    expect((await ok(t.api.get('/v1/audit-log'))).data.length).toBeGreaterThan(0)
    const today = new Date().toISOString().slice(0, 10)
    expect((await ok(t.api.get(`/v1/usage?from=${today}&to=${today}`))).total.messagesReceived).toBe(1)

    // Taken down again: the webhook, then the catch-all's inbox and the domain.
    expect((await t.api.delete(`/v1/webhooks/${hook.id}`)).status).toBe(204)
    await ok(t.api.patch(`/v1/domains/${domain.id}`, { catchAllInboxId: null }))
    expect((await t.api.delete(`/v1/domains/${domain.id}`)).status).toBe(204)
    expect(await offTheirShard()).toEqual([])
  })

  it("the retention purge deletes a tenant's old mail on its shard", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const inbox = await makeInbox(server, child)
    await ok(parent.api.patch(`/v1/tenants/${child.id}`, { limits: { retentionDays: 1 } }))
    await sendMail(server, { to: inbox.address, subject: 'Old news', text: 'x' })
    await settled(server)
    const later = new Date(Date.now() + 3 * 86_400_000)
    const purged = await purgeExpired(server.running.deps.database, { now: () => later }, capture)
    expect(purged.deleted).toBeGreaterThanOrEqual(1)
    expect((await ok(inbox.api.get(`/v1/inboxes/${inbox.id}/messages`))).data).toHaveLength(0)
    expect(await offTheirShard()).toEqual([])
  })
})

// A prepared statement's plan may turn generic from its sixth run on a connection, and Citus then
// prunes shards only for the simplest statements (one table, the tenant's value as a parameter): the
// thread growth (an UPDATE joined to a set of values) ran on every shard from its sixth reply on. Here
// a server whose pool holds one connection, so every statement of the ingest and of a send runs on it
// again and again: a thread grown by ten replies received and seven sent (each placed by the thread's
// growth).
describe.skipIf(!onCitus)("on Citus, a tenant's statements stay on its shard once their plans could be generic", () => {
  let lone: TestServer
  let runtime: TestDb['runtime']
  beforeAll(async () => {
    const db = await createTestDb()
    runtime = openPostgres({ url: db.runtimeUrl!, max: 1, runtime: true })
    runtime.routerOnly = true
    useCoordinator([runtime], true)
    lone = await startTestServer({ db: { ...db, runtime }, log: capture })
  })
  afterAll(async () => {
    await lone?.stop()
    await runtime?.close()
    await lone?.db.close()
  })
  beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(logged.join('\n'))))

  it('ten replies received and seven sent, one at a time, on one connection', async () => {
    const t = await makeTenant(lone)
    const inbox = await makeInbox(lone, t)
    const base = `/v1/inboxes/${inbox.id}`
    await sendMail(lone, { to: inbox.address, subject: 'Order 7', text: 'first', messageId: '<order7@example.com>' })
    await settled(lone)
    for (let i = 0; i < 10; i++) {
      await sendMail(lone, { to: inbox.address, subject: 'Re: Order 7', text: `reply ${i}`, inReplyTo: '<order7@example.com>', references: '<order7@example.com>' })
      await settled(lone)
    }
    const [thread] = (await ok(inbox.api.get(`${base}/threads`))).data
    const first = (await ok(inbox.api.get(`${base}/messages?limit=20`))).data.find((m: { subject: string }) => m.subject === 'Order 7')
    for (let i = 0; i < 7; i++) await ok(inbox.api.post(`${base}/messages/${first.id}/reply`, { text: `answer ${i}` }), 201)
    const grown = await ok(inbox.api.get(`${base}/threads/${thread.id}`))
    expect(grown.messages).toHaveLength(18)
    expect(refusals()).toEqual([])
  })
})
