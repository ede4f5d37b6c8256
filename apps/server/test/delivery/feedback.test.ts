// Mail that comes back: an RFC 3464 bounce after the relay accepted the message turns the delivery
// bounced (suppressed, event, counted); an ARF complaint is recorded (suppressed, counted) and
// enough of them pause sending; malformed reports are stored like any message and not acted on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { sendRaw } from '@mailroom/testkit/mail'
import { parseReport } from '../../src/delivery/feedback.js'
import { startSink, eventually, type Sink } from './sink.js'
import { deliveriesOf, eventsOf, waitForStatus } from './helpers.js'

let server: TestServer
let sink: Sink

beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({
    config: { relayUrl: sink.url },
    delivery: { pollMs: 50, retryBaseMs: 100, reputation: { minSends: 4, maxBounceRate: 0.9, maxComplaintRate: 0.25 } },
  })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

/** Sends through the API, waits for the relay to take it; returns the ids and the Message-ID header. */
async function sendOut(inbox: InboxFixture, to: string) {
  const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to, subject: 'hello', text: 'hi there' })
  expect(res.status).toBe(201)
  await waitForStatus(inbox.api, inbox.id, res.body.id, ['sent'])
  const copy = sink.received.find((m) => m.from === inbox.address && m.to[0] === to)!
  const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(copy.raw.toString('utf8'))![1]!
  return { id: res.body.id as string, messageId }
}

const dsn = (inbox: InboxFixture, rcpt: string, messageId: string, status = '5.1.1', action = 'failed') =>
  [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>',
    `To: ${inbox.address}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <dsn-${Math.random().toString(36).slice(2)}@mx.example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="=_dsn_boundary"',
    '',
    '--=_dsn_boundary',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Your message could not be delivered.',
    '',
    '--=_dsn_boundary',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.com',
    'Arrival-Date: Sat, 28 Nov 2026 03:00:00 +0000',
    '',
    `Final-Recipient: rfc822; ${rcpt}`,
    `Original-Recipient: rfc822;${rcpt}`,
    `Action: ${action}`,
    `Status: ${status}`,
    'Diagnostic-Code: smtp; 550 5.1.1 <' + rcpt + '>: Recipient address rejected:',
    '  User unknown in virtual mailbox table',
    '',
    '--=_dsn_boundary',
    'Content-Type: text/rfc822-headers',
    '',
    `From: ${inbox.address}`,
    `To: ${rcpt}`,
    'Subject: hello',
    `Message-ID: ${messageId}`,
    '',
    '--=_dsn_boundary--',
    '',
  ].join('\r\n')

const arf = (inbox: InboxFixture, rcpt: string, messageId: string) =>
  [
    'From: <fbl@isp.example>',
    `To: ${inbox.address}`,
    'Subject: FW: hello',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="part1_13d.2e68ed54_boundary"',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: text/plain; charset="US-ASCII"',
    'Content-Transfer-Encoding: 7bit',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.1.',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    `Original-Rcpt-To: <${rcpt}>`,
    'Source-IP: 192.0.2.1',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    `From: ${inbox.address}`,
    `To: ${rcpt}`,
    'Subject: hello',
    `Message-ID: ${messageId}`,
    '',
    'hi there',
    '',
    '--part1_13d.2e68ed54_boundary--',
    '',
  ].join('\r\n')

const deliver = (inbox: InboxFixture, raw: string, from = '') => sendRaw(server, { from, to: [inbox.address] }, raw)

const suppressed = async (t: TenantFixture) => ((await t.api.get('/v1/suppressions')).body.data as { address: string; reason: string }[]).map((s) => `${s.address}:${s.reason}`).sort()

async function received(inbox: InboxFixture, n: number) {
  return eventually(async () => {
    const list = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?direction=inbound`)
    return list.body.data.length >= n ? list.body.data : undefined
  })
}

describe('report parsing', () => {
  it('reads DSN recipient blocks and the ARF fields; anything else is no report', () => {
    const inbox = { address: 'me@agents.test' } as InboxFixture
    const d = parseReport(Buffer.from(dsn(inbox, 'a@example.com', '<m1@agents.test>')))
    expect(d).toMatchObject({ kind: 'dsn', originalMessageId: '<m1@agents.test>', recipients: [{ finalRecipient: 'a@example.com', action: 'failed', status: '5.1.1' }] })
    expect((d as any).recipients[0].diagnostic).toMatch(/User unknown/)
    expect(parseReport(Buffer.from(arf(inbox, 'b@example.com', '<m2@agents.test>')))).toMatchObject({
      kind: 'complaint',
      feedbackType: 'abuse',
      originalMessageId: '<m2@agents.test>',
      originalRcptTo: 'b@example.com',
    })
    expect(parseReport(Buffer.from('Subject: hi\r\n\r\nplain'))).toBeNull()
    expect(parseReport(Buffer.from('Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary'))).toBeNull()
  })
})

describe('asynchronous bounces (RFC 3464)', () => {
  it('a DSN for a relayed message marks the delivery bounced, suppresses the address, emits message.bounced', async () => {
    const t = await makeTenant(server, 'dsn')
    const inbox = await makeInbox(server, t, 'bounces')
    const other = await sendOut(inbox, 'fine@example.com')
    const sent = await sendOut(inbox, 'nobody@example.com')
    // A delayed notice (4.x.x) and a report for someone else's message change nothing.
    await deliver(inbox, dsn(inbox, 'nobody@example.com', sent.messageId, '4.4.1', 'delayed'))
    await deliver(inbox, dsn(inbox, 'nobody@example.com', '<not-ours@elsewhere.example>'))
    await deliver(inbox, dsn(inbox, 'nobody@example.com', sent.messageId))
    await received(inbox, 3)
    await waitForStatus(inbox.api, inbox.id, sent.id, ['bounced'])
    const [d] = await deliveriesOf(inbox.api, inbox.id, sent.id)
    expect(d).toMatchObject({ recipient: 'nobody@example.com', status: 'bounced', route: 'external' })
    expect(d!.lastError).toMatch(/5\.1\.1/)
    expect((await deliveriesOf(inbox.api, inbox.id, other.id))[0]!.status).toBe('sent')
    expect(await suppressed(t)).toEqual(['nobody@example.com:hard_bounce'])
    const bounced = (await eventsOf(server, t.id)).filter((e) => e.type === 'message.bounced')
    expect(bounced).toHaveLength(1)
    expect((bounced[0] as any).data).toMatchObject({ recipient: 'nobody@example.com', route: 'external' })
    // Counted: 1 bounce over 2 sends.
    expect((await t.api.get(`/v1/tenants/${t.id}/sending`)).body).toMatchObject({ windowSends: 2, bounceRate: 0.5 })
    // The same DSN again is a no-op; the address is now refused at send time.
    await deliver(inbox, dsn(inbox, 'nobody@example.com', sent.messageId))
    await received(inbox, 4)
    expect((await eventsOf(server, t.id)).filter((e) => e.type === 'message.bounced')).toHaveLength(1)
    const again = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'nobody@example.com', text: 'x' })
    expect(again.body.deliveries[0].status).toBe('suppressed')
  })
})

describe('complaints (ARF)', () => {
  it('counts the complaint and suppresses the address; over the threshold sending is paused', async () => {
    const t = await makeTenant(server, 'arf')
    const inbox = await makeInbox(server, t, 'complaints')
    const sends = []
    for (const to of ['c1@example.com', 'c2@example.com', 'c3@example.com']) sends.push(await sendOut(inbox, to))
    // 1 complaint over 3 sends: below minSends (4), counted but not judged.
    await deliver(inbox, arf(inbox, 'c1@example.com', sends[0]!.messageId), 'fbl@isp.example')
    await eventually(async () => ((await suppressed(t)).length === 1 ? true : undefined))
    expect(await suppressed(t)).toEqual(['c1@example.com:complaint'])
    const state = (await t.api.get(`/v1/tenants/${t.id}/sending`)).body
    expect(state).toMatchObject({ paused: false, windowSends: 3 })
    expect(state.complaintRate).toBeCloseTo(1 / 3)
    // A fourth send, a second complaint: 2/4 = 50% > 25%: paused.
    sends.push(await sendOut(inbox, 'c4@example.com'))
    await deliver(inbox, arf(inbox, 'c4@example.com', sends[3]!.messageId), 'fbl@isp.example')
    const paused = await eventually(async () => {
      const r = await t.api.get(`/v1/tenants/${t.id}/sending`)
      return r.body.paused ? r.body : undefined
    })
    expect(paused.pausedReason).toMatch(/complaint rate/)
    expect(await suppressed(t)).toEqual(['c1@example.com:complaint', 'c4@example.com:complaint'])
    const refused = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'new@example.com', text: 'x' })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('sending_paused')
    expect((await eventsOf(server, t.id)).map((e) => e.type)).toContain('sending.paused')
  })
})

describe('malformed reports', () => {
  it('are stored like any message and not acted on', async () => {
    const t = await makeTenant(server, 'junk')
    const inbox = await makeInbox(server, t, 'junk')
    const sent = await sendOut(inbox, 'keep@example.com')
    const junk = [
      // No boundary at all.
      `To: ${inbox.address}\r\nSubject: j1\r\nContent-Type: multipart/report; report-type=delivery-status\r\n\r\nFinal-Recipient: rfc822; keep@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n`,
      // No delivery-status part, garbage where the fields should be.
      dsn(inbox, 'keep@example.com', sent.messageId).replace('Content-Type: message/delivery-status', 'Content-Type: text/plain'),
      dsn(inbox, 'keep@example.com', sent.messageId).replace(/Action: failed\r\nStatus: 5\.1\.1/, 'Action\r\n\u0000\u00ff::: 5'),
      // A complaint whose original is not ours; a complaint with no original at all.
      arf(inbox, 'keep@example.com', '<unknown@elsewhere.example>'),
      arf(inbox, 'keep@example.com', sent.messageId).replace(/--part1_13d\.2e68ed54_boundary\r\nContent-Type: message\/rfc822[\s\S]*?(?=--part1_13d\.2e68ed54_boundary--)/, ''),
      // Truncated in the middle of the report.
      dsn(inbox, 'keep@example.com', sent.messageId).slice(0, 520),
    ]
    for (const raw of junk) await deliver(inbox, raw, 'someone@example.net')
    const list = await received(inbox, junk.length)
    expect(list).toHaveLength(junk.length)
    await server.running.deps.ingest.idle()
    expect(await suppressed(t)).toEqual([])
    expect((await deliveriesOf(inbox.api, inbox.id, sent.id))[0]!.status).toBe('sent')
    expect((await t.api.get(`/v1/tenants/${t.id}/sending`)).body).toMatchObject({ paused: false, bounceRate: 0, complaintRate: 0 })
  })
})
