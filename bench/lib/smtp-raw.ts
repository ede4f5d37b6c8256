// A minimal SMTP client for timing: one message per transaction on a few persistent connections,
// and the exact moment the end of DATA (CRLF . CRLF) was handed to the socket, which nodemailer
// does not expose. Loopback only; no TLS, no AUTH; dot-stuffing as RFC 5321 4.5.2 asks.
import { connect, type Socket } from 'node:net'

interface Conn {
  socket: Socket
  buffer: string
  waiters: ((line: string) => void)[]
  busy: boolean
  /** Messages sent on this connection. */
  sent: number
}

/**
 * Messages per connection before it is replaced (as MTAs cap connection reuse): the server closes a
 * connection after MAILROOM_SMTP_MAX_COMMANDS commands (default 1,000; three per message here).
 */
const MESSAGES_PER_CONNECTION = 200

export interface Sent {
  /** performance.now() when the final CRLF.CRLF was written */
  dataEnd: number
  /** performance.now() when the 250 for the message arrived */
  accepted: number
}

export class RawSmtpPool {
  private conns: Conn[] = []
  private queue: (() => void)[] = []

  private constructor(private readonly port: number) {}

  static async open(port: number, connections: number): Promise<RawSmtpPool> {
    const pool = new RawSmtpPool(port)
    for (let i = 0; i < connections; i++) pool.conns.push(await pool.connect())
    return pool
  }

  private async connect(): Promise<Conn> {
    const socket = connect(this.port, '127.0.0.1')
    socket.setNoDelay(true)
    const c: Conn = { socket, buffer: '', waiters: [], busy: false, sent: 0 }
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      c.buffer += chunk
      for (let i = c.buffer.indexOf('\r\n'); i >= 0; i = c.buffer.indexOf('\r\n')) {
        const line = c.buffer.slice(0, i)
        c.buffer = c.buffer.slice(i + 2)
        // Multi-line replies ("250-...") end with the line that has a space after the code.
        if (/^\d{3} /.test(line)) c.waiters.shift()?.(line)
      }
    })
    // A reset or refused connection fails the replies it owes (no unhandled 'error' event).
    socket.on('error', (err) => {
      for (const w of c.waiters.splice(0)) w(`ERR ${err.message}`)
    })
    await this.reply(c, '220')
    socket.write('EHLO bench.localhost\r\n')
    await this.reply(c, '250')
    return c
  }

  private reply(c: Conn, expect: string): Promise<string> {
    return new Promise((resolve, reject) =>
      c.waiters.push((line) => (line.startsWith(expect) ? resolve(line) : reject(new Error(`SMTP: expected ${expect}, got ${line}`)))),
    )
  }

  private async take(): Promise<Conn> {
    for (;;) {
      const free = this.conns.find((c) => !c.busy)
      if (free) {
        free.busy = true
        return free
      }
      await new Promise<void>((r) => this.queue.push(r))
    }
  }

  async send(raw: Buffer, from: string, to: string): Promise<Sent> {
    let c = await this.take()
    try {
      if (c.sent >= MESSAGES_PER_CONNECTION) {
        const fresh = await this.connect()
        fresh.busy = true
        this.conns[this.conns.indexOf(c)] = fresh
        c.socket.end('QUIT\r\n')
        c = fresh
      }
      c.sent++
      const mail = this.reply(c, '250')
      const rcpt = this.reply(c, '250')
      const data = this.reply(c, '354')
      c.socket.write(`MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
      await Promise.all([mail, rcpt, data])
      let body = raw.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
      if (!body.endsWith('\r\n')) body += '\r\n'
      const done = this.reply(c, '250')
      c.socket.write(body + '.\r\n', 'latin1')
      const dataEnd = performance.now()
      await done
      return { dataEnd, accepted: performance.now() }
    } finally {
      c.busy = false
      this.queue.shift()?.()
    }
  }

  close(): void {
    for (const c of this.conns) {
      c.socket.end('QUIT\r\n')
      c.socket.destroy()
    }
  }
}
