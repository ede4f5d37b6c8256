// On a Citus coordinator every statement of a tenant's transaction names its tenant (db/scope.ts
// ownRows), so that it runs on the tenant's shard alone, not on every shard: row-level security
// keeps other tenants' rows out either way, but Citus routes a statement only by the distribution
// column's value written in it. Here the server's tenant transactions refuse any statement that would
// run on more than one shard (Database.routerOnly: citus.multi_task_query_log_level = error), and an
// agent's day runs through them: mail received over SMTP (the ingest's batches), a held wait answered,
// the mailbox read, searched and marked, its threads, contacts, counts and events, a message's
// attachment and raw copy; its sending: a draft and a message sent and delivered; and its mail held
// for approval, approved with an edit or rejected by a person. Nothing may fail, and no such refusal
// may be logged.
// Only on Citus (MAILROOM_TEST_CITUS_URL); elsewhere there are no shards.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { waitUntil } from '@mailroom/testkit'
import { createTestDb, onCitus } from '@mailroom/testkit/db'
import type { Logger } from '../../src/lib/log.js'

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

/** What the server logged of statements refused for reaching more than one shard. */
const refusals = () => logged.filter((line) => /multi-task|shard/i.test(line))

let server: TestServer
beforeAll(async () => {
  if (!onCitus) return
  const db = await createTestDb()
  db.runtime.routerOnly = true
  server = await startTestServer({ db, log: capture })
})
afterAll(async () => {
  await server?.stop()
  await server?.db.close()
})

describe.skipIf(!onCitus)("on Citus, a tenant's statements run on its shard alone", () => {
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

    expect(refusals()).toEqual([])
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
    expect(refusals()).toEqual([])
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
    expect(refusals()).toEqual([])
  })
})
