// Custom domains: records, verification through a fake DNS, the exclusive claim, inboxes on the
// domain, inbound routing with catch-all, and DKIM signing with the domain's own key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeInbox, makeTenant, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { openSmtp, sendMail, settled } from '@mailroom/testkit/mail'
import { startSink, type Sink } from '../delivery/sink.js'
import { waitForStatus } from '../delivery/helpers.js'
import { verifyMessage } from '../../src/mail/sender-auth.js'
import { editableDns } from '../helpers/dns.js'
import { rawRows } from '../../src/db/client.js'

// A DNS the test edits as it goes: name -> rrtype -> answer.
const { zone, resolver, publish } = editableDns()

let server: TestServer
let sink: Sink
let a: TenantFixture
let b: TenantFixture
let domainA: any

beforeAll(async () => {
  sink = await startSink()
  server = await startTestServer({ resolver, config: { relayUrl: sink.url }, delivery: { pollMs: 50 } })
  a = await makeTenant(server, 'owner')
  b = await makeTenant(server, 'squatter')
})
afterAll(async () => {
  await server?.stop()
  await sink?.close()
})

describe('custom domains', () => {
  it('adding a domain lists the records to publish; an unverified domain carries no inbox', async () => {
    const res = await a.api.post('/v1/domains', { name: 'Custom.Test' })
    expect(res.status).toBe(201)
    domainA = res.body
    expect(domainA).toMatchObject({ name: 'custom.test', status: 'pending', catchAllInboxId: null })
    const byPurpose = Object.fromEntries(domainA.records.map((r: any) => [r.purpose, r]))
    expect(byPurpose.verification).toMatchObject({ type: 'TXT', name: '_mailroom.custom.test', required: true, state: 'unchecked' })
    expect(byPurpose.dkim.name).toMatch(/^mr[0-9a-f]{6}\._domainkey\.custom\.test$/)
    expect(byPurpose.dkim.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/)
    expect(byPurpose.spf).toMatchObject({ name: 'custom.test', value: 'v=spf1 include:agents.test ~all' })
    expect(byPurpose.mx).toMatchObject({ type: 'MX', value: 'agents.test', priority: 10 })
    expect(byPurpose.dmarc.name).toBe('_dmarc.custom.test')
    expect((await a.api.post('/v1/domains', { name: 'custom.test' })).status).toBe(409)
    expect((await a.api.post('/v1/domains', { name: 'x.agents.test' })).status).toBe(400)

    const check = await a.api.post(`/v1/domains/${domainA.id}/verify`)
    expect(check.status).toBe(200)
    expect(check.body.status).toBe('pending')
    expect(check.body.records.every((r: any) => r.state === 'missing')).toBe(true)
    const inbox = await a.api.post('/v1/inboxes', { name: 'support', domain: 'custom.test' })
    expect(inbox.status).toBe(400)
    expect(inbox.body.error.message).toMatch(/not verified/)
    expect((await a.api.post('/v1/inboxes', { name: 'support', domain: 'nope.test' })).status).toBe(400)
  })

  it('a wrong record is reported as a mismatch with what was found', async () => {
    zone['_mailroom.custom.test'] = { TXT: [['mailroom-verification=wrong']] }
    const check = await a.api.post(`/v1/domains/${domainA.id}/verify`)
    expect(check.body.records.find((r: any) => r.purpose === 'verification')).toMatchObject({ state: 'mismatch', detail: expect.stringContaining('wrong') })
    delete zone['_mailroom.custom.test']
  })

  it('an unverified claim by another tenant does not block the owner; once verified, nobody else gets it', async () => {
    const squat = await b.api.post('/v1/domains', { name: 'custom.test' })
    expect(squat.status).toBe(201)
    publish(domainA)
    const ok = await a.api.post(`/v1/domains/${domainA.id}/verify`)
    expect(ok.status).toBe(200)
    expect(ok.body.status).toBe('verified')
    expect(ok.body.verifiedAt).not.toBeNull()
    expect(ok.body.records.every((r: any) => r.state === 'verified')).toBe(true)
    // The squatter's pending row cannot verify (even with its own records published) ...
    publish(squat.body)
    const stolen = await b.api.post(`/v1/domains/${squat.body.id}/verify`)
    expect(stolen.status).toBe(409)
    // ... and a third tenant cannot even add it; nothing names the holder.
    const c = await makeTenant(server, 'third')
    const refused = await c.api.post('/v1/domains', { name: 'custom.test' })
    expect(refused.status).toBe(409)
    expect(refused.text).not.toContain(a.id)
    expect(refused.text).not.toMatch(/owner|tnt_/)
    // The other tenant's domain id is a 404 like any missing one.
    expect((await b.api.get(`/v1/domains/${domainA.id}`)).status).toBe(404)
  })

  it('inboxes on the verified domain receive mail; unknown addresses get 550 5.1.1, or the catch-all', async () => {
    const support = await a.api.post('/v1/inboxes', { name: 'support', domain: 'custom.test', createKey: true })
    expect(support.status).toBe(201)
    expect(support.body.address).toBe('support@custom.test')
    // The squatter cannot create an inbox on it.
    expect((await b.api.post('/v1/inboxes', { name: 'evil', domain: 'custom.test' })).status).toBe(400)

    await sendMail(server, { to: 'support@custom.test', subject: 'hello custom', text: 'x' })
    await settled(server)
    const inboxApi = client(server.baseUrl, support.body.apiKey)
    const got = await inboxApi.get(`/v1/inboxes/${support.body.id}/messages`)
    expect(got.body.data.map((m: any) => m.subject)).toEqual(['hello custom'])

    const smtp = await openSmtp(server.running.smtpPort)
    await smtp.command('EHLO test')
    await smtp.command('MAIL FROM:<s@example.com>')
    expect(await smtp.command('RCPT TO:<nobody@custom.test>')).toMatch(/^550 5\.1\.1/)
    expect(await smtp.command('RCPT TO:<x@pending-elsewhere.test>')).toMatch(/^550 5\.7\.1/)
    await smtp.close()

    const catchAll = await a.api.post('/v1/inboxes', { name: 'catchall', createKey: true })
    const patched = await a.api.patch(`/v1/domains/${domainA.id}`, { catchAllInboxId: catchAll.body.id })
    expect(patched.status).toBe(200)
    expect(patched.body.catchAllInboxId).toBe(catchAll.body.id)
    // Another tenant's inbox cannot be the catch-all.
    const foreign = await makeInbox(server, b, 'foreign')
    expect((await a.api.patch(`/v1/domains/${domainA.id}`, { catchAllInboxId: foreign.id })).status).toBe(404)

    await sendMail(server, { to: 'anything-at-all@custom.test', subject: 'to the catch-all', text: 'x' })
    await sendMail(server, { to: 'support@custom.test', subject: 'still support', text: 'x' })
    await settled(server)
    const caught = await client(server.baseUrl, catchAll.body.apiKey).get(`/v1/inboxes/${catchAll.body.id}/messages`)
    expect(caught.body.data.map((m: any) => m.subject)).toEqual(['to the catch-all'])
    expect(caught.body.data[0].to[0].address).toBe('anything-at-all@custom.test')
    const sup = await inboxApi.get(`/v1/inboxes/${support.body.id}/messages`)
    expect(sup.body.data.map((m: any) => m.subject).sort()).toEqual(['hello custom', 'still support'])
  })

  it("mail sent from the domain is DKIM-signed with the domain's own key", async () => {
    const list = await a.api.get('/v1/inboxes?limit=100')
    const support = list.body.data.find((i: any) => i.address === 'support@custom.test')
    const key = (await a.api.post('/v1/api-keys', { scope: 'inbox', inboxId: support.id })).body.key
    const inbox = client(server.baseUrl, key)
    const res = await inbox.post(`/v1/inboxes/${support.id}/messages`, { to: 'alice@example.com', subject: 'signed by custom', text: 'body' })
    expect(res.status).toBe(201)
    await waitForStatus(inbox, support.id, res.body.id, ['sent'])
    const m = sink.received.find((r) => r.from === 'support@custom.test')!
    const selector = domainA.records.find((r: any) => r.purpose === 'dkim').name.split('.')[0]
    expect(m.raw.toString()).toMatch(new RegExp(`^DKIM-Signature:[\\s\\S]*d=custom\\.test;[\\s\\S]*s=${selector};`))
    const auth = await verifyMessage(m.raw, { ip: '127.0.0.1', helo: 'localhost', mailFrom: 'support@custom.test', resolver })
    expect(auth.dkim).toBe('pass')
    expect(auth.dkimDomains).toEqual(['custom.test'])
    const tampered = Buffer.from(m.raw.toString().replace('body', 'evil'))
    expect((await verifyMessage(tampered, { ip: '127.0.0.1', helo: 'localhost', mailFrom: 'support@custom.test', resolver })).dkim).toBe('fail')
  })

  it('stores the DKIM private key encrypted', async () => {
    const rows = await rawRows<{ k: Buffer }>(server.db.owner.db, sql`select dkim_private_enc as k from domains`)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(Buffer.from(r.k).toString('latin1')).not.toMatch(/PRIVATE KEY|MII/)
  })

  it('a domain with inboxes cannot be deleted; deleting releases the claim', async () => {
    expect((await a.api.delete(`/v1/domains/${domainA.id}`)).status).toBe(409)
    const list = (await a.api.get('/v1/inboxes?limit=100')).body.data.filter((i: any) => i.address.endsWith('@custom.test'))
    for (const i of list) expect((await a.api.delete(`/v1/inboxes/${i.id}`)).status).toBe(204)
    expect((await a.api.delete(`/v1/domains/${domainA.id}`)).status).toBe(204)
    expect((await a.api.get(`/v1/domains/${domainA.id}`)).status).toBe(404)
    const smtp = await openSmtp(server.running.smtpPort)
    await smtp.command('EHLO test')
    await smtp.command('MAIL FROM:<s@example.com>')
    expect(await smtp.command('RCPT TO:<support@custom.test>')).toMatch(/^550 5\.7\.1/)
    await smtp.close()
    const c = await makeTenant(server, 'next-owner')
    expect((await c.api.post('/v1/domains', { name: 'custom.test' })).status).toBe(201)
  })
})
