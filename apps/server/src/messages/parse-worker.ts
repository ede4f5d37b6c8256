// Worker thread: parses one raw message with mailparser, and reads its content for the inbound-
// safety verdict (phase one of the scorer, with its own time budget). Bundled to plain JavaScript
// before a thread loads it (worker-file.ts): no TypeScript loader runs in the threads.
import { simpleParser, type AddressObject, type HeaderLines } from 'mailparser'
import { scoreContent } from '../safety/score.js'
import type { ParsedMessage } from './parser.js'

/** How long the safety scorer may read one message (ms of this thread's time). */
const SCORE_BUDGET_MS = 250

// These fields are stored in clear text/jsonb columns, where Postgres refuses U+0000 (a sender can
// put one in with an encoded word): the message would never get stored. Encrypted fields keep it.
const clean = <T,>(s: T): T => (typeof s === 'string' ? (s.replaceAll('\u0000', '\uFFFD') as T) : s)

interface AddressNode {
  address?: string
  name?: string
  group?: AddressNode[]
}

const flat = (a: AddressObject | AddressObject[] | undefined): { address: string; name: string | null }[] => {
  if (!a) return []
  const list = Array.isArray(a) ? a : [a]
  const out: { address: string; name: string | null }[] = []
  const walk = (v: AddressNode[]) => {
    for (const x of v) {
      if (x.group) walk(x.group)
      else if (x.address) out.push({ address: clean(String(x.address).toLowerCase()), name: x.name ? clean(String(x.name)) : null })
    }
  }
  for (const obj of list) walk((obj.value ?? []) as AddressNode[])
  return out
}

const idsOf = (v: string | string[] | undefined): string[] => {
  if (!v) return []
  const s = Array.isArray(v) ? v.join(' ') : String(v)
  // Longer than a header line may be (RFC 5322: 998 octets) is no real id, and too long for the id
  // indexes (a btree entry holds at most about 2,700 bytes; UTF-8 ids count their bytes).
  return (s.match(/<[^<>\s]+>/g) ?? []).filter((id) => Buffer.byteLength(id) <= 998).map(clean)
}

// mailparser puts the parse time in `date` when the header is missing or unparseable; the API
// promises the Date header itself, so read it from the header line.
const dateOf = (headers: { name: string; value: string }[]): string | null => {
  const h = headers.find((x) => x.name.toLowerCase() === 'date')
  if (!h || !h.value) return null
  const d = new Date(h.value)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

// Warm-up, before the first task: a small message through the whole parser, so that V8 has seen
// every branch of mailsplit's line loop before it optimizes that loop mid-run (on-stack
// replacement). Without it the optimized loop lacks feedback for a call it reaches at the end of
// every message and bails out there on every message, for as long as the thread lives.
const WARM_UP = Buffer.from(
  'From: a@example.com\r\nTo: b@example.com\r\nSubject: warm-up\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n',
)
for (let i = 0; i < 3; i++) await simpleParser(WARM_UP, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true })

// The task: the raw bytes, or { raw, content: false } to leave attachment bytes out of the answer
// (and score: false to skip the safety scorer: a re-parse to decode attachments needs no verdict).
export default async function parse(task: Uint8Array | { raw: Uint8Array; content?: boolean; score?: boolean }): Promise<ParsedMessage> {
  const raw = task instanceof Uint8Array ? task : task.raw
  const withContent = task instanceof Uint8Array || task.content !== false
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const p = await simpleParser(buf, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true })
  const headers = ((p.headerLines ?? []) as HeaderLines).map((h) => {
    const i = h.line.indexOf(':')
    return { name: i > 0 ? h.line.slice(0, i).trim() : h.key, value: (i > 0 ? h.line.slice(i + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim() }
  })
  const date = dateOf(headers)
  const from = flat(p.from)[0] ?? null
  const parsed: ParsedMessage = {
    headers,
    subject: typeof p.subject === 'string' ? p.subject : null,
    from,
    to: flat(p.to),
    cc: flat(p.cc),
    replyTo: flat(p.replyTo),
    date,
    text: typeof p.text === 'string' ? p.text : null,
    html: typeof p.html === 'string' ? p.html : null,
    messageId: idsOf(p.messageId)[0] ?? null,
    inReplyTo: idsOf(p.inReplyTo)[0] ?? null,
    references: idsOf(p.references),
    attachments: (p.attachments ?? []).map((a) => ({
      filename: clean(a.filename) ?? null,
      contentType: clean(a.contentType) || 'application/octet-stream',
      size: a.size ?? a.content?.length ?? 0,
      contentId: clean(a.contentId) ?? null,
      inline: a.contentDisposition === 'inline' || a.related === true,
      checksum: a.checksum ?? '',
      ...(withContent ? { content: new Uint8Array(a.content ?? []) } : {}),
    })),
  }
  if (task instanceof Uint8Array || task.score !== false) parsed.safety = scoreContent(parsed, { deadline: performance.now() + SCORE_BUDGET_MS })
  return parsed
}
