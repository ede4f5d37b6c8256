// A message that cannot be parsed is still kept raw, listed and flagged: with a parser that throws,
// with parsed content the database refuses (it must not stay pending for ever), and with a parse
// that runs out of time.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRows } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { createParser, type MailParser } from '../../src/messages/parser.js'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { fetchBytes, listAll, sendRaw, settled } from '@mailroom/testkit/mail'

let server: TestServer
let real: MailParser
let tenant: TenantFixture
let inbox: InboxFixture

/** The real parser, except for messages carrying an `X-Test-Break` header. */
function breakableParser(): MailParser {
  return {
    async parse(raw) {
      const mode = /^X-Test-Break: (\w+)/m.exec(raw.toString('latin1'))?.[1]
      if (mode === 'throw') throw new Error('parser exploded on purpose')
      const parsed = await real.parse(raw)
      // Content Postgres cannot hold in a clear column (a NUL), as a parser bug might produce.
      if (mode === 'nul') return { ...parsed, from: { address: 'nul@example.com', name: 'bad\u0000name' } }
      return parsed
    },
    close: async () => {},
  }
}

beforeAll(async () => {
  real = createParser({ threads: 1 })
  server = await startTestServer({ parser: breakableParser() })
  tenant = await makeTenant(server, 'unparseable')
  inbox = await makeInbox(server, tenant)
})
afterAll(async () => {
  await server?.stop()
  await real?.close()
})

const message = (subject: string, mode?: string) =>
  Buffer.from(`From: a@example.com\r\nTo: ${inbox.address}\r\nSubject: ${subject}\r\n${mode ? `X-Test-Break: ${mode}\r\n` : ''}\r\nbody of ${subject}\r\n`)

async function ingestJobs(): Promise<number> {
  return withTenant(server.running.deps.database, { tenantId: fromPublicId('tenant', tenant.id)! }, async (tx) => {
    const [row] = await rawRows<{ n: number }>(tx, sql`select count(*)::int as n from jobs where kind = 'ingest'`)
    return row!.n
  })
}

describe('messages that cannot be parsed', () => {
  it('are kept raw, listed and flagged failed with the reason when the parser throws', async () => {
    const raw = message('will not parse', 'throw')
    await sendRaw(server, { from: 'a@example.com', to: [inbox.address] }, raw)
    await settled(server)
    const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
    const summary = list.find((m) => m.size === raw.length)
    expect(summary).toMatchObject({ parseStatus: 'failed', subject: null, threadId: null, attachments: [] })
    const m = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${summary.id}`)).body
    expect(m).toMatchObject({ parseStatus: 'failed', parseError: 'parser exploded on purpose', text: null, headers: [] })
    const stored = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/raw`)
    expect(stored.bytes.equals(raw)).toBe(true)
    expect(await ingestJobs()).toBe(0)
  })

  it('are kept raw and flagged, not left pending for ever, when the database refuses the parsed content', async () => {
    const raw = message('refused content', 'nul')
    await sendRaw(server, { from: 'a@example.com', to: [inbox.address] }, raw)
    await settled(server)
    const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
    const summary = list.find((m) => m.size === raw.length)
    expect(summary.parseStatus).toBe('failed')
    const m = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages/${summary.id}`)).body
    expect(m.parseError).toMatch(/^parsed content could not be stored/)
    expect((await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${m.id}/raw`)).bytes.equals(raw)).toBe(true)
    expect(await ingestJobs()).toBe(0)
  })

  it('do not disturb the messages around them', async () => {
    await sendRaw(server, { from: 'a@example.com', to: [inbox.address] }, message('fine after failures'))
    await settled(server)
    const [m] = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=fine`)
    expect(m).toMatchObject({ subject: 'fine after failures', parseStatus: 'parsed' })
  })

  it('time out in the parser pool instead of holding a worker', async () => {
    const slow = createParser({ threads: 1, timeoutMs: 1 })
    try {
      const parts = Array.from({ length: 3000 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('')
      const big = Buffer.from(`Subject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`)
      await expect(slow.parse(big)).rejects.toThrow(/parsing took longer than 1 ms/)
    } finally {
      await slow.close()
    }
  })
})
