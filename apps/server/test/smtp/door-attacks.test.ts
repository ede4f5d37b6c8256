// The SMTP door under attack from one client address: idle connections by the hundred, one recipient
// tenant's mail flooding in, 5,000 RCPT TO in one message, a one-byte-a-second drip, a session that
// never ends, commands without end. Each attack is contained, and while it runs another tenant's
// mail from the same address is accepted and that tenant's HTTP requests are answered.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, openSmtp, sendMail, settled, type SmtpSession } from '@mailroom/testkit/mail'

const CAP = 20

/** Another tenant, meanwhile: its mail (over a new connection from the same address) and its API both work. */
async function otherTenantServed(server: TestServer, other: InboxFixture, subject: string): Promise<{ smtpMs: number; httpMs: number }> {
  const t0 = performance.now()
  const info = await sendMail(server, { to: other.address, subject, text: 'business as usual' })
  const smtpMs = performance.now() - t0
  expect(info.response).toMatch(/^250 /)
  const t1 = performance.now()
  const res = await other.api.get(`/v1/inboxes/${other.id}/messages?limit=5`)
  const httpMs = performance.now() - t1
  expect(res.status).toBe(200)
  await settled(server)
  expect((await listAll(other.api, `/v1/inboxes/${other.id}/messages?subject=${encodeURIComponent(subject)}`)).length).toBe(1)
  return { smtpMs, httpMs }
}

/** A raw connection that records everything the server says, and when it hangs up. */
function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', (d) => (received += d.toString('latin1')))
  socket.on('error', () => {})
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  return { socket, closed, received: () => received }
}

const drip = async (socket: Socket, text: string, everyMs: number, stop: Promise<void>) => {
  let done = false
  void stop.then(() => (done = true))
  for (const ch of text) {
    if (done) return
    socket.write(ch)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

describe('attacks on connections and recipients', () => {
  let server: TestServer
  let attacked: TenantFixture
  let target: InboxFixture
  let other: InboxFixture

  beforeAll(async () => {
    server = await startTestServer({ config: { smtpMaxConnectionsPerIp: CAP, smtpMaxRecipients: 100 } })
    attacked = await makeTenant(server, 'attacked')
    target = await makeInbox(server, attacked, 'target')
    other = await makeInbox(server, await makeTenant(server, 'bystander'), 'bystander')
  })
  afterAll(() => server?.stop())

  it('200 idle connections from one address do not lock out other mail from it: idle ones give way', async () => {
    const idle: SmtpSession[] = []
    // In waves of 40 (each new connection beyond the cap makes the idlest one give way).
    for (let wave = 0; wave < 5; wave++) idle.push(...(await Promise.all(Array.from({ length: 40 }, () => openSmtp(server.running.smtpPort)))))
    // Every one was greeted (the oldest idle one gave way each time); only CAP are still open.
    expect(idle.every((s) => s.greeting.startsWith('220 '))).toBe(true)
    await new Promise((r) => setTimeout(r, 50))
    expect(idle.filter((s) => !s.socket.destroyed && !s.socket.readableEnded).length).toBeLessThanOrEqual(CAP)
    const t = await otherTenantServed(server, other, 'during the idle flood')
    console.log(`[door] another tenant under 200 idle connections: SMTP ${t.smtpMs.toFixed(1)} ms, HTTP ${t.httpMs.toFixed(1)} ms`)
    for (const s of idle) await s.close()
  })

  it("one tenant's mail holds at most half of an address's connections; the rest stays open for others", async () => {
    const busy: SmtpSession[] = []
    for (let i = 0; i < CAP / 2; i++) {
      const s = await openSmtp(server.running.smtpPort)
      await s.command('EHLO flood.example')
      await s.command('MAIL FROM:<bulk@flood.example>')
      expect(await s.command(`RCPT TO:<${target.address}>`)).toMatch(/^250 /)
      busy.push(s)
    }
    const one = await openSmtp(server.running.smtpPort)
    await one.command('EHLO flood.example')
    await one.command('MAIL FROM:<bulk@flood.example>')
    expect(await one.command(`RCPT TO:<${target.address}>`)).toMatch(/^451 4\.7\.0 /)
    // The same connection may still carry mail for someone else.
    expect(await one.command(`RCPT TO:<${other.address}>`)).toMatch(/^250 /)
    await one.close()
    await otherTenantServed(server, other, 'during the recipient flood')
    for (const s of busy) await s.close()
  })

  it('5,000 RCPT TO in one message: 452 4.5.3 past 100 recipients, and the client is dropped after 20 refusals', async () => {
    const many = await Promise.all(Array.from({ length: 105 }, (_, i) => attacked.api.post('/v1/inboxes', { name: `r${i}` })))
    const addresses = many.map((r) => r.body.address as string)
    const s = await openSmtp(server.running.smtpPort)
    await s.command('EHLO spray.example')
    await s.command('MAIL FROM:<spray@spray.example>')
    const replies: string[] = []
    for (let i = 0; i < 5000 && !s.socket.destroyed; i++) {
      const reply = await s.command(`RCPT TO:<${addresses[i] ?? `nobody${i}@agents.test`}>`).catch(() => 'closed')
      replies.push(reply)
      if (reply === 'closed' || reply.startsWith('421')) break
    }
    expect(replies.slice(0, 100).every((r) => r.startsWith('250 '))).toBe(true)
    expect(replies[100]).toMatch(/^452 4\.5\.3 /)
    expect(replies.at(-1)).toMatch(/421 4\.7\.0 Too many errors|closed/)
    expect(replies.length).toBeLessThan(130)
    await s.close()
    await otherTenantServed(server, other, 'after the recipient spray')
  })
})

describe('attacks on time and commands', () => {
  let server: TestServer
  let other: InboxFixture

  beforeAll(async () => {
    server = await startTestServer({ config: { smtpIdleSeconds: 3, smtpSessionSeconds: 8, smtpMaxCommands: 50 } })
    other = await makeInbox(server, await makeTenant(server, 'bystander'), 'bystander')
  })
  afterAll(() => server?.stop())

  it('a command dripped one byte at a time is cut off at the idle limit with 421 4.4.2', async () => {
    const c = rawConnection(server.running.smtpPort)
    void drip(c.socket, 'EHLO slow.example.with.a.long.name\r\n', 1000, c.closed)
    await otherTenantServed(server, other, 'during the command drip')
    await c.closed
    expect(c.received()).toMatch(/421 4\.4\.2 Idle timeout/)
    expect(c.received()).not.toMatch(/250-/)
  })

  it('message data dripped under 1 KiB per idle period is cut off too', async () => {
    const s = await openSmtp(server.running.smtpPort)
    await s.command('EHLO drip.example')
    await s.command('MAIL FROM:<a@drip.example>')
    expect(await s.command(`RCPT TO:<${other.address}>`)).toMatch(/^250 /)
    expect(await s.command('DATA')).toMatch(/^354 /)
    const closed = new Promise<void>((r) => s.socket.once('close', () => r()))
    let said = ''
    s.socket.on('data', (d) => (said += d.toString('latin1')))
    void drip(s.socket, 'Subject: dripped data\r\n\r\n' + 'x'.repeat(2000), 200, closed)
    await closed
    expect(said).toMatch(/421 4\.4\.2 Idle timeout/)
    // Nothing of the half-received message is kept.
    await settled(server)
    expect((await listAll(other.api, `/v1/inboxes/${other.id}/messages?subject=dripped`)).length).toBe(0)
  })

  it('a session that stays busy is closed at the session limit', async () => {
    const s = await openSmtp(server.running.smtpPort)
    let said = ''
    s.socket.on('data', (d) => (said += d.toString('latin1')))
    const closed = new Promise<void>((r) => s.socket.once('close', () => r()))
    let open = true
    void closed.then(() => (open = false))
    // Busy all along: a NOOP every 200 ms, well inside the idle limit.
    while (open) {
      s.socket.write('NOOP\r\n')
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(said).toMatch(/250 [^\r]*\r\n/)
    expect(said).toMatch(/421 4\.4\.2 Session time limit/)
  })

  it('more commands than the cap: 421 and closed', async () => {
    const s = await openSmtp(server.running.smtpPort)
    let reply = ''
    for (let i = 0; i < 60; i++) {
      reply = await s.command('NOOP').catch(() => 'closed')
      if (!reply.startsWith('250')) break
    }
    expect(reply).toMatch(/421 4\.7\.0 Too many commands/)
    await otherTenantServed(server, other, 'after the command flood')
  })

  it('counts what it did in /metrics', async () => {
    const { body } = await server.running.deps.metrics.render()
    expect(body).toMatch(/mailroom_smtp_connections_dropped_total\{reason="idle"\} [1-9]/)
    expect(body).toMatch(/mailroom_smtp_connections_dropped_total\{reason="session_time"\} [1-9]/)
    expect(body).toMatch(/mailroom_smtp_connections_dropped_total\{reason="too_many_commands"\} [1-9]/)
    expect(body).toMatch(/mailroom_smtp_replies_total\{code="421"\} [1-9]/)
  })
})
