// The SMTP door: who may receive (550 unknown, 550 no relaying, 451 suspended), how big (552 per
// tenant, per ancestor, global), how often (451 4.7.1 per tenant and per inbox), no STARTTLS
// without a certificate, and one message to several tenants stored once per tenant.
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenant } from '../../src/db/scope.js'
import { inboxes } from '../../src/inboxes/tables.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { rawRows } from '../../src/db/client.js'
import { makeChild, makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { fetchBytes, listAll, openSmtp, sendMail, sendRaw, settled } from '@mailroom/testkit/mail'

const GLOBAL_MAX = 64 * 1024

let server: TestServer
// Rate windows are per minute: a clock that stands still keeps every test inside one window.
const frozen = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000)

beforeAll(async () => {
  server = await startTestServer({ config: { maxMessageBytes: GLOBAL_MAX }, clock: { now: () => new Date(frozen) } })
})
afterAll(() => server?.stop())

/** One SMTP transaction on a bare socket; returns every reply, stopping at the first refusal. */
async function transaction(rcpts: string[], opts: { body?: string | Buffer; size?: number } = {}) {
  const s = await openSmtp(server.running.smtpPort)
  const replies: Record<string, string> = { greeting: s.greeting }
  try {
    replies.ehlo = await s.command('EHLO client.example')
    replies.mail = await s.command(`MAIL FROM:<sender@example.com>${opts.size ? ` SIZE=${opts.size}` : ''}`)
    if (!replies.mail.startsWith('250')) return replies
    replies.rcpt = ''
    let accepted = 0
    for (const r of rcpts) {
      const reply = await s.command(`RCPT TO:<${r}>`)
      replies.rcpt += reply
      if (reply.startsWith('250')) accepted++
    }
    if (opts.body === undefined || accepted === 0) return replies
    replies.dataStart = await s.command('DATA')
    const body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body)
    replies.data = await s.write(Buffer.concat([body, Buffer.from('\r\n.\r\n')]))
    return replies
  } finally {
    await s.command('QUIT').catch(() => '')
    await s.close()
  }
}

const message = (subject: string, bytes = 0) =>
  `From: sender@example.com\r\nTo: someone@agents.test\r\nSubject: ${subject}\r\n\r\n` + 'x'.repeat(76).concat('\r\n').repeat(Math.ceil(bytes / 78))

const count = async (inbox: InboxFixture) => (await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)).length

describe('recipients', () => {
  it('answers 550 5.1.1 for an unknown address at our domain and stores nothing', async () => {
    const r = await transaction(['nobody-here@agents.test'])
    expect(r.rcpt).toMatch(/^550 5\.1\.1 /)
  })

  it('refuses to relay for any other domain (550 5.7.1)', async () => {
    for (const rcpt of ['someone@example.com', 'agent@sub.agents.test', 'agent@agents.test.evil.example']) {
      const r = await transaction([rcpt])
      expect(r.rcpt, rcpt).toMatch(/^550 5\.7\.1 Relaying denied/)
    }
  })

  it('accepts an address in any case and delivers only to the valid recipients of a mixed envelope', async () => {
    const t = await makeTenant(server, 'case')
    const inbox = await makeInbox(server, t, 'mixed.Case')
    const r = await transaction([inbox.address.toUpperCase(), 'ghost@agents.test'], { body: message('mixed') })
    expect(r.rcpt).toMatch(/^250 [\s\S]*550 5\.1\.1 /)
    expect(r.data).toMatch(/^250 /)
    await settled(server)
    const [m] = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
    expect(m).toMatchObject({ subject: 'mixed', parseStatus: 'parsed' })
  })

  it("answers 451 (temporary) for a suspended tenant's address, and a suspended ancestor's descendants", async () => {
    const root = await makeTenant(server, 'root')
    const child = await makeChild(root, server, 'child')
    const grandchild = await makeChild(child, server, 'grandchild')
    const own = await makeInbox(server, child)
    const below = await makeInbox(server, grandchild)
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })).status).toBe(200)
    for (const inbox of [own, below]) {
      const r = await transaction([inbox.address], { body: message('while suspended') })
      expect(r.rcpt, inbox.address).toMatch(/^451 4\.\d\.\d /)
    }
    expect((await root.api.patch(`/v1/tenants/${child.id}`, { status: 'active' })).status).toBe(200)
    const r = await transaction([below.address], { body: message('resumed') })
    expect(r.data).toMatch(/^250 /)
    await settled(server)
    expect(await count(own)).toBe(0)
    expect(await count(below)).toBe(1)
  })

  it('offers neither STARTTLS nor AUTH when no certificate is configured', async () => {
    const r = await transaction([])
    expect(r.greeting).toMatch(/^220 /)
    expect(r.ehlo).toMatch(/^250-/)
    expect(r.ehlo).not.toMatch(/STARTTLS/)
    expect(r.ehlo).not.toMatch(/AUTH/)
    expect(r.ehlo).toMatch(new RegExp(`SIZE ${GLOBAL_MAX}`))
  })
})

describe('sizes', () => {
  it("refuses a message over the tenant's maxMessageBytes with 552: declared at RCPT, or counted after DATA", async () => {
    const parent = await makeTenant(server, 'size-parent')
    const child = await makeChild(parent, server, 'size-child')
    const inbox = await makeInbox(server, child)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxMessageBytes: 4096 } })).status).toBe(200)
    const declared = await transaction([inbox.address], { size: 5000 })
    expect(declared.rcpt).toMatch(/^552 5\.3\.4 /)
    const counted = await transaction([inbox.address], { body: message('too big', 5000) })
    expect(counted.rcpt).toMatch(/^250 /)
    expect(counted.data).toMatch(/^552 5\.3\.4 /)
    const fits = await transaction([inbox.address], { body: message('fits', 3000) })
    expect(fits.data).toMatch(/^250 /)
    await settled(server)
    const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
    expect(list.map((m) => m.subject)).toEqual(['fits'])
  })

  it("caps a tenant by its ancestors' limits, even ones set after it was created", async () => {
    const root = await makeTenant(server, 'cap-root')
    const mid = await makeChild(root, server, 'cap-mid')
    const leaf = await makeChild(mid, server, 'cap-leaf')
    const inbox = await makeInbox(server, leaf)
    expect((await root.api.patch(`/v1/tenants/${mid.id}`, { limits: { maxMessageBytes: 4096 } })).status).toBe(200)
    const r = await transaction([inbox.address], { body: message('over the ancestor cap', 6000) })
    expect(r.data).toMatch(/^552 5\.3\.4 /)
    await settled(server)
    expect(await count(inbox)).toBe(0)
  })

  it('refuses a message over the global MAILROOM_MAX_MESSAGE_BYTES with 552, declared or not', async () => {
    const t = await makeTenant(server, 'global-size')
    const inbox = await makeInbox(server, t)
    const declared = await transaction([inbox.address], { size: GLOBAL_MAX + 1 })
    expect(declared.mail).toMatch(/^552 /)
    const counted = await transaction([inbox.address], { body: message('huge', GLOBAL_MAX + 2000) })
    expect(counted.data).toMatch(/^552 5\.3\.4 /)
    // The session goes on: the next message on a new connection is fine.
    const small = await transaction([inbox.address], { body: message('small') })
    expect(small.data).toMatch(/^250 /)
    await settled(server)
    expect((await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)).map((m) => m.subject)).toEqual(['small'])
  })
})

describe('rates', () => {
  it('answers 451 4.7.1 once a tenant has received receivePerMinute messages in the window', async () => {
    const parent = await makeTenant(server, 'rate-parent')
    const child = await makeChild(parent, server, 'rate-child')
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { receivePerMinute: 2 } })).status).toBe(200)
    const a = await makeInbox(server, child)
    const b = await makeInbox(server, child)
    await sendMail(server, { to: a.address, subject: 'one' })
    await sendMail(server, { to: b.address, subject: 'two' })
    const err = await sendMail(server, { to: a.address, subject: 'three' }).catch((e: { responseCode?: number; response?: string }) => e)
    expect(err).toMatchObject({ responseCode: 451 })
    expect((err as { response: string }).response).toMatch(/^451 4\.7\.1 /)
    // Another tenant is not affected.
    const other = await makeInbox(server, await makeTenant(server, 'unlimited'))
    await sendMail(server, { to: other.address, subject: 'fine' })
    await settled(server)
    expect((await count(a)) + (await count(b))).toBe(2)
  })

  it('answers 451 4.7.1 once an inbox has received its own receivePerMinute, leaving its siblings alone', async () => {
    const t = await makeTenant(server, 'inbox-rate')
    const limited = await makeInbox(server, t)
    const sibling = await makeInbox(server, t)
    // Inbox limits have no API yet: set the column directly, in the tenant's scope.
    await withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', t.id)! }, (tx) =>
      tx.update(inboxes).set({ limits: { receivePerMinute: 1 } }).where(eq(inboxes.id, fromPublicId('inbox', limited.id)!)),
    )
    expect((await transaction([limited.address], { body: message('first') })).data).toMatch(/^250 /)
    expect((await transaction([limited.address], { body: message('second') })).rcpt).toMatch(/^451 4\.7\.1 /)
    for (let i = 0; i < 3; i++) expect((await transaction([sibling.address], { body: message(`sibling ${i}`) })).data).toMatch(/^250 /)
    await settled(server)
    expect(await count(limited)).toBe(1)
    expect(await count(sibling)).toBe(3)
  })
})

describe('one message to several tenants', () => {
  it('is stored once per tenant, listed in every inbox, each tenant seeing only its own copy, bytes identical', async () => {
    const a = await makeTenant(server, 'fan-a')
    const b = await makeTenant(server, 'fan-b')
    const a1 = await makeInbox(server, a)
    const a2 = await makeInbox(server, a)
    const b1 = await makeInbox(server, b)
    const raw = Buffer.from(
      `From: Fan Out <fan@example.com>\r\nTo: ${a1.address}, ${a2.address}\r\nCc: ${b1.address}\r\nSubject: fan-out\r\nMessage-ID: <fan-out-1@example.com>\r\n\r\nhello all\r\n`,
    )
    await sendRaw(server, { from: 'fan@example.com', to: [a1.address, a2.address, b1.address, a1.address] }, raw)
    await settled(server)
    const ids: Record<string, string> = {}
    for (const inbox of [a1, a2, b1]) {
      const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
      expect(list).toHaveLength(1)
      expect(list[0]).toMatchObject({ subject: 'fan-out', parseStatus: 'parsed', messageId: '<fan-out-1@example.com>' })
      ids[inbox.id] = list[0].id
      const bytes = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${list[0].id}/raw`)
      expect(bytes.bytes.equals(raw)).toBe(true)
    }
    expect(new Set(Object.values(ids)).size).toBe(3)
    // Neither tenant reaches the other's inbox or message.
    expect((await a.api.get(`/v1/inboxes/${b1.id}/messages`)).status).toBe(404)
    expect((await b.api.get(`/v1/inboxes/${a1.id}/messages/${ids[a1.id]}`)).status).toBe(404)
    expect((await b.api.get(`/v1/inboxes/${b1.id}/messages/${ids[a1.id]}`)).status).toBe(404)
    // In the database: one raw row per tenant, both inboxes of A pointing at A's.
    const rawsOf = (tenantId: string) =>
      withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenantId)! }, (tx) =>
        rawRows<{ id: string; copies: number }>(
          tx,
          sql`select r.id, (select count(*)::int from messages m where m.tenant_id = r.tenant_id and m.raw_id = r.id) as copies from raw_messages r where r.size = ${raw.length}`,
        ),
      )
    const rawsA = await rawsOf(a.id)
    const rawsB = await rawsOf(b.id)
    expect(rawsA).toEqual([{ id: expect.any(String), copies: 2 }])
    expect(rawsB).toEqual([{ id: expect.any(String), copies: 1 }])
    expect(rawsA[0]!.id).not.toBe(rawsB[0]!.id)
  })
})
