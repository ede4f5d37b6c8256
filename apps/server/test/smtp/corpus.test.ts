// Every message of the vendored mail corpus (odd charsets, broken MIME, bad headers, bounces, 8-bit and
// binary parts, bare-LF files) goes through real SMTP and the ingest path: no crash, the raw bytes
// come back exactly, the message is listed, and it is either parsed (showing what mailparser sees)
// or flagged `failed` with the raw kept.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { simpleParser } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { fetchBytes, listAll, sendMail, sendRaw, settled, smtpCanonical } from '@mailroom/testkit/mail'

// The corpus is vendored in the repository (test/fixtures/mail-fixtures, see its README).
const CORPUS = fileURLToPath(new URL('../fixtures/mail-fixtures', import.meta.url))

/** Every file that is a message: all of them but the licence and readme texts. */
function corpusFiles(): string[] {
  if (!existsSync(CORPUS) || !statSync(CORPUS).isDirectory()) {
    throw new Error(`mail corpus not found at ${CORPUS} (apps/server/test/fixtures/mail-fixtures)`)
  }
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (!/^(license|readme)(\.|$)/i.test(name)) out.push(path)
    }
  }
  walk(CORPUS)
  return out
}

interface Fixture {
  name: string
  bytes: Buffer
  /** What SMTP delivers for these bytes (line breaks CRLF, final CRLF). */
  wire: Buffer
  inbox: InboxFixture
}

let server: TestServer
let tenant: TenantFixture
let fixtures: Fixture[]

/** Runs `fn` over `items` with at most `n` in flight. */
async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

beforeAll(async () => {
  const files = corpusFiles()
  server = await startTestServer()
  tenant = await makeTenant(server, 'corpus')
  fixtures = []
  await inParallel(files, 8, async (path) => {
    const bytes = readFileSync(path)
    fixtures.push({ name: relative(CORPUS, path), bytes, wire: smtpCanonical(bytes), inbox: await makeInbox(server, tenant) })
  })
  fixtures.sort((a, b) => (a.name < b.name ? -1 : 1))
  await inParallel(fixtures, 6, async (f) => {
    const info = await sendRaw(server, { from: 'corpus@example.com', to: [f.inbox.address] }, f.bytes)
    if (!/^250 /.test(info.response)) throw new Error(`${f.name}: ${info.response}`)
  })
  await settled(server)
}, 120_000)
afterAll(() => server?.stop())

describe('the mail corpus over SMTP', () => {
  it('finds the corpus: every .eml and the other message files', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(104)
    expect(fixtures.filter((f) => f.name.endsWith('.eml')).length).toBeGreaterThanOrEqual(103)
  })

  it('gives back the raw bytes exactly: identical to the file when it is already in SMTP form, else to its CRLF form', async () => {
    const mismatches: string[] = []
    let identical = 0
    await inParallel(fixtures, 8, async (f) => {
      const [m] = await listAll(f.inbox.api, `/v1/inboxes/${f.inbox.id}/messages`)
      const raw = await fetchBytes(server, f.inbox.key, `/v1/inboxes/${f.inbox.id}/messages/${m.id}/raw`)
      expect(raw.status).toBe(200)
      expect(raw.headers.get('content-type')).toBe('message/rfc822')
      if (!raw.bytes.equals(f.wire)) mismatches.push(`${f.name}: got ${raw.bytes.length} bytes, want ${f.wire.length}`)
      if (raw.bytes.equals(f.bytes)) identical++
      expect(m.size).toBe(f.wire.length)
    })
    expect(mismatches).toEqual([])
    // Files already CRLF-terminated come back identical to the file itself.
    expect(identical).toBe(fixtures.filter((f) => f.bytes.equals(f.wire)).length)
    expect(identical).toBeGreaterThan(80)
  })

  it('lists each message once, parsed or flagged failed, and shows what mailparser finds in it', async () => {
    const problems: string[] = []
    await inParallel(fixtures, 8, async (f) => {
      const list = await listAll(f.inbox.api, `/v1/inboxes/${f.inbox.id}/messages`)
      expect(list, f.name).toHaveLength(1)
      const summary = list[0]
      const res = await f.inbox.api.get(`/v1/inboxes/${f.inbox.id}/messages/${summary.id}`)
      expect(res.status, f.name).toBe(200)
      const m = res.body
      if (m.parseStatus === 'failed') {
        expect(m.parseError, f.name).toEqual(expect.any(String))
        return
      }
      if (m.parseStatus !== 'parsed') {
        problems.push(`${f.name}: parseStatus ${m.parseStatus}`)
        return
      }
      const want = await simpleParser(f.wire, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true })
      const check = (what: string, got: unknown, expected: unknown) => {
        if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`${f.name}: ${what} ${JSON.stringify(got)?.slice(0, 80)} != ${JSON.stringify(expected)?.slice(0, 80)}`)
      }
      check('subject', m.subject, typeof want.subject === 'string' ? want.subject : null)
      check('text', m.text, typeof want.text === 'string' ? want.text : null)
      check('html', m.html, typeof want.html === 'string' ? want.html : null)
      check('headers', m.headers.length, want.headerLines.length)
      check(
        'attachments',
        m.attachments.map((a: { size: number }) => a.size),
        want.attachments.map((a) => a.size ?? a.content.length),
      )
      // The Date header when it parses, else null (never the time of parsing, which mailparser substitutes).
      const dateLine = want.headerLines.find((h) => h.key === 'date')?.line.replace(/^[^:]*:/, '').replace(/\r?\n[ \t]+/g, ' ').trim()
      const wantDate = dateLine ? new Date(dateLine) : null
      check('date', m.date, wantDate && !Number.isNaN(wantDate.getTime()) ? wantDate.toISOString() : null)
      expect(summary.threadId, f.name).toEqual(expect.stringMatching(/^thr_/))
      for (const a of m.attachments) {
        const got = await fetchBytes(server, f.inbox.key, `/v1/inboxes/${f.inbox.id}/messages/${m.id}/attachments/${a.id}`)
        const idx = m.attachments.indexOf(a)
        if (got.status !== 200 || !got.bytes.equals(want.attachments[idx]!.content)) problems.push(`${f.name}: attachment ${idx} content differs`)
      }
    })
    expect(problems.sort()).toEqual([])
  })

  it('stays healthy and keeps taking mail afterwards', async () => {
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200)
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200)
    const inbox = fixtures[0]!.inbox
    await sendMail(server, { to: inbox.address, subject: 'after the corpus', text: 'still here' })
    await settled(server)
    const list = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=after%20the%20corpus`)
    expect(list).toHaveLength(1)
    expect(list[0].parseStatus).toBe('parsed')
  })

  it('stores the file bytes unchanged when they reach ingest directly (bare LF, no final newline included)', async () => {
    // SMTP normalises line endings before the server sees them; the internal delivery path does not,
    // so this shows the store and the raw API never rewrite bytes either.
    const odd = fixtures.filter((f) => !f.bytes.equals(f.wire))
    expect(odd.length).toBeGreaterThan(0)
    const t = await makeTenant(server, 'corpus-direct')
    const inbox = await makeInbox(server, t)
    const api = client(server.baseUrl, inbox.key)
    const ids: string[] = []
    const inboxUuid = inbox.id.slice(4).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')
    const tenantUuid = t.id.slice(4).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')
    for (const f of odd) {
      const [stored] = await server.running.deps.ingest.accept([{ tenantId: tenantUuid, inboxId: inboxUuid, address: inbox.address }], f.bytes, {
        mailFrom: 'corpus@example.com',
        remoteIp: '127.0.0.1',
        helo: 'localhost',
      })
      ids.push('msg_' + stored!.messageIds[0]!.replaceAll('-', ''))
    }
    await settled(server)
    for (const [i, f] of odd.entries()) {
      const raw = await fetchBytes(server, inbox.key, `/v1/inboxes/${inbox.id}/messages/${ids[i]}/raw`)
      expect(raw.bytes.equals(f.bytes), f.name).toBe(true)
      const m = await api.get(`/v1/inboxes/${inbox.id}/messages/${ids[i]}`)
      expect(['parsed', 'failed'], f.name).toContain(m.body.parseStatus)
    }
  })
})
