// SPF, DKIM and DMARC of inbound mail, end to end: real SMTP from 127.0.0.1, a message really
// DKIM-signed, DNS answered by an in-memory zone.
import MailComposer from 'nodemailer/lib/mail-composer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFakeResolver, generateDkimKey, signMessage, type DkimKey } from '../../src/mail/sender-auth.js'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { fetchBytes, listAll, sendRaw, settled, smtpCanonical } from '@mailroom/testkit/mail'

let server: TestServer
let key: DkimKey
let inbox: InboxFixture

beforeAll(async () => {
  key = generateDkimKey()
  const dkim = key.dnsRecord('mr1', 'example.com')
  const resolver = createFakeResolver({
    'example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
    '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] },
    // Real DNS splits long TXT values into 255-byte strings.
    [dkim.name]: { TXT: [dkim.value.match(/.{1,255}/g)!] },
    'other.example': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
    'elsewhere.example': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
  })
  server = await startTestServer({ config: { inboundAuth: true }, resolver })
  inbox = await makeInbox(server, await makeTenant(server, 'auth'))
})
afterAll(() => server?.stop())

const compose = (subject: string) =>
  new MailComposer({
    from: 'Alice <alice@example.com>',
    to: inbox.address,
    subject,
    text: 'Signed body.\nSecond line.',
    messageId: `<${subject.replace(/\W/g, '')}@example.com>`,
  })
    .compile()
    .build()

const sign = async (raw: Buffer) => signMessage(raw, { domain: 'example.com', selector: 'mr1', privateKeyPem: key.privateKeyPem })

async function receive(raw: Buffer, mailFrom: string, subject: string) {
  await sendRaw(server, { from: mailFrom, to: [inbox.address] }, raw)
  await settled(server)
  const [summary] = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=${encodeURIComponent(subject)}`)
  return (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${summary.id}`)).body
}

describe('inbound authentication', () => {
  it('passes SPF, DKIM and DMARC for a signed message from an allowed address', async () => {
    const raw = await sign(await compose('signed ok'))
    const m = await receive(raw, 'bounces@example.com', 'signed ok')
    expect(m.authentication).toEqual({ spf: 'pass', dkim: 'pass', dmarc: 'pass' })
    expect(m.parseStatus).toBe('parsed')
    // What was verified is what is stored.
    const stored = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/raw`)
    expect(stored.bytes.equals(smtpCanonical(raw))).toBe(true)
  })

  it('fails DKIM (and DMARC, with no aligned SPF to rescue it) when the body was changed after signing', async () => {
    const signed = await sign(await compose('tampered'))
    const tampered = Buffer.from(signed.toString('utf8').replace('Signed body.', 'Signed b0dy.'))
    expect(tampered.equals(signed)).toBe(false)
    const m = await receive(tampered, 'bounces@other.example', 'tampered')
    expect(m.authentication).toEqual({ spf: 'pass', dkim: 'fail', dmarc: 'fail' })
  })

  it('passes DMARC on aligned SPF alone when DKIM fails', async () => {
    const signed = await sign(await compose('tampered aligned'))
    const tampered = Buffer.from(signed.toString('utf8').replace('Second line.', 'Another line.'))
    const m = await receive(tampered, 'bounces@example.com', 'tampered aligned')
    expect(m.authentication).toEqual({ spf: 'pass', dkim: 'fail', dmarc: 'pass' })
  })

  it('fails SPF for a MAIL FROM domain that does not allow 127.0.0.1; DKIM still passes', async () => {
    const raw = await sign(await compose('spf fail'))
    const m = await receive(raw, 'someone@elsewhere.example', 'spf fail')
    expect(m.authentication).toEqual({ spf: 'fail', dkim: 'pass', dmarc: 'pass' })
  })

  it('reports none for an unsigned message from a domain without records', async () => {
    const raw = Buffer.from(`From: x@unknown.example\r\nTo: ${inbox.address}\r\nSubject: unsigned\r\n\r\nhello\r\n`)
    const m = await receive(raw, 'x@unknown.example', 'unsigned')
    expect(m.authentication).toEqual({ spf: 'none', dkim: 'none', dmarc: 'none' })
  })
})
