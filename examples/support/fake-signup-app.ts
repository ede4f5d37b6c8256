// A tiny stand-in for a third-party web app with email verification: POST /signup {"email"} mails
// a one-time code to that address over SMTP; POST /verify {"email","code"} checks it. It talks to
// Mailroom's SMTP port the way any outside mail server would, so the examples need no network.
import { randomInt } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import nodemailer from 'nodemailer'
import { localSmtp } from './env.js'

export interface FakeSignupApp {
  /** Base URL, e.g. `http://127.0.0.1:43210`. */
  url: string
  /** The address its mail comes from. */
  sender: string
  /** Emails whose code was verified. */
  verified: Set<string>
  close(): Promise<void>
}

export interface FakeSignupAppOptions {
  /** Where to deliver mail: Mailroom's SMTP door (default MAILROOM_HOST and MAILROOM_SMTP_PORT, else 127.0.0.1:2525). */
  smtp?: { host?: string; port?: number }
  sender?: string
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = ''
  for await (const chunk of req) body += chunk
  try {
    const v = JSON.parse(body) as unknown
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/**
 * Starts the app on a free loopback port.
 *
 * @example
 * const app = await startFakeSignupApp() // mails to MAILROOM_SMTP_PORT (2525 when unset)
 * await fetch(`${app.url}/signup`, { method: 'POST', body: JSON.stringify({ email: 'agent@mailroom.localhost' }) })
 */
export async function startFakeSignupApp(options: FakeSignupAppOptions = {}): Promise<FakeSignupApp> {
  const sender = options.sender ?? 'no-reply@signup-app.example'
  const smtp = { ...localSmtp(), ...options.smtp }
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
  })
  const codes = new Map<string, string>()
  const verified = new Set<string>()

  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    void (async () => {
      const body = await readJson(req)
      const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : ''
      if (req.method === 'POST' && req.url === '/signup') {
        if (!/^[^@\s]+@[^@\s]+$/.test(email)) return answer(400, { error: 'a valid email is required' })
        const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
        codes.set(email, code)
        await transport.sendMail({
          from: `Signup App <${sender}>`,
          to: email,
          subject: `Your verification code ${code}`,
          text: `Welcome! Your verification code is ${code}. It expires in 10 minutes.`,
          html: `<p>Welcome!</p><p>Your verification code is <b>${code}</b>.</p><p style="color:#888">It expires in 10 minutes.</p>`,
        })
        return answer(202, { status: 'verification email sent' })
      }
      if (req.method === 'POST' && req.url === '/verify') {
        if (codes.get(email) !== body.code) return answer(400, { error: 'wrong code' })
        codes.delete(email)
        verified.add(email)
        return answer(200, { status: 'verified' })
      }
      return answer(404, { error: 'not found' })
    })().catch((err: unknown) => answer(500, { error: String(err) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    sender,
    verified,
    async close() {
      transport.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
