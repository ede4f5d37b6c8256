// Direct delivery (MAILROOM_DELIVERY_MODE=mx): MX lookup through the injected resolver, the A record
// when there is no MX, null MX bounces, 4xx defers then succeeds, 5xx bounces; DKIM-signed, from
// the tenant's IP pool address. The "MX host" is a real SMTP sink on the port MAILROOM_MX_PORT names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createFakeResolver, generateDkimKey, verifyMessage } from '../../src/mail/sender-auth.js'
import { resolveTargets } from '../../src/delivery/mx.js'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { startSink, type Sink } from './sink.js'
import { deliveriesOf, eventsOf, waitForStatus } from './helpers.js'

let server: TestServer
let sink: Sink
const dkim = generateDkimKey()

const dns = createFakeResolver({
  'example-mx.test': { MX: [{ exchange: 'mx.example-mx.test', priority: 10 }, { exchange: 'backup.example-mx.test', priority: 20 }] },
  'mx.example-mx.test': { A: ['127.0.0.1'] },
  'backup.example-mx.test': { A: ['127.0.0.1'] },
  'a-only.test': { A: ['127.0.0.1'] },
  'nullmx.test': { MX: [{ exchange: '', priority: 0 }], A: ['127.0.0.1'] },
})

beforeAll(async () => {
  sink = await startSink()
  const env = loadConfig({ MAILROOM_DELIVERY_MODE: 'mx', MAILROOM_MX_PORT: String(sink.port) })
  server = await startTestServer({
    config: { deliveryMode: env.deliveryMode, mxPort: env.mxPort, dkimPrivateKey: dkim.privateKeyPem, dkimSelector: 'mr1', ipPools: { shared: ['127.0.0.2'] } },
    resolver: dns,
    delivery: { pollMs: 50, retryBaseMs: 100 },
  })
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

const keyResolver = () => createFakeResolver({ 'mr1._domainkey.agents.test': { TXT: [dkim.dnsRecord('mr1', 'agents.test').value.match(/.{1,255}/g)!] } })

describe('config', () => {
  it('defaults: relay mode, port 25; MAILROOM_DELIVERY_MODE / MAILROOM_MX_PORT are read', () => {
    expect(loadConfig({})).toMatchObject({ deliveryMode: 'relay', mxPort: 25 })
    expect(loadConfig({ MAILROOM_DELIVERY_MODE: 'mx', MAILROOM_MX_PORT: '2626' })).toMatchObject({ deliveryMode: 'mx', mxPort: 2626 })
    expect(() => loadConfig({ MAILROOM_DELIVERY_MODE: 'pigeon' })).toThrow(/MAILROOM_DELIVERY_MODE/)
  })
})

describe('MX resolution', () => {
  it('MX hosts in preference order, the A record without MX, null MX and unknown domains are permanent', async () => {
    expect((await resolveTargets(dns, 'example-mx.test')).map((t) => t.host)).toEqual(['mx.example-mx.test', 'backup.example-mx.test'])
    expect(await resolveTargets(dns, 'a-only.test')).toEqual([{ host: 'a-only.test', addresses: ['127.0.0.1'] }])
    await expect(resolveTargets(dns, 'nullmx.test')).rejects.toMatchObject({ permanent: true, responseCode: 556 })
    await expect(resolveTargets(dns, 'nowhere.test')).rejects.toMatchObject({ permanent: true })
    const broken = async () => {
      throw Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })
    }
    await expect(resolveTargets(broken, 'example-mx.test')).rejects.toMatchObject({ permanent: false })
  })
})

describe('direct delivery', () => {
  it('delivers to the MX (and the A-only domain) DKIM-signed, from the pool address, status sent', async () => {
    const t = await makeTenant(server, 'mx')
    const inbox = await makeInbox(server, t, 'direct')
    const res = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, {
      to: ['bob@example-mx.test', 'carol@example-mx.test', 'dave@a-only.test'],
      subject: 'direct',
      text: 'straight to the MX',
    })
    expect(res.status).toBe(201)
    await waitForStatus(inbox.api, inbox.id, res.body.id, ['sent'])
    const got = sink.received.filter((m) => m.from === inbox.address)
    expect(got.map((m) => m.to[0]).sort()).toEqual(['bob@example-mx.test', 'carol@example-mx.test', 'dave@a-only.test'])
    for (const m of got) {
      expect(m.remoteAddress).toBe('127.0.0.2')
      const auth = await verifyMessage(m.raw, { ip: '127.0.0.1', helo: 'localhost', mailFrom: inbox.address, resolver: keyResolver() })
      expect(auth.dkim).toBe('pass')
      expect(auth.dkimDomains).toContain('agents.test')
    }
    const deliveries = await deliveriesOf(inbox.api, inbox.id, res.body.id)
    expect(deliveries.every((d) => d.status === 'sent' && d.route === 'external')).toBe(true)
  })

  it('null MX bounces (suppressed), 5xx bounces, 4xx tries the next MX, then defers and is retried', async () => {
    const t = await makeTenant(server, 'mx2')
    const inbox = await makeInbox(server, t, 'direct2')
    sink.rule = (rcpt, attempt) =>
      rcpt.startsWith('gone') ? { code: 550, message: '5.1.1 user unknown' } : rcpt.startsWith('later') && attempt <= 2 ? { code: 451, message: '4.7.1 try later' } : rcpt.startsWith('backup') && attempt === 1 ? { code: 421, message: '4.3.2 busy' } : undefined
    try {
      const nul = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'x@nullmx.test', text: 'x' })
      const gone = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'gone@example-mx.test', text: 'x' })
      const later = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'later@example-mx.test', text: 'x' })
      // 4xx from the primary MX: the backup MX takes it in the same attempt.
      const backup = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'backup@example-mx.test', text: 'x' })
      await waitForStatus(inbox.api, inbox.id, backup.body.id, ['sent'])
      expect((await deliveriesOf(inbox.api, inbox.id, backup.body.id))[0]).toMatchObject({ status: 'sent', attempts: 1 })
      await waitForStatus(inbox.api, inbox.id, nul.body.id, ['bounced'])
      await waitForStatus(inbox.api, inbox.id, gone.body.id, ['bounced'])
      await waitForStatus(inbox.api, inbox.id, later.body.id, ['sent'])
      const [n] = await deliveriesOf(inbox.api, inbox.id, nul.body.id)
      expect(n!.lastError).toMatch(/null MX/)
      // Both MX hosts answered 451 on the first attempt: deferred, then sent on a retry.
      const [l] = await deliveriesOf(inbox.api, inbox.id, later.body.id)
      expect(l!.attempts).toBe(2)
      const supp = await t.api.get('/v1/suppressions')
      expect(supp.body.data.map((s: any) => s.address).sort()).toEqual(['gone@example-mx.test', 'x@nullmx.test'])
      const types = (await eventsOf(server, t.id)).map((e) => e.type)
      expect(types).toContain('message.deferred')
      expect(types.filter((x) => x === 'message.bounced')).toHaveLength(2)
    } finally {
      sink.rule = () => undefined
    }
  })
})
