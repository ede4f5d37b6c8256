// Real SMTP in tests: nodemailer talking to the server's SMTP port on loopback, plus a bare socket
// client for checking the exact replies of the door.
import { connect, type Socket } from 'node:net'
import nodemailer from 'nodemailer'
import type { TestServer } from './server.js'

export interface OutgoingMail {
  from?: string
  to: string | string[]
  cc?: string | string[]
  replyTo?: string | string[]
  subject?: string
  text?: string
  html?: string
  date?: Date
  messageId?: string
  inReplyTo?: string
  references?: string | string[]
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[]
  headers?: Record<string, string>
  envelope?: { from: string; to: string[] }
}

export function smtpTransport(server: TestServer, opts: { pool?: boolean } = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.running.smtpPort,
    secure: false,
    ignoreTLS: true,
    pool: opts.pool ?? false,
    tls: { rejectUnauthorized: false },
  })
}

/** Sends one message over SMTP and resolves with nodemailer's info (after the server's 250). */
export async function sendMail(server: TestServer, mail: OutgoingMail) {
  const transport = smtpTransport(server)
  try {
    return await transport.sendMail({ from: 'sender@example.com', ...mail })
  } finally {
    transport.close()
  }
}

/**
 * Sends raw RFC 5322 bytes without rewriting headers or body. SMTP itself still applies: nodemailer
 * turns bare CR/LF into CRLF, dot-stuffs, and ends the data with CRLF . CRLF (see `smtpCanonical`).
 */
export async function sendRaw(server: TestServer, envelope: { from: string; to: string[] }, raw: Buffer | string) {
  const transport = smtpTransport(server)
  try {
    return await transport.sendMail({ envelope, raw })
  } finally {
    transport.close()
  }
}

/**
 * What any SMTP transfer of `raw` delivers: every line break CRLF, and a final CRLF (DATA ends with
 * CRLF . CRLF, so a message cannot end without one).
 */
export function smtpCanonical(raw: Buffer): Buffer {
  const out: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!
    if (b === 0x0d) {
      out.push(0x0d, 0x0a)
      if (raw[i + 1] === 0x0a) i++
    } else if (b === 0x0a) out.push(0x0d, 0x0a)
    else out.push(b)
  }
  const buf = Buffer.from(out)
  return buf.length >= 2 && buf[buf.length - 2] === 0x0d && buf[buf.length - 1] === 0x0a ? buf : Buffer.concat([buf, Buffer.from('\r\n')])
}

/** Until every accepted message has been parsed and made visible. */
/** Outside mail, sent like a real MTA would: a temporary SMTP refusal (4xx) is retried, up to five times. */
export async function deliver(server: TestServer, mail: OutgoingMail): Promise<Awaited<ReturnType<typeof sendMail>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendMail(server, mail)
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode ?? 0
      if (code < 400 || code >= 500 || attempt >= 5) throw err
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
}

export const settled = (server: TestServer) => server.running.deps.ingest.idle()

/** GET returning the body as bytes (raw messages, attachments). */
export async function fetchBytes(server: TestServer, key: string, path: string) {
  const res = await fetch(server.baseUrl + path, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

/** Every page of a list endpoint, following `nextCursor`. */
export async function listAll<T = any>(api: { get: (p: string) => Promise<{ status: number; body: any }> }, path: string, limit = 100): Promise<T[]> {
  const out: T[] = []
  let after: string | null = null
  for (;;) {
    const sep = path.includes('?') ? '&' : '?'
    const res = await api.get(`${path}${sep}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`)
    if (res.status !== 200) throw new Error(`listAll ${path}: ${res.status} ${JSON.stringify(res.body)}`)
    out.push(...res.body.data)
    after = res.body.nextCursor
    if (!after) return out
  }
}

/** A bare SMTP client: send a line, read the complete (possibly multi-line) reply. */
export interface SmtpSession {
  socket: Socket
  /** The greeting, or the refusal sent instead of it. */
  greeting: string
  command(line: string): Promise<string>
  /** Sends bytes as they are (DATA content, already dot-stuffed and terminated by the caller). */
  write(bytes: Buffer | string): Promise<string>
  /** Stops reading the socket (before handing it to TLS). */
  detach(): void
  close(): Promise<void>
}

export function openSmtp(port: number, host = '127.0.0.1'): Promise<SmtpSession> {
  return smtpOver(connect(port, host), true)
}

/**
 * The reply to `RCPT TO:<address>` in a fresh SMTP transaction at `port` (QUIT after it); `mailFrom`:
 * what follows `MAIL FROM:` (the sender in brackets, and any parameters such as `SIZE=`).
 */
export async function rcptReply(port: number, address: string, mailFrom = '<sender@example.com>'): Promise<string> {
  const s = await openSmtp(port)
  try {
    await s.command('EHLO client.example')
    await s.command(`MAIL FROM:${mailFrom}`)
    return await s.command(`RCPT TO:<${address}>`)
  } finally {
    await s.command('QUIT').catch(() => '')
    await s.close()
  }
}

/**
 * rcptReply until the reply matches `pattern` (at most `ms`; then the last reply): for a change
 * another process hears of by a notification, a moment after the commit.
 */
export async function rcptReplyUntil(port: number, address: string, pattern: RegExp, ms = 20_000, mailFrom?: string): Promise<string> {
  const deadline = Date.now() + ms
  for (;;) {
    const reply = await rcptReply(port, address, mailFrom)
    if (pattern.test(reply) || Date.now() > deadline) return reply
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Talks SMTP over an open socket (plain, or TLS after STARTTLS); `greeted`: wait for the banner first. */
export function smtpOver(socket: Socket, greeted: boolean): Promise<SmtpSession> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    let waiter: ((reply: string) => void) | null = null
    let closed = false
    const replies: string[] = []
    const take = () => {
      // A reply is complete at a line `NNN text` (a space, not a dash, after the code).
      const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer)
      if (!m) return
      const end = m.index + m[0].length
      const reply = buffer.slice(0, end)
      buffer = buffer.slice(end)
      if (waiter) {
        const w = waiter
        waiter = null
        w(reply)
      } else replies.push(reply)
      take()
    }
    const next = () =>
      new Promise<string>((res, rej) => {
        if (replies.length) return res(replies.shift()!)
        if (closed) return rej(new Error('connection closed'))
        waiter = res
      })
    const onData = (d: Buffer) => {
      buffer += d.toString('latin1')
      take()
    }
    socket.on('data', onData)
    socket.on('error', (err) => reject(err))
    socket.on('close', () => {
      closed = true
      if (waiter) {
        const w = waiter
        waiter = null
        w(buffer ? buffer : 'closed')
      }
    })
    const session: SmtpSession = {
      socket,
      greeting: '',
      command(line) {
        socket.write(line + '\r\n')
        return next()
      },
      write(bytes) {
        socket.write(bytes)
        return next()
      },
      detach() {
        socket.removeListener('data', onData)
      },
      close() {
        if (closed) return Promise.resolve()
        return new Promise((r) => {
          socket.once('close', () => r())
          socket.end()
        })
      },
    }
    if (!greeted) return resolve(session)
    next().then((g) => {
      session.greeting = g
      resolve(session)
    }, reject)
  })
}
