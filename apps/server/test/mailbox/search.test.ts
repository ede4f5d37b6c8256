// Search over the blind index, end to end: received and sent mail are found by whole words of the
// subject, text, names and addresses (any case, any accent), never by substrings; from/to/date/
// label/unread filters; newest first with cursor pagination; quarantined mail never matches; no
// tenant or other inbox can reach another's results, not even by calling the search function with
// the right hashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { rawRows } from '../../src/db/client.js'
import { withTenant, withoutTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { addressWords, wordsOf } from '../../src/crypto/blind-index.js'
import { searchableWords } from '../../src/messages/search.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const found = async (api: ReturnType<typeof client>, inboxId: string, query: string) => {
  const res = await api.get(`/v1/inboxes/${inboxId}/search?${query}`)
  expect(res.status, res.text).toBe(200)
  return (res.body.data as { subject: string }[]).map((m) => m.subject)
}

describe('normalising words', () => {
  it('folds case and accents, splits on punctuation, keeps addresses whole and in parts', () => {
    expect(wordsOf('Café-Crème, NAÏVE façade! x2 ﬁle')).toEqual(['cafe', 'creme', 'naive', 'facade', 'x2', 'file'])
    expect(addressWords('Bob.Smith@Example.com')).toEqual(['bob.smith@example.com', 'bob', 'smith', 'example', 'com'])
    expect(wordsOf('a'.repeat(65) + ' ok')).toEqual(['ok'])
  })

  it('takes the words of a message: subject, people, attachment names, and the html text when there is no text part', () => {
    const words = [
      ...searchableWords({
        subject: 'Re: Offer',
        text: null,
        html: '<style>.hidden{color:red}</style><p>Hello&nbsp;<b>World</b></p>',
        from: { address: 'ann@a.example', name: 'Ann Lee' },
        to: [{ address: 'bo@b.example', name: null }],
        cc: [],
        attachments: [{ filename: 'price-list.pdf' }],
      }),
    ]
    expect(words).toEqual(['re', 'offer', 'ann@a.example', 'ann', 'a', 'example', 'ann', 'lee', 'bo@b.example', 'bo', 'b', 'example', 'price', 'list', 'pdf', 'hello', 'world'])
  })
})

describe('search', () => {
  let tenant: Awaited<ReturnType<typeof makeTenant>>
  let inbox: InboxFixture
  beforeAll(async () => {
    tenant = await makeTenant(server)
    inbox = await makeInbox(server, tenant)
    await sendMail(server, { from: '"Zoë Quartermaine" <zoe@supplier.example>', to: inbox.address, subject: 'Invoice 4471 overdue', text: 'The pallet of résumé paper ships Tuesday.' })
    await sendMail(server, { from: 'billing@supplier.example', to: inbox.address, subject: 'Invoice paid', text: 'Thanks, the invoice is settled.' })
    await sendMail(server, { from: 'friend@elsewhere.example', to: inbox.address, subject: 'Lunch', text: 'Pizza on Tuesday?', attachments: [{ filename: 'menu-card.pdf', content: 'x' }] })
    await settled(server)
    // And one sent from the inbox.
    const sent = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: 'carrier@freight.example', subject: 'Pallet pickup', text: 'Please collect the pallet on Wednesday.' })
    expect(sent.status, sent.text).toBeLessThan(300)
  })

  it('finds whole words in subjects, bodies, names, addresses and attachment names, in any case and accent', async () => {
    expect(await found(inbox.api, inbox.id, 'q=invoice')).toEqual(['Invoice paid', 'Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=INVOICE%20overdue')).toEqual(['Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=4471')).toEqual(['Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=resume')).toEqual(['Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=zoe%20quartermaine')).toEqual(['Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=supplier')).toEqual(['Invoice paid', 'Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=billing%40supplier.example')).toEqual(['Invoice paid'])
    expect(await found(inbox.api, inbox.id, 'q=menu')).toEqual(['Lunch'])
    expect(await found(inbox.api, inbox.id, 'q=tuesday')).toEqual(['Lunch', 'Invoice 4471 overdue'])
    // Sent mail: its words and its recipient.
    expect(await found(inbox.api, inbox.id, 'q=pallet')).toEqual(['Pallet pickup', 'Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=freight')).toEqual(['Pallet pickup'])
    // Whole words only: no substrings, no prefixes; every word must be there.
    expect(await found(inbox.api, inbox.id, 'q=invoi')).toEqual([])
    expect(await found(inbox.api, inbox.id, 'q=voice')).toEqual([])
    expect(await found(inbox.api, inbox.id, 'q=invoice%20pizza')).toEqual([])
  })

  it('filters by from, to, date, label and unread', async () => {
    expect(await found(inbox.api, inbox.id, 'q=invoice&from=Billing@Supplier.example')).toEqual(['Invoice paid'])
    expect(await found(inbox.api, inbox.id, 'q=pallet&to=carrier@freight.example')).toEqual(['Pallet pickup'])
    expect(await found(inbox.api, inbox.id, `q=invoice&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([])
    expect(await found(inbox.api, inbox.id, `q=invoice&until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(2)
    const [paid] = (await inbox.api.get(`/v1/inboxes/${inbox.id}/search?q=paid`)).body.data
    await inbox.api.patch(`/v1/inboxes/${inbox.id}/messages/${paid.id}`, { seen: true, addLabels: ['handled'] })
    expect(await found(inbox.api, inbox.id, 'q=invoice&label=handled')).toEqual(['Invoice paid'])
    expect(await found(inbox.api, inbox.id, 'q=invoice&unread=true')).toEqual(['Invoice 4471 overdue'])
    expect(await found(inbox.api, inbox.id, 'q=invoice&unread=false')).toEqual(['Invoice paid'])
  })

  it('refuses a query without words and a cursor it did not issue', async () => {
    for (const q of ['q=', 'q=%20-%20', `q=${Array.from({ length: 17 }, (_, i) => `w${i}`).join('%20')}`, 'q=x&after=nope', 'q=x&label=Not%20one']) {
      const res = await inbox.api.get(`/v1/inboxes/${inbox.id}/search?${q}`)
      expect({ q, status: res.status, code: res.body.error?.code }).toEqual({ q, status: 400, code: 'validation_error' })
    }
  })

  it('pages newest first with a cursor', async () => {
    const paged = await makeInbox(server, tenant)
    for (let i = 0; i < 7; i++) await sendMail(server, { to: paged.address, subject: `report ${i}`, text: i % 2 ? 'weekly figures' : 'other words' })
    await sendMail(server, { to: paged.address, subject: 'unrelated', text: 'nothing' })
    await settled(server)
    const seen: string[] = []
    let after = ''
    for (let page = 0; page < 10; page++) {
      const res = await paged.api.get(`/v1/inboxes/${paged.id}/search?q=report&limit=3${after ? `&after=${after}` : ''}`)
      seen.push(...res.body.data.map((m: { subject: string }) => m.subject))
      if (!res.body.nextCursor) break
      after = res.body.nextCursor
    }
    expect(seen).toEqual(['report 6', 'report 5', 'report 4', 'report 3', 'report 2', 'report 1', 'report 0'])
    expect(await found(paged.api, paged.id, 'q=weekly%20report&limit=2')).toEqual(['report 5', 'report 3'])
  })

  it('a word in most of 2,500 messages, one in a seventh, both with filters and pages: the same answers as a direct query', async () => {
    const box = await makeInbox(server, tenant)
    const { database, crypto } = server.running.deps
    const tenantId = fromPublicId('tenant', tenant.id)!
    const inboxId = fromPublicId('inbox', box.id)!
    const cipher = await withTenant(database, { tenantId }, (tx) => crypto.cipher(tx, tenantId))
    const [common] = cipher.blindTerms(inboxId, ['common'])
    const [other] = cipher.blindTerms(inboxId, ['other'])
    const owner = server.db.owner.db
    // 2,500 messages in bulk: every 7th holds only "other", the rest "common" (2,143 of them);
    // every 100th is from boss@x.example; the newest one is quarantined.
    await rawRows(owner, sql`insert into raw_messages (tenant_id, id, data_enc, size, sha256) values (${tenantId}, ${tenantId}, '\\x00', 1, 'x')`)
    await rawRows(
      owner,
      sql`with m as (
            insert into messages (tenant_id, id, inbox_id, raw_id, direction, status, parse_status, from_address, size, received_at, quarantined)
            select ${tenantId}::uuid, gen_random_uuid(), ${inboxId}::uuid, ${tenantId}::uuid, 'inbound', 'received', 'parsed',
                   case when i % 100 = 0 then 'boss@x.example' else 'someone@x.example' end, 1, now() - i * interval '1 second', i = 1
            from generate_series(1, 2500) i returning id, received_at, from_address)
          insert into message_search (tenant_id, message_id, inbox_id, terms)
          select ${tenantId}::uuid, m.id, ${inboxId}::uuid,
                 case when (extract(epoch from now() - m.received_at))::int % 7 = 0 then array[${other}::bigint] else array[${common}::bigint] end
          from m`,
    )
    const expected = async (where: ReturnType<typeof sql>, limit: number) =>
      (
        await rawRows<{ id: string }>(
          owner,
          sql`select m.id from messages m join message_search s on s.tenant_id = m.tenant_id and s.message_id = m.id
              where m.inbox_id = ${inboxId}::uuid and not m.quarantined and s.terms @> array[${common}::bigint] and ${where}
              order by m.received_at desc, m.id desc limit ${limit}`,
        )
      ).map((r) => toPublic(r.id))
    const toPublic = (uuid: string) => `msg_${uuid.replaceAll('-', '')}`
    const ids = async (q: string) => ((await box.api.get(`/v1/inboxes/${box.id}/search?${q}`)).body.data as { id: string }[]).map((m) => m.id)

    expect(await ids('q=common&limit=30')).toEqual(await expected(sql`true`, 30))
    expect(await ids('q=common&limit=30')).toHaveLength(30)
    const boss = await expected(sql`m.from_address = 'boss@x.example'`, 100)
    expect(boss.length).toBeGreaterThan(10)
    const paged: string[] = []
    let after = ''
    for (let i = 0; i < 10; i++) {
      const res = await box.api.get(`/v1/inboxes/${box.id}/search?q=common&from=boss@x.example&limit=7${after}`)
      paged.push(...res.body.data.map((m: { id: string }) => m.id))
      if (!res.body.nextCursor) break
      after = `&after=${res.body.nextCursor}`
    }
    expect(paged).toEqual(boss)
    // "other" is rare (357 messages): the index path, for comparison.
    expect(await ids('q=other&limit=100')).toHaveLength(100)
    expect(await ids('q=common%20other')).toEqual([])
  })

  it('never finds quarantined mail, for the agent or the tenant', async () => {
    const held = await tenant.api.post('/v1/inboxes', { name: 'held-search', createKey: true, policies: { quarantine: { minScore: 0 } } })
    const api = client(server.baseUrl, held.body.apiKey)
    await sendMail(server, { to: held.body.address, subject: 'Secret plans', text: 'the treasure map' })
    await settled(server)
    expect(await found(api, held.body.id, 'q=treasure')).toEqual([])
    expect(await found(tenant.api, held.body.id, 'q=treasure')).toEqual([])
    const [m] = (await tenant.api.get(`/v1/inboxes/${held.body.id}/messages?quarantined=true`)).body.data
    expect((await tenant.api.post(`/v1/inboxes/${held.body.id}/messages/${m.id}/release`)).status).toBe(200)
    expect(await found(api, held.body.id, 'q=treasure')).toEqual(['Secret plans'])
  })

  it('another tenant or inbox reaches nothing: not by the route, not by the search function with the right hashes', async () => {
    const other = await makeTenant(server)
    const otherInbox = await makeInbox(server, other)
    const sibling = await makeInbox(server, tenant)
    expect((await other.api.get(`/v1/inboxes/${inbox.id}/search?q=invoice`)).status).toBe(404)
    expect((await sibling.api.get(`/v1/inboxes/${inbox.id}/search?q=invoice`)).status).toBe(404)
    expect(await found(otherInbox.api, otherInbox.id, 'q=invoice')).toEqual([])

    const { database, crypto } = server.running.deps
    const tenantId = fromPublicId('tenant', tenant.id)!
    const inboxId = fromPublicId('inbox', inbox.id)!
    const terms = await withTenant(database, { tenantId }, async (tx) => (await crypto.cipher(tx, tenantId)).blindTerms(inboxId, ['invoice']))
    const call = sql`select id from mailroom_search_messages(${inboxId}::uuid, ${`{${terms.join(',')}}`}::bigint[], null, null, null, null, null, null, null, null, 10)`
    // The owner of the inbox, with the right hashes: two hits (the function works)...
    expect(await withTenant(database, { tenantId }, (tx) => rawRows(tx, call))).toHaveLength(2)
    expect(await withTenant(database, { tenantId, inboxId }, (tx) => rawRows(tx, call))).toHaveLength(2)
    // ...anyone else, with the same hashes: nothing.
    expect(await withTenant(database, { tenantId: fromPublicId('tenant', other.id)! }, (tx) => rawRows(tx, call))).toEqual([])
    expect(await withTenant(database, { tenantId, inboxId: fromPublicId('inbox', sibling.id)! }, (tx) => rawRows(tx, call))).toEqual([])
    expect(await withoutTenant(database, (tx) => rawRows(tx, call))).toEqual([])
    // And the index rows themselves are under RLS like the mail.
    const count = sql`select count(*)::int as n from message_search where inbox_id = ${inboxId}::uuid`
    expect(await withTenant(database, { tenantId: fromPublicId('tenant', other.id)! }, (tx) => rawRows(tx, count))).toEqual([{ n: 0 }])
    expect(await withTenant(database, { tenantId, inboxId: fromPublicId('inbox', sibling.id)! }, (tx) => rawRows(tx, count))).toEqual([{ n: 0 }])
  })
})
