// A real SMTP server on loopback standing in for the relay: records each message with its
// envelope and the peer address it came from, and answers per recipient as a test tells it to.
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'

export interface Received {
  from: string
  to: string[]
  raw: Buffer
  remoteAddress: string
  at: number
}

export interface Sink {
  url: string
  port: number
  received: Received[]
  /** Answer for a recipient: undefined accepts; else an SMTP code + message. */
  rule: (rcpt: string, attempt: number) => { code: number; message: string } | undefined
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

export async function startSink(): Promise<Sink> {
  const attempts = new Map<string, number>()
  const sink: Sink = {
    url: '',
    port: 0,
    received: [],
    rule: () => undefined,
    async waitFor(n, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs
      while (sink.received.length < n) {
        if (Date.now() > end) throw new Error(`sink: ${sink.received.length}/${n} messages after ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return sink.received
    },
    close: async () => {},
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 100 * 1024 * 1024,
    onRcptTo(address, _session, cb) {
      const rcpt = address.address.toLowerCase()
      const n = (attempts.get(rcpt) ?? 0) + 1
      attempts.set(rcpt, n)
      const r = sink.rule(rcpt, n)
      if (r) return cb(Object.assign(new Error(r.message), { responseCode: r.code }))
      cb()
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        sink.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw: Buffer.concat(chunks),
          remoteAddress: session.remoteAddress.replace(/^::ffff:/, ''),
          at: Date.now(),
        })
        cb()
      })
    },
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.server.address() as AddressInfo).port
  sink.port = port
  sink.url = `smtp://127.0.0.1:${port}`
  sink.close = () => new Promise<void>((r) => server.close(() => r()))
  return sink
}

/** Polls until `check` returns a truthy value. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
