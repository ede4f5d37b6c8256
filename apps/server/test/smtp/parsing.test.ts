// Parsing and the messages API: addresses, subject, date, bodies, headers in order, attachments
// byte-exact, threads per inbox (also when a reply arrives first), list filters and cursor
// pagination, deletion (the raw goes once no copy uses it), and hostile header content.
import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import MailComposer from 'nodemailer/lib/mail-composer'
import type Mail from 'nodemailer/lib/mailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRows } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { decodeCursor, type CursorPosition } from '../../src/lib/cursor.js'
import { listMessages } from '../../src/messages/service.js'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { fetchBytes, listAll, sendMail, sendRaw, settled, smtpCanonical } from '@mailroom/testkit/mail'

let server: TestServer
let tenant: TenantFixture

beforeAll(async () => {
  server = await startTestServer()
  tenant = await makeTenant(server, 'parsing')
})
afterAll(() => server?.stop())

const compose = (mail: Mail.Options): Promise<Buffer> => new MailComposer(mail).compile().build()

async function deliver(inbox: InboxFixture, raw: Buffer | string, to: string[] = [inbox.address]) {
  await sendRaw(server, { from: 'sender@example.com', to }, raw)
  await settled(server)
}

const messagesOf = (inbox: InboxFixture, query = '') => listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages${query}`)

/** Header names of a raw message, in order, as they appear in its header block. */
function headerNames(raw: Buffer): string[] {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/)[0]!
  return head
    .split(/\r?\n(?![ \t])/)
    .map((l) => l.slice(0, l.indexOf(':')))
}

describe('a parsed message', () => {
  const binary = randomBytes(3000)
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex')
  let inbox: InboxFixture
  let raw: Buffer
  let m: any

  beforeAll(async () => {
    inbox = await makeInbox(server, tenant)
    // MailComposer ends without a line break; SMTP adds the CRLF before the final dot.
    raw = smtpCanonical(await compose({
      from: '"Ada Lovelace" <Ada@Example.com>',
      to: ['Bob <bob@example.net>', inbox.address],
      cc: 'Carol <carol@example.org>',
      replyTo: 'Replies <replies@example.com>',
      subject: 'Quarterly report — résumé ✓',
      date: new Date('2024-05-06T07:08:09Z'),
      messageId: '<full-1@example.com>',
      headers: [
        { key: 'X-Order', value: 'first' },
        { key: 'X-Trace', value: 'abc' },
        { key: 'X-Order', value: 'second' },
      ],
      text: 'Hello,\nthe numbers are attached.\n',
      html: '<p>Hello, <b>the numbers</b> <img src="cid:pixel@example.com"></p>',
      attachments: [
        { filename: 'data.bin', content: binary, contentType: 'application/octet-stream' },
        { filename: 'notes — é.txt', content: 'plain notes\n', contentType: 'text/plain' },
        { filename: 'pixel.png', content: png, contentType: 'image/png', cid: 'pixel@example.com' },
      ],
    }))
    await deliver(inbox, raw)
    const [summary] = await messagesOf(inbox)
    m = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${summary.id}`)).body
  })

  it('has its addresses, subject, date and Message-ID', () => {
    expect(m).toMatchObject({
      direction: 'inbound',
      status: 'received',
      parseStatus: 'parsed',
      parseError: null,
      from: { address: 'ada@example.com', name: 'Ada Lovelace' },
      to: [
        { address: 'bob@example.net', name: 'Bob' },
        { address: inbox.address, name: null },
      ],
      cc: [{ address: 'carol@example.org', name: 'Carol' }],
      replyTo: [{ address: 'replies@example.com', name: 'Replies' }],
      subject: 'Quarterly report — résumé ✓',
      date: '2024-05-06T07:08:09.000Z',
      messageId: '<full-1@example.com>',
      inReplyTo: null,
      references: [],
      size: raw.length,
      authentication: null,
    })
    expect(m.threadId).toMatch(/^thr_/)
  })

  it('has its text and html bodies', () => {
    expect(m.text).toBe('Hello,\nthe numbers are attached.\n')
    expect(m.html).toBe('<p>Hello, <b>the numbers</b> <img src="cid:pixel@example.com"></p>')
  })

  it('has every header, in order, repeated ones included', () => {
    expect(m.headers.map((h: { name: string }) => h.name)).toEqual(headerNames(raw))
    expect(m.headers.filter((h: { name: string }) => h.name === 'X-Order').map((h: { value: string }) => h.value)).toEqual(['first', 'second'])
    expect(m.headers.find((h: { name: string }) => h.name === 'Subject').value).toMatch(/^=\?UTF-8\?/)
  })

  it('has its attachments with name, type and size, and their content downloads byte-exact', async () => {
    // In MIME order: the inline image sits in the multipart/related part, before the attachments.
    expect(m.attachments).toMatchObject([
      { filename: 'pixel.png', contentType: 'image/png', size: png.length, inline: true, contentId: '<pixel@example.com>' },
      { filename: 'data.bin', contentType: 'application/octet-stream', size: binary.length, inline: false, contentId: null },
      { filename: 'notes — é.txt', contentType: 'text/plain', size: 12, inline: false },
    ])
    const expected = [png, binary, Buffer.from('plain notes\n')]
    for (const [i, a] of m.attachments.entries()) {
      expect(a.id).toMatch(/^att_/)
      const got = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/attachments/${a.id}`)
      expect(got.status).toBe(200)
      expect(got.bytes.equals(expected[i]!), a.filename).toBe(true)
      expect(got.headers.get('content-type')).toBe(a.contentType)
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="/)
    }
    const summary = (await messagesOf(inbox))[0]
    expect(summary.attachments).toEqual(m.attachments)
    expect(summary.preview).toBe('Hello, the numbers are attached.')
  })

  it('gives back the raw message byte-exact as message/rfc822', async () => {
    const got = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/raw`)
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('message/rfc822')
    expect(got.bytes.equals(raw)).toBe(true)
  })
})

describe('attachment bytes, stored once', () => {
  const attRows = (inbox: InboxFixture) =>
    withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenant.id)! }, (tx) =>
      rawRows<{ id: string; stored: boolean; checksum: string | null; position: number }>(
        tx,
        sql`select a.id, a.content_enc is not null as stored, a.checksum, a.position from attachments a
            join messages m on m.tenant_id = a.tenant_id and m.id = a.message_id
            where m.inbox_id = ${fromPublicId('inbox', inbox.id)!} order by a.position`,
      ),
    )
  const withAttachments = async (inbox: InboxFixture, files: { filename: string; content: Buffer }[]) => {
    await deliver(inbox, smtpCanonical(await compose({ from: 'a@example.com', to: inbox.address, subject: 'files', text: 'see attached', attachments: files })))
    const [summary] = await messagesOf(inbox)
    return (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${summary.id}`)).body
  }

  it('a message parsed before it is stored keeps no decoded copy: each attachment is decoded from the raw on read, byte-exact', async () => {
    const inbox = await makeInbox(server, tenant)
    const files = [
      { filename: 'a.bin', content: randomBytes(5000) },
      { filename: 'b.bin', content: randomBytes(70_000) },
    ]
    const m = await withAttachments(inbox, files)
    const rows = await attRows(inbox)
    expect(rows.map((r) => [r.stored, r.position])).toEqual([
      [false, 0],
      [false, 1],
    ])
    for (const r of rows) expect(r.checksum).toMatch(/^[0-9a-f]{32}$/)
    for (const [i, a] of m.attachments.entries()) {
      const got = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/attachments/${a.id}`)
      expect(got.status).toBe(200)
      expect(got.bytes.equals(files[i]!.content)).toBe(true)
    }
  })

  it('answers 500 internal_error, never other bytes, when the raw no longer yields what the row describes', async () => {
    const inbox = await makeInbox(server, tenant)
    const m = await withAttachments(inbox, [{ filename: 'c.bin', content: randomBytes(2000) }])
    const [row] = await attRows(inbox)
    await withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenant.id)! }, (tx) =>
      tx.execute(sql`update attachments set checksum = ${'0'.repeat(32)} where id = ${row!.id}`),
    )
    const got = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/attachments/${m.attachments[0].id}`)
    expect(got.status).toBe(500)
    expect(JSON.parse(got.bytes.toString()).error.code).toBe('internal_error')
  })

  it('a message over 1 MiB, parsed after it is stored, keeps its decoded copy', async () => {
    const inbox = await makeInbox(server, tenant)
    const big = randomBytes(1_100_000)
    const m = await withAttachments(inbox, [{ filename: 'big.bin', content: big }])
    expect((await attRows(inbox)).map((r) => r.stored)).toEqual([true])
    const got = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/attachments/${m.attachments[0].id}`)
    expect(got.bytes.equals(big)).toBe(true)
  })
})

describe('threads', () => {
  const mail = (id: string, subject: string, extra = '') =>
    `From: a@example.com\r\nTo: x@agents.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.com>\r\n${extra}\r\nbody of ${id}\r\n`

  it('groups a conversation by Message-ID, In-Reply-To and References; an unrelated message starts its own', async () => {
    const inbox = await makeInbox(server, tenant)
    await deliver(inbox, mail('t1', 'Plan'))
    await deliver(inbox, mail('t2', 'Re: Plan', 'In-Reply-To: <t1@example.com>\r\nReferences: <t1@example.com>\r\n'))
    // Only References, naming an older message first.
    await deliver(inbox, mail('t3', 'Re: Re: Plan', 'References: <t1@example.com> <t2@example.com>\r\n'))
    // Only In-Reply-To.
    await deliver(inbox, mail('t4', 'RE: Plan', 'In-Reply-To: <t3@example.com>\r\n'))
    await deliver(inbox, mail('other', 'Something else'))
    const list = await messagesOf(inbox)
    const byId = Object.fromEntries(list.map((x) => [x.messageId, x]))
    const thread = byId['<t1@example.com>'].threadId
    for (const id of ['t2', 't3', 't4']) expect(byId[`<${id}@example.com>`].threadId, id).toBe(thread)
    expect(byId['<other@example.com>'].threadId).not.toBe(thread)
    const threads = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/threads`)
    expect(threads.map((t) => [t.subject, t.messageCount])).toEqual([
      ['Something else', 1],
      ['Plan', 4],
    ])
    const one = await inbox.api.get(`/v1/inboxes/${inbox.id}/threads/${thread}`)
    expect(one.status).toBe(200)
    expect(one.body.messages.map((x: { messageId: string }) => x.messageId)).toEqual(['t1', 't2', 't3', 't4'].map((i) => `<${i}@example.com>`))
    const filtered = await messagesOf(inbox, `?threadId=${thread}`)
    expect(filtered).toHaveLength(4)
  })

  it('puts a reply that arrived before its original in the same thread (by References or by In-Reply-To alone)', async () => {
    const inbox = await makeInbox(server, tenant)
    await deliver(inbox, mail('late-reply', 'Re: Early', 'In-Reply-To: <early@example.com>\r\nReferences: <early@example.com>\r\n'))
    await deliver(inbox, mail('early', 'Early'))
    await deliver(inbox, mail('late-reply-2', 'Re: Second', 'In-Reply-To: <second@example.com>\r\n'))
    await deliver(inbox, mail('second', 'Second'))
    const byId = Object.fromEntries((await messagesOf(inbox)).map((x) => [x.messageId, x]))
    expect(byId['<early@example.com>'].threadId).toBe(byId['<late-reply@example.com>'].threadId)
    expect(byId['<second@example.com>'].threadId).toBe(byId['<late-reply-2@example.com>'].threadId)
    expect(byId['<second@example.com>'].threadId).not.toBe(byId['<early@example.com>'].threadId)
    const threads = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/threads`)
    expect(threads.map((t) => t.messageCount).sort()).toEqual([2, 2])
  })

  it('a reply over 1 MiB, parsed after it is stored, is found by its original arriving later (References alone)', async () => {
    const inbox = await makeInbox(server, tenant)
    const padding = `${'x'.repeat(998)}\r\n`.repeat(1100)
    await deliver(inbox, mail('big-reply', 'Re: Big', `References: <big-original@example.com>\r\n`).replace('body of big-reply', padding))
    await deliver(inbox, mail('big-original', 'Big'))
    const byId = Object.fromEntries((await messagesOf(inbox)).map((x) => [x.messageId, x]))
    expect(byId['<big-reply@example.com>'].size).toBeGreaterThan(1024 * 1024)
    expect(byId['<big-original@example.com>'].threadId).toBe(byId['<big-reply@example.com>'].threadId)
  })

  it("keeps each message's references in its own tenant and inbox, and drops them with the message", async () => {
    const other = await makeTenant(server, 'parsing-refs-other')
    const [a, b] = [await makeInbox(server, tenant), await makeInbox(server, tenant)]
    const c = await makeInbox(server, other)
    for (const box of [a, b, c]) await deliver(box, mail(`ref-${box.id}`, 'Re: Shared', 'In-Reply-To: <shared-root@example.com>\r\n'))
    const refsSeen = (t: TenantFixture, inbox?: InboxFixture) =>
      withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', t.id)!, inboxId: inbox && fromPublicId('inbox', inbox.id)! }, (tx) =>
        rawRows<{ inbox_id: string; ref: string }>(tx, sql`select inbox_id, ref from message_refs where ref = '<shared-root@example.com>' order by inbox_id`),
      )
    const ids = (...boxes: InboxFixture[]) => boxes.map((x) => fromPublicId('inbox', x.id)!).sort()
    expect((await refsSeen(tenant)).map((r) => r.inbox_id)).toEqual(ids(a, b))
    expect((await refsSeen(tenant, a)).map((r) => r.inbox_id)).toEqual(ids(a))
    expect((await refsSeen(other)).map((r) => r.inbox_id)).toEqual(ids(c))
    // The original, arriving in each inbox, joins that inbox's reply only.
    for (const box of [a, c]) await deliver(box, mail('shared-root', 'Shared'))
    for (const box of [a, c]) expect(new Set((await messagesOf(box)).map((x) => x.threadId)).size).toBe(1)
    const [reply] = (await messagesOf(b)).filter((x) => x.messageId === `<ref-${b.id}@example.com>`)
    expect((await b.api.delete(`/v1/inboxes/${b.id}/messages/${reply.id}`)).status).toBe(204)
    expect((await refsSeen(tenant)).map((r) => r.inbox_id)).toEqual(ids(a))
    // A message listing thousands of references costs In-Reply-To and the last 50 of them.
    const many = Array.from({ length: 3000 }, (_, i) => `<many-${i}@example.com>`)
    await deliver(b, mail('many-refs', 'Re: many', `In-Reply-To: <parent@example.com>\r\nReferences: ${many.join('\r\n ')}\r\n`))
    const [stored] = (await messagesOf(b)).filter((x) => x.messageId === '<many-refs@example.com>')
    expect(stored.parseStatus).toBe('parsed')
    const refRows = await withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenant.id)! }, (tx) =>
      rawRows<{ ref: string }>(tx, sql`select ref from message_refs where message_id = ${fromPublicId('message', stored.id)!} order by ref`),
    )
    expect(refRows.map((r) => r.ref).sort()).toEqual(['<parent@example.com>', ...many.slice(-50)].sort())
  })

  it('threads per inbox: the same conversation in two inboxes is two threads', async () => {
    const a = await makeInbox(server, tenant)
    const b = await makeInbox(server, tenant)
    await deliver(a, mail('shared-1', 'Shared'), [a.address, b.address])
    await deliver(a, mail('shared-2', 'Re: Shared', 'References: <shared-1@example.com>\r\n'), [a.address, b.address])
    const ta = new Set((await messagesOf(a)).map((x) => x.threadId))
    const tb = new Set((await messagesOf(b)).map((x) => x.threadId))
    expect(ta.size).toBe(1)
    expect(tb.size).toBe(1)
    expect([...ta][0]).not.toBe([...tb][0])
  })
})

describe('listing', () => {
  let inbox: InboxFixture
  let all: any[]

  beforeAll(async () => {
    inbox = await makeInbox(server, tenant)
    const sends: [string, string, boolean, string?][] = [
      ['alice@example.com', 'alpha report', false],
      ['bob@example.com', 'beta', true, 'cc-person@example.org'],
      ['Alice@Example.com', 'Gamma REPORT', false],
      ['carol@example.com', 'delta', true],
      ['alice@example.com', 'epsilon', false],
    ]
    for (const [from, subject, withAttachment, cc] of sends) {
      await sendMail(server, {
        from,
        to: inbox.address,
        ...(cc ? { cc } : {}),
        subject,
        text: `about ${subject}`,
        ...(withAttachment ? { attachments: [{ filename: 'a.txt', content: 'A' }] } : {}),
        envelope: { from, to: [inbox.address] },
      })
    }
    await settled(server)
    all = await messagesOf(inbox)
  })

  it('lists newest first', () => {
    expect(all.map((x) => x.subject)).toEqual(['epsilon', 'delta', 'Gamma REPORT', 'beta', 'alpha report'])
  })

  it('filters by from, to, subject, attachments, direction', async () => {
    const subjects = async (q: string) => (await messagesOf(inbox, q)).map((x) => x.subject)
    expect(await subjects('?from=ALICE@example.com')).toEqual(['epsilon', 'Gamma REPORT', 'alpha report'])
    expect(await subjects('?to=cc-person@example.org')).toEqual(['beta'])
    expect(await subjects(`?to=${encodeURIComponent(inbox.address.toUpperCase())}`)).toHaveLength(5)
    expect(await subjects('?subject=rePort')).toEqual(['Gamma REPORT', 'alpha report'])
    expect(await subjects('?hasAttachments=true')).toEqual(['delta', 'beta'])
    expect(await subjects('?hasAttachments=false')).toEqual(['epsilon', 'Gamma REPORT', 'alpha report'])
    expect(await subjects('?direction=inbound')).toHaveLength(5)
    expect(await subjects('?direction=outbound')).toEqual([])
    expect(await subjects('?from=nobody@example.com')).toEqual([])
  })

  it('filters by since and until, both inclusive of the receivedAt the API shows', async () => {
    const mid = all[2] // 'Gamma REPORT'
    const since = await messagesOf(inbox, `?since=${encodeURIComponent(mid.receivedAt)}`)
    expect(since.map((x) => x.subject)).toEqual(['epsilon', 'delta', 'Gamma REPORT'])
    const until = await messagesOf(inbox, `?until=${encodeURIComponent(mid.receivedAt)}`)
    expect(until.map((x) => x.subject)).toEqual(['Gamma REPORT', 'beta', 'alpha report'])
    const both = await messagesOf(inbox, `?since=${encodeURIComponent(mid.receivedAt)}&until=${encodeURIComponent(mid.receivedAt)}`)
    expect(both.map((x) => x.subject)).toEqual(['Gamma REPORT'])
  })

  it('scans at most maxScan rows per request for the filters no index serves (to, subject): short pages carry a cursor, every match comes once, in order', async () => {
    const tenantId = fromPublicId('tenant', tenant.id)!
    const inboxId = fromPublicId('inbox', inbox.id)!
    const idsOf = (xs: any[]) => xs.map((x) => fromPublicId('message', x.id)!)
    for (const [filters, expected] of [
      [{ to: 'CC-person@example.org' }, idsOf(all.filter((x) => x.subject === 'beta'))],
      [{ subject: 'report' }, idsOf(all.filter((x) => /report/i.test(x.subject)))],
      [{ subject: 'a', to: inbox.address, from: 'alice@example.com' }, idsOf(all.filter((x) => /a/i.test(x.subject) && x.from.address === 'alice@example.com'))],
    ] as const) {
      const seen: string[] = []
      let after: CursorPosition | null = null
      let requests = 0
      let short = 0
      for (;;) {
        const page = await withTenant(server.running.deps.database, { tenantId }, async (tx) =>
          listMessages(tx, await server.running.deps.crypto.cipher(tx, tenantId), inboxId, filters, 2, after, { maxScan: 2 }),
        )
        requests++
        expect(page.rows.length).toBeLessThanOrEqual(2)
        if (page.rows.length < 2 && page.nextCursor) short++
        seen.push(...page.rows.map((r) => r.id))
        if (!page.nextCursor || requests > 10) break
        after = decodeCursor(page.nextCursor)
      }
      expect(seen, JSON.stringify(filters)).toEqual(expected)
      // Two rows scanned per request: the scan is cut short and continued by cursor.
      expect(requests, JSON.stringify(filters)).toBeGreaterThanOrEqual(2)
      expect(short, JSON.stringify(filters)).toBeGreaterThan(0)
    }
  })

  it('pages with limit and after, with and without filters, ending with a null cursor', async () => {
    for (const [query, expected] of [
      ['', all.map((x) => x.id)],
      ['?from=alice@example.com', all.filter((x) => x.from.address === 'alice@example.com').map((x) => x.id)],
      ['?subject=a', all.filter((x) => /a/i.test(x.subject)).map((x) => x.id)],
    ] as const) {
      for (const limit of [1, 2, 3]) {
        const seen: string[] = []
        let after: string | null = null
        let pages = 0
        do {
          const sep = query ? '&' : '?'
          const res: { status: number; body: any } = await inbox.api.get(
            `/v1/inboxes/${inbox.id}/messages${query}${sep}limit=${limit}${after ? `&after=${after}` : ''}`,
          )
          expect(res.status).toBe(200)
          expect(res.body.data.length).toBeLessThanOrEqual(limit)
          seen.push(...res.body.data.map((x: { id: string }) => x.id))
          after = res.body.nextCursor
          pages++
        } while (after && pages < 20)
        expect(seen, `${query} limit=${limit}`).toEqual(expected)
      }
    }
    expect((await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?after=not-a-cursor`)).status).toBe(400)
  })
})

describe('deleting', () => {
  const rawCount = (inbox: InboxFixture, size: number) =>
    withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenant.id)! }, async (tx) => {
      const [row] = await rawRows<{ n: number }>(tx, sql`select count(*)::int as n from raw_messages where size = ${size}`)
      return row!.n
    })

  it('removes the message and its attachments; the raw stays while another copy uses it and goes with the last', async () => {
    const a = await makeInbox(server, tenant)
    const b = await makeInbox(server, tenant)
    const raw = await compose({
      from: 'del@example.com',
      to: [a.address, b.address],
      subject: `delete me ${randomBytes(4).toString('hex')}`,
      text: 'x',
      attachments: [{ filename: 'keep.txt', content: 'attachment body' }],
    })
    await deliver(a, raw, [a.address, b.address])
    const [ma] = await messagesOf(a)
    const [mb] = await messagesOf(b)
    expect(await rawCount(a, raw.length)).toBe(1)
    const att = ma.attachments[0].id

    // The copy in A goes, by A's inbox key; B's copy and the raw stay.
    expect((await a.api.delete(`/v1/inboxes/${a.id}/messages/${ma.id}`)).status).toBe(204)
    expect((await a.api.get(`/v1/inboxes/${a.id}/messages/${ma.id}`)).status).toBe(404)
    expect((await fetchBytes(server, a.key, `/v1/inboxes/${a.id}/messages/${ma.id}/raw`)).status).toBe(404)
    expect((await fetchBytes(server, a.key, `/v1/inboxes/${a.id}/messages/${ma.id}/attachments/${att}`)).status).toBe(404)
    expect(await messagesOf(a)).toEqual([])
    expect(await listAll(a.api, `/v1/inboxes/${a.id}/threads`)).toEqual([])
    expect((await a.api.delete(`/v1/inboxes/${a.id}/messages/${ma.id}`)).status).toBe(404)
    expect((await fetchBytes(server, b.key, `/v1/inboxes/${b.id}/messages/${mb.id}/raw`)).bytes.equals(raw)).toBe(true)
    expect(await rawCount(a, raw.length)).toBe(1)

    // The last copy goes, by B's inbox key: so does the raw.
    expect((await b.api.delete(`/v1/inboxes/${b.id}/messages/${mb.id}`)).status).toBe(204)
    expect(await rawCount(b, raw.length)).toBe(0)
  })

  it('removes the raw with the last copy when a tenant key deletes it too', async () => {
    const a = await makeInbox(server, tenant)
    const raw = Buffer.from(`From: x@example.com\r\nSubject: tenant delete ${randomBytes(6).toString('hex')}\r\n\r\nbye\r\n`)
    await deliver(a, raw)
    const [m] = await messagesOf(a)
    expect(await rawCount(a, raw.length)).toBe(1)
    expect((await tenant.api.delete(`/v1/inboxes/${a.id}/messages/${m.id}`)).status).toBe(204)
    expect(await rawCount(a, raw.length)).toBe(0)
  })
})

describe('hostile header content', () => {
  it('stores messages whose addresses, ids or file names carry NUL characters or absurd lengths, instead of leaving them pending', async () => {
    const inbox = await makeInbox(server, tenant)
    const to = inbox.address
    const longId = randomBytes(2500).toString('hex')
    // 963 characters (within a header line) but 2,863 bytes, incompressible: more than an index entry holds.
    const wideId = `<${String.fromCodePoint(...[...randomBytes(950)].map((b, i) => 0x4e00 + b * 64 + (i % 64)))}@example.com>`
    const raws = [
      `From: "=?utf-8?Q?Nul=00Name?=" <nul@example.com>\r\nTo: ${to}\r\nSubject: nul in name\r\n\r\nhi\r\n`,
      `From: a@example.com\r\nTo: ${to}\r\nSubject: nul in id\r\nMessage-ID: <a\u0000b@example.com>\r\nReferences: <r\u0000@example.com>\r\n\r\nhi\r\n`,
      `From: a@example.com\r\nTo: ${to}\r\nSubject: long id\r\nMessage-ID: <${longId}@example.com>\r\n\r\nhi\r\n`,
      `From: a@example.com\r\nTo: ${to}\r\nSubject: wide id\r\nMessage-ID: ${wideId}\r\nIn-Reply-To: ${wideId}\r\nReferences: <ok@example.com> ${wideId}\r\n\r\nhi\r\n`,
      `From: a@example.com\r\nTo: ${to}\r\nSubject: nul in filename\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n` +
        `Content-Type: application/octet-stream; name="=?utf-8?Q?a=00b.bin?="\r\nContent-Disposition: attachment; filename="=?utf-8?Q?a=00b.bin?="\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n`,
    ]
    for (const r of raws) await deliver(inbox, r)
    const list = await messagesOf(inbox)
    expect(list.map((x) => [x.subject, x.parseStatus]).sort()).toEqual([
      ['long id', 'parsed'],
      ['nul in filename', 'parsed'],
      ['nul in id', 'parsed'],
      ['nul in name', 'parsed'],
      ['wide id', 'parsed'],
    ])
    const byName = Object.fromEntries(list.map((x) => [x.subject, x]))
    expect(byName['nul in name'].from).toEqual({ address: 'nul@example.com', name: 'Nul\uFFFDName' })
    expect(byName['nul in filename'].attachments[0]).toMatchObject({ filename: 'a\uFFFDb.bin', size: 3 })
    expect(byName['long id'].messageId).toBeNull()
    const wide = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${byName['wide id'].id}`)).body
    expect(wide).toMatchObject({ messageId: null, inReplyTo: null, references: ['<ok@example.com>'] })
  })
})
