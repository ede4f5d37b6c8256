// Sending end to end: the API, the outbox, internal delivery through ingest, the relay (a real SMTP
// sink) with a DKIM signature that verifies, threading of replies, forwarding, statuses and events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simpleParser } from 'mailparser'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { createFakeResolver, generateDkimKey, verifyMessage } from '../../src/mail/sender-auth.js'
import { startSink, eventually, type Sink } from './sink.js'
import { deliveriesOf, eventsOf, waitForStatus } from './helpers.js'
import { onCitus } from '@mailroom/testkit/db'

let server: TestServer
let sink: Sink
const dkim = generateDkimKey()

beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({
    config: { relayUrl: sink.url, dkimPrivateKey: dkim.privateKeyPem, dkimSelector: 'mr1', maxMessageBytes: 200 * 1024 },
    delivery: { pollMs: 50, retryBaseMs: 100 },
  })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

const resolverFor = () => {
  const value = dkim.dnsRecord('mr1', 'agents.test').value
  const chunks = value.match(/.{1,255}/g)!
  return createFakeResolver({ 'mr1._domainkey.agents.test': { TXT: [chunks] } })
}

describe('send through the relay', () => {
  it('queues, relays DKIM-signed mail that verifies, keeps bcc out of the headers, and records sent', async () => {
    const t = await makeTenant(server, 'relay')
    const inbox = await makeInbox(server, t, 'sender')
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, {
      to: 'Alice <alice@example.com>',
      cc: ['carol@example.com'],
      bcc: 'hidden@example.com',
      subject: 'Hello from an agent',
      text: 'plain body',
      html: '<p>html body</p>',
      headers: { 'X-Agent-Run': 'run-42' },
      attachments: [{ filename: 'note.txt', content: Buffer.from('attached!').toString('base64'), contentType: 'text/plain' }],
    })
    expect(res.status).toBe(201)
    expect(res.body.status).toBe('queued')
    expect(res.body.direction).toBe('outbound')
    expect(res.body.deliveries.map((d: any) => d.recipient).sort()).toEqual(['alice@example.com', 'carol@example.com', 'hidden@example.com'])

    const done = await waitForStatus(inbox.api, inbox.id, res.body.id, ['sent'])
    expect(done.subject).toBe('Hello from an agent')
    const got = sink.received.filter((m) => m.from === inbox.address)
    expect(got.map((m) => m.to[0]).sort()).toEqual(['alice@example.com', 'carol@example.com', 'hidden@example.com'])
    for (const m of got) {
      const text = m.raw.toString('utf8')
      expect(text).toMatch(/^DKIM-Signature:/)
      expect(text).not.toMatch(/^Bcc:/im)
      expect(text).toMatch(/^X-Agent-Run: run-42$/m)
      const auth = await verifyMessage(m.raw, { ip: '127.0.0.1', helo: 'localhost', mailFrom: inbox.address, resolver: resolverFor() })
      expect(auth.dkim).toBe('pass')
      expect(auth.dkimDomains).toContain('agents.test')
      const parsed = await simpleParser(m.raw)
      expect(parsed.subject).toBe('Hello from an agent')
      expect(parsed.attachments[0]!.content.toString()).toBe('attached!')
    }
    // A tampered copy fails: the signature is real, not decoration.
    const tampered = Buffer.from(got[0]!.raw.toString('utf8').replace('plain body', 'evil body'))
    expect((await verifyMessage(tampered, { ip: '127.0.0.1', helo: 'localhost', mailFrom: inbox.address, resolver: resolverFor() })).dkim).toBe('fail')

    const deliveries = await deliveriesOf(inbox.api, inbox.id, res.body.id)
    expect(deliveries.every((d) => d.status === 'sent' && d.route === 'external')).toBe(true)
    const types = (await eventsOf(server, t.id)).map((e) => e.type)
    expect(types).toContain('message.queued')
    expect(types).toContain('message.sending')
    expect(types.filter((x) => x === 'message.sent')).toHaveLength(3)

    // Stored in the inbox, listable with its status.
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?direction=outbound`)
    expect(list.body.data.map((m: any) => [m.id, m.status])).toEqual([[res.body.id, 'sent']])
    const full = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${res.body.id}`)
    expect(full.body.text).toBe('plain body')
    expect(full.body.attachments).toHaveLength(1)
  })

  it('a 5xx bounces and suppresses the address; a 4xx is deferred, retried with backoff, then sent', async () => {
    const t = await makeTenant(server, 'bounces')
    const inbox = await makeInbox(server, t)
    sink.rule = (rcpt, attempt) => {
      if (rcpt === 'nobody@example.com') return { code: 550, message: '5.1.1 no such user' }
      if (rcpt === 'later@example.com' && attempt < 3) return { code: 451, message: '4.7.1 try again later' }
      return undefined
    }
    try {
      const bounced = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'nobody@example.com', subject: 's', text: 'x' })
      const later = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'later@example.com', subject: 's', text: 'x' })
      const b = await waitForStatus(inbox.api, inbox.id, bounced.body.id, ['bounced'])
      expect(b.status).toBe('bounced')
      const [bd] = await deliveriesOf(inbox.api, inbox.id, bounced.body.id)
      expect(bd!.lastError).toMatch(/no such user/)
      await waitForStatus(inbox.api, inbox.id, later.body.id, ['sent'])
      const [ld] = await deliveriesOf(inbox.api, inbox.id, later.body.id)
      expect(ld!.attempts).toBe(3)
      const types = (await eventsOf(server, t.id)).map((e) => e.type)
      expect(types.filter((x) => x === 'message.deferred')).toHaveLength(2)
      expect(types).toContain('message.bounced')

      const sup = await t.api.get('/v1/suppressions')
      expect(sup.body.data.map((s: any) => [s.address, s.reason])).toEqual([['nobody@example.com', 'hard_bounce']])
      // Sending to it again is recorded as suppressed, never relayed.
      const before = sink.received.length
      const again = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'nobody@example.com', subject: 's', text: 'x' })
      expect(again.status).toBe(201)
      expect(again.body.status).toBe('suppressed')
      expect(again.body.deliveries[0].status).toBe('suppressed')
      await new Promise((r) => setTimeout(r, 300))
      expect(sink.received.length).toBe(before)
      expect((await eventsOf(server, t.id)).map((e) => e.type)).toContain('message.suppressed')
      // Removed from the list: it is relayed again.
      expect((await t.api.delete('/v1/suppressions/nobody@example.com')).status).toBe(204)
      expect((await t.api.delete('/v1/suppressions/nobody@example.com')).status).toBe(404)
      sink.rule = () => undefined
      const third = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'nobody@example.com', subject: 's', text: 'x' })
      await waitForStatus(inbox.api, inbox.id, third.body.id, ['sent'])
    } finally {
      sink.rule = () => undefined
    }
  })
})

describe('internal delivery and threads', () => {
  it('delivers to an inbox on this platform through ingest (delivered), and both sides thread the replies', async () => {
    const t1 = await makeTenant(server, 'a')
    const t2 = await makeTenant(server, 'b')
    const alice = await makeInbox(server, t1, 'alice')
    const bob = await makeInbox(server, t2, 'bob')
    const first = await alice.api.post(`/v1/inboxes/${alice.id}/messages`, { to: bob.address, subject: 'Plan', text: 'shall we?' })
    expect(first.status).toBe(201)
    await waitForStatus(alice.api, alice.id, first.body.id, ['delivered'])
    await settled(server)
    const inbound = (await bob.api.get(`/v1/inboxes/${bob.id}/messages`)).body.data
    expect(inbound).toHaveLength(1)
    expect(inbound[0]).toMatchObject({ direction: 'inbound', subject: 'Plan', status: 'received' })
    expect(inbound[0].from.address).toBe(alice.address)

    const answer = await bob.api.post(`/v1/inboxes/${bob.id}/messages/${inbound[0].id}/reply`, { text: 'yes' })
    expect(answer.status).toBe(201)
    expect(answer.body.subject).toBe('Re: Plan')
    expect(answer.body.to.map((a: any) => a.address)).toEqual([alice.address])
    expect(answer.body.threadId).toBe(inbound[0].threadId)
    await waitForStatus(bob.api, bob.id, answer.body.id, ['delivered'])
    await settled(server)

    const aliceMail = (await alice.api.get(`/v1/inboxes/${alice.id}/messages`)).body.data
    const reply = aliceMail.find((m: any) => m.direction === 'inbound')
    expect(reply.subject).toBe('Re: Plan')
    expect(reply.threadId).toBe(first.body.threadId)
    const full = (await alice.api.get(`/v1/inboxes/${alice.id}/messages/${reply.id}`)).body
    expect(full.inReplyTo).toBe(first.body.messageId)
    expect(full.references).toEqual([first.body.messageId])
    const thread = (await alice.api.get(`/v1/inboxes/${alice.id}/threads/${first.body.threadId}`)).body
    expect(thread.messages.map((m: any) => m.direction)).toEqual(['outbound', 'inbound'])
  })

  it('reply-all and forward (with attachments) to external mail received over SMTP', async () => {
    const t = await makeTenant(server, 'fwd')
    const inbox = await makeInbox(server, t, 'desk')
    await sendMail(server, {
      from: 'Boss <boss@example.com>',
      to: [inbox.address, 'peer@example.com'],
      cc: 'team@example.com',
      subject: 'Quarterly numbers',
      text: 'see attached',
      messageId: '<orig-1@example.com>',
      references: '<older@example.com>',
      attachments: [{ filename: 'q.csv', content: 'a,b\n1,2\n' }],
    })
    await settled(server)
    const [orig] = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data
    const r = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${orig.id}/reply`, { text: 'thanks all', replyAll: true })
    expect(r.status).toBe(201)
    expect(r.body.to.map((a: any) => a.address).sort()).toEqual(['boss@example.com', 'peer@example.com'])
    expect(r.body.cc.map((a: any) => a.address)).toEqual(['team@example.com'])
    expect(r.body.threadId).toBe(orig.threadId)
    await waitForStatus(inbox.api, inbox.id, r.body.id, ['sent'])
    const relayed = sink.received.find((m) => m.to[0] === 'boss@example.com' && m.from === inbox.address)!
    const parsed = await simpleParser(relayed.raw)
    expect(parsed.subject).toBe('Re: Quarterly numbers')
    expect(parsed.inReplyTo).toBe('<orig-1@example.com>')
    expect(parsed.references).toEqual(['<older@example.com>', '<orig-1@example.com>'])

    const f = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${orig.id}/forward`, { to: 'auditor@example.com', text: 'FYI' })
    expect(f.status).toBe(201)
    expect(f.body.subject).toBe('Fwd: Quarterly numbers')
    expect(f.body.attachments.map((a: any) => a.filename)).toEqual(['q.csv'])
    await waitForStatus(inbox.api, inbox.id, f.body.id, ['sent'])
    const fwd = await simpleParser(sink.received.find((m) => m.to[0] === 'auditor@example.com')!.raw)
    expect(fwd.text).toContain('FYI')
    expect(fwd.text).toContain('---------- Forwarded message ---------')
    expect(fwd.text).toContain('see attached')
    expect(fwd.attachments[0]!.content.toString()).toBe('a,b\n1,2\n')
    const thread = (await inbox.api.get(`/v1/inboxes/${inbox.id}/threads/${orig.threadId}`)).body
    expect(thread.messages).toHaveLength(3)
  })
})

describe('bad input: a 4xx with a code', () => {
  let inbox: Awaited<ReturnType<typeof makeInbox>>
  beforeAll(async () => {
    inbox = await makeInbox(server, await makeTenant(server, 'bad'))
  })
  const send = (b: unknown) => inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, b)

  it.each([
    ['an invalid address', { to: 'not an address', text: 'x' }, 'body.to'],
    ['an address with a newline', { to: 'a@example.com\r\nBcc: victim@example.com', text: 'x' }, 'body.to'],
    ['a display name with a newline', { to: { address: 'a@example.com', name: 'A\nBcc: v@example.com' }, text: 'x' }, 'body.to'],
    ['CR/LF in the subject', { to: 'a@example.com', subject: 'hi\r\nBcc: victim@example.com', text: 'x' }, 'body.subject'],
    ['CR/LF in a custom header', { to: 'a@example.com', text: 'x', headers: { 'X-Tag': 'a\nBcc: v@example.com' } }, 'body.headers.X-Tag'],
    ['a structural header', { to: 'a@example.com', text: 'x', headers: { From: 'ceo@bank.com' } }, 'body.headers.From'],
    ['no recipient', { to: [], text: 'x' }, 'body.to'],
    ['too many recipients', { to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`), text: 'x' }, 'body.to'],
    ['an attachment that is not base64', { to: 'a@example.com', attachments: [{ filename: 'a', content: '***' }] }, 'body.attachments.0.content'],
  ])('%s: 400 validation_error', async (_label, payload, path) => {
    const res = await send(payload)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_error')
    expect(res.body.error.issues.map((i: any) => i.path)).toContain(path)
  })

  it('over the message size: 413 payload_too_large; nothing stored', async () => {
    const big = Buffer.alloc(300 * 1024, 7).toString('base64')
    const res = await send({ to: 'a@example.com', attachments: [{ filename: 'big.bin', content: big }] })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages`)).body.data).toEqual([])
  })

  it('a reply to a message of another inbox: 404', async () => {
    const other = await makeInbox(server, await makeTenant(server, 'other'))
    const sent = await other.api.post(`/v1/inboxes/${other.id}/messages`, { to: 'a@example.com', text: 'x' })
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages/${sent.body.id}/reply`, { text: 'x' })
    expect(res.status).toBe(404)
  })

  it('a JSON body over the send body limit: 413 before parsing', async () => {
    // Last in its group: the server closes the connection on an unread oversized body.
    const res = await send({ to: 'a@example.com', text: 'x'.repeat(2 * 1024 * 1024) })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
  })
})

describe('no relay configured', () => {
  // On Citus every server of a file shares one database (vitest.config.ts): the file's server's
  // delivery workers would claim this test's server's mail. They stop for these last tests.
  beforeAll(async () => {
    if (onCitus) await server.running.deps.delivery?.stop()
  })

  it('external mail is held with a clear reason (never dropped); internal mail is still delivered', async () => {
    const held = await startTestServer({ delivery: { transport: null, pollMs: 50 } })
    try {
      const t = await makeTenant(held, 'h')
      const a = await makeInbox(held, t, 'a')
      const b = await makeInbox(held, t, 'b')
      const res = await a.api.post(`/v1/inboxes/${a.id}/messages`, { to: ['out@example.com', b.address], text: 'x', subject: 'mixed' })
      expect(res.status).toBe(201)
      const m = await waitForStatus(a.api, a.id, res.body.id, ['held'])
      expect(m.status).toBe('held')
      const d = await deliveriesOf(a.api, a.id, res.body.id)
      const ext = d.find((x) => x.recipient === 'out@example.com')!
      expect(ext.status).toBe('held')
      expect(ext.lastError).toMatch(/MAILROOM_RELAY_URL/)
      expect(d.find((x) => x.recipient === b.address)!.status).toBe('delivered')
      expect((await eventsOf(held, t.id)).map((e) => e.type)).toContain('message.held')
      await eventually(async () => (await b.api.get(`/v1/inboxes/${b.id}/messages`)).body.data.length === 1)
    } finally {
      await held.stop()
    }
  })
})
