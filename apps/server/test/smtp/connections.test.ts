// Connections: the per-address cap makes an idle connection give way to a new one, answers 421 when
// none is idle, and frees its slots when clients leave; STARTTLS is offered and works once a
// certificate is configured.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, openSmtp, settled, smtpOver, type SmtpSession } from '@mailroom/testkit/mail'

const CAP = 3
let server: TestServer
let dir: string
let inbox: InboxFixture

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=agents.test'], {
    stdio: 'ignore',
  })
  server = await startTestServer({ config: { smtpTls: { keyPath, certPath }, smtpMaxConnectionsPerIp: CAP } })
  inbox = await makeInbox(server, await makeTenant(server, 'tls'))
})
afterAll(async () => {
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A new connection once the server has let go of earlier ones (it releases slots on close). */
async function connectWhenFree(): Promise<SmtpSession> {
  for (let attempt = 0; ; attempt++) {
    const s = await openSmtp(server.running.smtpPort)
    if (s.greeting.startsWith('220') || attempt > 50) return s
    await s.close()
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('connection cap per client address', () => {
  it('over the cap, the idlest connection gives way to the new one; with every one inside a mail transaction, the new one gets 421', async () => {
    const open: SmtpSession[] = []
    for (let i = 0; i < CAP; i++) open.push(await connectWhenFree())
    for (const s of open) expect(s.greeting).toMatch(/^220 /)
    const closed = open.map((s) => new Promise<string>((r) => s.socket.once('close', () => r('closed'))))
    // The idlest is the first one (the others greeted after it, and all sent nothing since).
    const extra = await openSmtp(server.running.smtpPort)
    expect(extra.greeting).toMatch(/^220 /)
    expect(await closed[0]).toBe('closed')
    open.shift()
    open.push(extra)
    // Every connection now starts a mail transaction: none of them is idle, none gives way.
    for (const s of open) {
      await s.command('EHLO client.example')
      expect(await s.command('MAIL FROM:<a@example.com>')).toMatch(/^250 /)
    }
    const refused = await openSmtp(server.running.smtpPort)
    expect(refused.greeting).toMatch(/^421 4\.7\.0 /)
    await refused.close()
    // Closing one frees its slot.
    await open.shift()!.close()
    const again = await connectWhenFree()
    expect(again.greeting).toMatch(/^220 /)
    for (const s of [...open, again]) await s.close()
  })

  it('releases the slot of every connection that sent mail and left (many more than the cap, one after another)', async () => {
    for (let i = 0; i < CAP * 3; i++) {
      const s = await connectWhenFree()
      expect(s.greeting).toMatch(/^220 /)
      await s.command('EHLO client.example')
      await s.command('MAIL FROM:<a@example.com>')
      expect(await s.command(`RCPT TO:<${inbox.address}>`)).toMatch(/^250 /)
      await s.command('DATA')
      expect(await s.write(`Subject: seq ${i}\r\n\r\nbody\r\n.\r\n`)).toMatch(/^250 /)
      expect(await s.command('QUIT')).toMatch(/^221 /)
      await s.close()
    }
    await settled(server)
    expect((await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=seq`)).length).toBe(CAP * 3)
  })
})

describe('STARTTLS', () => {
  it('is offered, upgrades with the configured certificate, and mail sent over TLS arrives', async () => {
    const s = await connectWhenFree()
    const ehlo = await s.command('EHLO client.example')
    expect(ehlo).toMatch(/STARTTLS/)
    expect(ehlo).not.toMatch(/AUTH/)
    expect(await s.command('STARTTLS')).toMatch(/^220 /)
    s.detach()
    const secure = tlsConnect({ socket: s.socket, rejectUnauthorized: false, servername: 'agents.test' })
    await once(secure, 'secureConnect')
    expect(secure.getPeerCertificate().subject.CN).toBe('agents.test')
    const t = await smtpOver(secure, false)
    const ehlo2 = await t.command('EHLO client.example')
    expect(ehlo2).toMatch(/^250-/)
    expect(ehlo2).not.toMatch(/STARTTLS/)
    await t.command('MAIL FROM:<tls@example.com>')
    expect(await t.command(`RCPT TO:<${inbox.address}>`)).toMatch(/^250 /)
    expect(await t.command('DATA')).toMatch(/^354 /)
    expect(await t.write('Subject: over tls\r\n\r\nsecret\r\n.\r\n')).toMatch(/^250 /)
    await t.command('QUIT')
    await t.close()
    await settled(server)
    const [m] = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=over%20tls`)
    expect(m).toMatchObject({ subject: 'over tls', parseStatus: 'parsed' })
  })

  it('works for a real client that requires TLS', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.running.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    })
    try {
      const info = await transport.sendMail({ from: 'tls@example.com', to: inbox.address, subject: 'nodemailer tls', text: 'hi' })
      expect(info.response).toMatch(/^250 /)
    } finally {
      transport.close()
    }
    await settled(server)
    expect(await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages?subject=nodemailer%20tls`)).toHaveLength(1)
  })
})
