// The mail the receiving benchmarks send: a deterministic, realistic mix of ~15 KB messages, each
// with an attachment, built once as raw bytes so every server under test gets the same bytes.
import nodemailer from 'nodemailer'
import MailComposer from 'nodemailer/lib/mail-composer'

/** mulberry32: a tiny seeded PRNG, so two runs send byte-identical messages. */
function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS =
  'the order invoice shipping account please confirm your meeting tomorrow report attached thanks regards update project status review team schedule payment received quarterly results customer support ticket verification code password reset welcome onboarding agent inbox reply forward draft summary'.split(
    ' ',
  )

function prose(r: () => number, bytes: number): string {
  const out: string[] = []
  let len = 0
  let sentence = 0
  while (len < bytes) {
    let w = WORDS[Math.floor(r() * WORDS.length)]!
    if (sentence === 0) w = w[0]!.toUpperCase() + w.slice(1)
    sentence++
    const end = sentence > 6 + Math.floor(r() * 10)
    if (end) sentence = 0
    const piece = w + (end ? (r() < 0.2 ? '.\n\n' : '. ') : ' ')
    out.push(piece)
    len += piece.length
  }
  return out.join('')
}

function bytesOf(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

const between = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))

export interface BenchMessage {
  raw: Buffer
  kind: string
  subject: string
}

/**
 * `n` raw messages (RFC 5322, built by nodemailer's MailComposer). The mix, by share:
 * - 50% invoice: text + HTML alternative, a binary PDF-like attachment of 7-10 KB (base64 on the wire)
 * - 25% report: text + HTML, a CSV attachment of 6.5-10 KB
 * - 15% reply in a thread (In-Reply-To / References), text + an inline PNG-like image of 5.5-8.5 KB
 * - 10% plain text with a JSON attachment of about 8-12 KB
 * Averages about 15 KB on the wire.
 */
export async function buildMessages(n: number, opts: { to: string; seed?: number } = { to: 'agent@agents.test' }): Promise<BenchMessage[]> {
  const r = rng(opts.seed ?? 42)
  const out: BenchMessage[] = []
  for (let i = 0; i < n; i++) {
    const pick = r()
    const from = `sender${i % 97}@example.com`
    const common = {
      from: `"Sender ${i % 97}" <${from}>`,
      to: opts.to,
      date: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 86_400)),
      messageId: `<bench-${i}-${Math.floor(r() * 1e9)}@example.com>`,
      headers: { 'X-Bench-Seq': String(i) },
    }
    let mail: ConstructorParameters<typeof MailComposer>[0]
    let kind: string
    if (pick < 0.5) {
      kind = 'invoice'
      const text = prose(r, between(r, 1200, 2400))
      mail = {
        ...common,
        subject: `Invoice #${100000 + i} for your order`,
        text,
        html: `<html><body><h1>Invoice #${100000 + i}</h1><p>${text.replace(/\n\n/g, '</p><p>')}</p><table><tr><td>Total</td><td>${(r() * 1000).toFixed(2)} EUR</td></tr></table></body></html>`,
        attachments: [{ filename: `invoice-${100000 + i}.pdf`, contentType: 'application/pdf', content: bytesOf(r, between(r, 7000, 10000)) }],
      }
    } else if (pick < 0.75) {
      kind = 'report'
      const text = prose(r, between(r, 1000, 2000))
      const rows = ['date,account,amount,status']
      const target = between(r, 6500, 10000)
      let size = rows[0]!.length
      while (size < target) {
        const row = `2025-01-${String(1 + (rows.length % 28)).padStart(2, '0')},acct-${Math.floor(r() * 1e6)},${(r() * 5000).toFixed(2)},${r() < 0.9 ? 'ok' : 'pending'}`
        rows.push(row)
        size += row.length + 1
      }
      mail = {
        ...common,
        subject: `Weekly report ${i}`,
        text,
        html: `<html><body><p>${text.replace(/\n\n/g, '</p><p>')}</p></body></html>`,
        attachments: [{ filename: `report-${i}.csv`, contentType: 'text/csv', content: rows.join('\n') + '\n' }],
      }
    } else if (pick < 0.9) {
      kind = 'reply'
      const parent = `<bench-${Math.max(0, i - 1 - Math.floor(r() * 20))}-thread@example.com>`
      mail = {
        ...common,
        subject: `Re: Project status ${i % 50}`,
        inReplyTo: parent,
        references: [`<bench-root-${i % 50}@example.com>`, parent],
        text: prose(r, between(r, 2000, 4000)) + '\n\n> ' + prose(r, 600).replace(/\n/g, '\n> '),
        attachments: [{ filename: 'screenshot.png', contentType: 'image/png', cid: `img${i}@bench`, content: bytesOf(r, between(r, 5500, 8500)) }],
      }
    } else {
      kind = 'plain'
      const payload = { id: i, items: Array.from({ length: between(r, 80, 120) }, (_, k) => ({ k, v: prose(r, 60) })) }
      mail = {
        ...common,
        subject: `Data export ${i}`,
        text: prose(r, between(r, 1500, 3000)),
        attachments: [{ filename: `export-${i}.json`, contentType: 'application/json', content: JSON.stringify(payload) }],
      }
    }
    out.push({ raw: await new MailComposer(mail).compile().build(), kind, subject: String(mail.subject) })
  }
  return out
}

/**
 * bench/ingest.ts's two sets, the measured messages and the warm-up's, built alike by the bench and
 * by its client's process (bench/lib/smtp-client-child.ts).
 */
export async function ingestSets(n: number, warmup: number): Promise<{ measured: BenchMessage[]; warm: BenchMessage[] }> {
  const [measured, warm] = await Promise.all([buildMessages(n, { to: 'agent@agents.test' }), warmup ? buildMessages(warmup, { to: 'agent@agents.test', seed: 7 }) : []])
  return { measured, warm }
}

export function describeMix(msgs: BenchMessage[]): string {
  const total = msgs.reduce((a, m) => a + m.raw.length, 0)
  const kinds = new Map<string, number>()
  for (const m of msgs) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1)
  const mix = [...kinds].map(([k, v]) => `${k} ${Math.round((100 * v) / msgs.length)}%`).join(', ')
  return `${msgs.length} messages, avg ${(total / msgs.length / 1024).toFixed(1)} KB (min ${(Math.min(...msgs.map((m) => m.raw.length)) / 1024).toFixed(1)}, max ${(Math.max(...msgs.map((m) => m.raw.length)) / 1024).toFixed(1)}), each with one attachment: ${mix}`
}

/** The one SMTP client of the benchmarks: nodemailer, pooled, plain SMTP on loopback. */
export function smtpClient(port: number, connections: number) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: connections,
    // A fresh connection every 200 messages: the server closes one after 1,000 commands
    // (MAILROOM_SMTP_MAX_COMMANDS), and a message takes four or five.
    maxMessages: 200,
    disableFileAccess: true,
    disableUrlAccess: true,
    name: 'bench.localhost',
  } as never)
}

export type SmtpClient = ReturnType<typeof smtpClient>

/** Sends one raw message to one recipient; resolves when the server's 250 is in. */
export async function sendRaw(client: SmtpClient, raw: Buffer, to: string): Promise<void> {
  await client.sendMail({ envelope: { from: 'bench@example.com', to: [to] }, raw })
}
