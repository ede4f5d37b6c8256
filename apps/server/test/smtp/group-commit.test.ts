// The group commit of ingest: messages accepted at the same time share one transaction per tenant,
// and still each get exactly their own arrival number, event, thread, usage count and quota
// decision; one message the database refuses costs only its own sender a failure.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { Ingest, QuotaError, type Recipient } from '../../src/messages/ingest/index.js'
import { withTenant } from '../../src/db/scope.js'
import { silentLogger } from '../../src/lib/log.js'
import { onCitus } from '@mailroom/testkit/db'
import { createParser, type MailParser } from '../../src/messages/parser.js'
import { makeChild, makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, settled } from '@mailroom/testkit/mail'

let server: TestServer
let real: MailParser

/** Parses held here until the gate opens: messages then reach the commit together. */
let gate: { waiting: number; open: Promise<void>; release: () => void } | null = null

function closeGate() {
  let release = () => {}
  const open = new Promise<void>((r) => (release = r))
  gate = { waiting: 0, open, release }
  return gate
}

/** The real parser, except that a message with `X-Test-Break: nul` gets content Postgres refuses. */
function breakableParser(): MailParser {
  return {
    async parse(raw) {
      const parsed = await real.parse(raw)
      if (gate) {
        gate.waiting++
        await gate.open
      }
      if (/^X-Test-Break: nul/m.test(raw.toString('latin1'))) return { ...parsed, from: { address: 'nul@example.com', name: 'bad\u0000name' } }
      return parsed
    },
    close: async () => {},
  }
}

beforeAll(async () => {
  real = createParser({ threads: 2 })
  server = await startTestServer({ parser: breakableParser() })
})
afterAll(async () => {
  await server?.stop()
  await real?.close()
})

const uuid = (kind: 'tenant' | 'inbox', id: string) => fromPublicId(kind, id)!
const recipient = (t: TenantFixture, box: InboxFixture): Recipient => ({ tenantId: uuid('tenant', t.id), inboxId: uuid('inbox', box.id), address: box.address })
const env = { mailFrom: 'sender@example.com', remoteIp: '127.0.0.1', helo: 'client.example' }

function mail(to: string, subject: string, extra = ''): Buffer {
  return Buffer.from(
    `From: Sender <sender@example.com>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replaceAll(' ', '-')}@example.com>\r\n${extra}` +
      `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody of ${subject}\r\n` +
      `--b\r\nContent-Type: application/octet-stream; name=${subject.replaceAll(' ', '-')}.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b--\r\n`,
  )
}

async function ownerRows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return rawRows<T>(server.db.owner.db as never, query)
}

describe('group commit', () => {
  it('messages accepted together share transactions, and each gets its own seq, event, usage count and attachment', async () => {
    const t = await makeTenant(server, 'batch')
    const boxes = [await makeInbox(server, t), await makeInbox(server, t), await makeInbox(server, t)]
    const n = 30
    const g = closeGate()
    const accepted = Promise.all(
      Array.from({ length: n }, (_, i) => server.running.deps.ingest.accept([recipient(t, boxes[i % 3]!)], mail(boxes[i % 3]!.address, `batch ${i}`), env)),
    )
    while (g.waiting < n) await new Promise((r) => setTimeout(r, 10))
    gate = null
    g.release()
    expect((await accepted).flat()).toHaveLength(n)
    // All parsed at once, so committed together: every raw copy was written by one transaction.
    const writers = await ownerRows<{ n: number }>(sql`select count(distinct xmin::text)::int as n from raw_messages where tenant_id = ${uuid('tenant', t.id)}`)
    expect(writers[0]!.n).toBe(1)
    await settled(server)

    const tenantId = uuid('tenant', t.id)
    for (const [b, box] of boxes.entries()) {
      const list = await listAll(box.api, `/v1/inboxes/${box.id}/messages`)
      expect(list.map((m) => m.subject).sort()).toEqual(
        Array.from({ length: n }, (_, i) => i)
          .filter((i) => i % 3 === b)
          .map((i) => `batch ${i}`)
          .sort(),
      )
      for (const m of list) {
        expect(m.parseStatus).toBe('parsed')
        expect(m.attachments).toHaveLength(1)
      }
      // Arrival numbers 1..10 in this inbox, each once.
      const seqs = await ownerRows<{ seq: string }>(sql`select seq from messages where inbox_id = ${uuid('inbox', box.id)} order by seq`)
      expect(seqs.map((r) => Number(r.seq))).toEqual(Array.from({ length: n / 3 }, (_, i) => i + 1))
    }
    // One message.received event each, ids contiguous.
    const events = await ownerRows<{ seq: string }>(sql`select seq from events where tenant_id = ${tenantId} and type = 'message.received' order by seq`)
    expect(events).toHaveLength(n)
    const first = Number(events[0]!.seq)
    expect(events.map((e) => Number(e.seq))).toEqual(Array.from({ length: n }, (_, i) => first + i))
    // Usage: exactly n received for the tenant and n/3 per inbox; the stored bytes add up.
    const usage = await ownerRows<{ inbox_id: string; messages_received: number; bytes_stored: string }>(
      sql`select inbox_id, messages_received, bytes_stored from usage_daily where tenant_id = ${tenantId}`,
    )
    const byInbox = new Map(usage.map((u) => [u.inbox_id, u]))
    expect(byInbox.get('00000000-0000-0000-0000-000000000000')?.messages_received).toBe(n)
    for (const box of boxes) expect(byInbox.get(uuid('inbox', box.id))?.messages_received).toBe(n / 3)
    const [stored] = await ownerRows<{ bytes: string }>(sql`select sum(size)::text as bytes from raw_messages where tenant_id = ${tenantId}`)
    expect(byInbox.get('00000000-0000-0000-0000-000000000000')?.bytes_stored.toString()).toBe(stored!.bytes)
  })

  it('a conversation accepted all at once, replies first, lands in one thread', async () => {
    const t = await makeTenant(server, 'threads')
    const box = await makeInbox(server, t)
    // Message-IDs <conv-0@example.com> ... <conv-5@example.com>, each replying to the one before.
    const raws = Array.from({ length: 6 }, (_, i) => {
      const refs = Array.from({ length: i }, (_, j) => `<conv-${j}@example.com>`).join(' ')
      return mail(box.address, `conv ${i}`, i ? `In-Reply-To: <conv-${i - 1}@example.com>\r\nReferences: ${refs}\r\n` : '')
    })
    await Promise.all([...raws].reverse().map((raw) => server.running.deps.ingest.accept([recipient(t, box)], raw, env)))
    await settled(server)
    const list = await listAll(box.api, `/v1/inboxes/${box.id}/messages`)
    expect(list).toHaveLength(6)
    expect(new Set(list.map((m) => m.threadId)).size).toBe(1)
    const thread = await box.api.get(`/v1/inboxes/${box.id}/threads/${list[0].threadId}`)
    expect(thread.status).toBe(200)
    expect(thread.body.messageCount).toBe(6)
  })

  it('a message whose content the database refuses fails alone: the others in its batch are stored parsed', async () => {
    const t = await makeTenant(server, 'refused')
    const box = await makeInbox(server, t)
    const raws = Array.from({ length: 12 }, (_, i) => mail(box.address, `mixed ${i}`, i === 5 ? 'X-Test-Break: nul\r\n' : ''))
    const results = await Promise.allSettled(raws.map((raw) => server.running.deps.ingest.accept([recipient(t, box)], raw, env)))
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    await settled(server)
    const list = await listAll(box.api, `/v1/inboxes/${box.id}/messages`)
    expect(list).toHaveLength(12)
    const failed = list.filter((m) => m.parseStatus === 'failed')
    expect(failed).toHaveLength(1)
    expect(failed[0].size).toBe(raws[5]!.length)
    expect(list.filter((m) => m.parseStatus === 'parsed')).toHaveLength(11)
  })

  it('a daily quota holds exactly when many messages arrive at once', async () => {
    const parent = await makeTenant(server, 'quota-parent')
    const child = await makeChild(parent, server)
    const box = await makeInbox(server, child)
    expect((await parent.api.patch(`/v1/tenants/${child.id}`, { limits: { maxMessagesPerDay: 4 } })).status).toBe(200)
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => server.running.deps.ingest.accept([recipient(child, box)], mail(box.address, `quota ${i}`), env)),
    )
    const ok = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(ok).toHaveLength(4)
    expect(refused).toHaveLength(6)
    for (const r of refused) expect(r.reason).toBeInstanceOf(QuotaError)
    await settled(server)
    expect(await listAll(box.api, `/v1/inboxes/${box.id}/messages`)).toHaveLength(4)
    const [usage] = await ownerRows<{ messages_received: number }>(
      sql`select messages_received from usage_daily where tenant_id = ${uuid('tenant', child.id)} and inbox_id = '00000000-0000-0000-0000-000000000000'`,
    )
    expect(usage!.messages_received).toBe(4)
  })

  it("runs a batch's statements on their cached plans (not planned again per batch), and only inside the batch's transaction", async () => {
    const t = await makeTenant(server, 'plans')
    const box = await makeInbox(server, t)
    const database = server.running.deps.database
    // Inside the transaction that commits the message (onParsed runs there), and in later ones.
    const during: string[] = []
    const ingest = new Ingest({
      database,
      crypto: server.running.deps.crypto,
      parser: real,
      log: silentLogger,
      resolver: null,
      onParsed: async (tx) => {
        during.push((await rawRows<{ m: string }>(tx, sql`select current_setting('plan_cache_mode') as m`))[0]!.m)
      },
    })
    await ingest.accept([recipient(t, box)], mail(box.address, 'plans one'), env)
    await ingest.stop()
    // Citus plans a distributed statement once it knows the shard: no generic plan is forced there,
    // and every statement is planned with its values (the database's setting: db/migrate.ts).
    const outside = onCitus ? 'force_custom_plan' : 'auto'
    expect(during).toEqual([onCitus ? outside : 'force_generic_plan'])
    const after = await Promise.all(
      Array.from({ length: 4 }, () => withTenant(database, { tenantId: uuid('tenant', t.id) }, async (tx) => (await rawRows<{ m: string }>(tx, sql`select current_setting('plan_cache_mode') as m`))[0]!.m)),
    )
    expect(after).toEqual([outside, outside, outside, outside])
  })
})
