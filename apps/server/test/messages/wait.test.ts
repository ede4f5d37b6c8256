// waitForMessage on the server: cursor semantics (never an old message, never a missed one),
// matchers (exact, contains, RE2 regex), timeouts answered 204 with the cursor to continue from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const waitPath = (inboxId: string, params: Record<string, string | number | boolean> = {}) =>
  `/v1/inboxes/${inboxId}/messages/wait?` + new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()

describe('GET /v1/inboxes/{id}/messages/wait', () => {
  it('resolves with a message that arrives while waiting, with a cursor', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const parked = server.running.deps.waits.parked
    const waiting = inbox.api.get(waitPath(inbox.id, { timeout: 20 }))
    // The wait is held before the mail is sent (a condition, not a sleep).
    await expect.poll(() => server.running.deps.waits.parked, { timeout: 30_000 }).toBeGreaterThan(parked)
    await sendMail(server, { to: inbox.address, subject: 'Your code is 493021', text: 'code 493021' })
    const res = await waiting
    expect(res.status).toBe(200)
    expect(res.body.message).toMatchObject({ subject: 'Your code is 493021', from: { address: 'sender@example.com' }, parseStatus: 'parsed' })
    expect(res.body.message.text).toContain('493021')
    expect(res.body.cursor).toMatch(/^w1\./)
    expect(res.headers.get('mailroom-cursor')).toBe(res.body.cursor)
  })

  it('never returns a message from before the wait began', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await sendMail(server, { to: inbox.address, subject: 'old news' })
    await settled(server)
    const res = await inbox.api.get(waitPath(inbox.id, { timeout: 1 }))
    expect(res.status).toBe(204)
    expect(res.text).toBe('')
    expect(res.headers.get('mailroom-cursor')).toMatch(/^w1\./)
  })

  it('never misses a message that arrives between two polls', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const first = await inbox.api.get(waitPath(inbox.id, { timeout: 1 }))
    expect(first.status).toBe(204)
    const cursor = first.headers.get('mailroom-cursor')!
    // Arrives while nobody is waiting.
    await sendMail(server, { to: inbox.address, subject: 'between polls' })
    await settled(server)
    const second = await inbox.api.get(waitPath(inbox.id, { timeout: 5, cursor }))
    expect(second.status).toBe(200)
    expect(second.body.message.subject).toBe('between polls')
    // And continuing from there returns nothing old again.
    const third = await inbox.api.get(waitPath(inbox.id, { timeout: 1, cursor: second.body.cursor }))
    expect(third.status).toBe(204)
  })

  it('timeout=0 without a cursor answers 204 at once with the current cursor: what arrives after it is found, what came before is not', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    await sendMail(server, { to: inbox.address, subject: 'before the cursor' })
    await settled(server)
    const now = await inbox.api.get(waitPath(inbox.id, { timeout: 0 }))
    expect(now.status).toBe(204)
    expect(now.text).toBe('')
    const cursor = now.headers.get('mailroom-cursor')!
    expect(cursor).toMatch(/^w1\./)
    // The mail the agent triggers arrives, and is stored, before anyone waits for it.
    await sendMail(server, { to: inbox.address, subject: 'after the cursor' })
    await settled(server)
    const found = await inbox.api.get(waitPath(inbox.id, { timeout: 5, cursor }))
    expect(found.status).toBe(200)
    expect(found.body.message.subject).toBe('after the cursor')
    const next = await inbox.api.get(waitPath(inbox.id, { timeout: 1, cursor: found.body.cursor }))
    expect(next.status).toBe(204)
  })

  it('delivers a burst exactly once each, in arrival order, to a client passing the cursor on', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const start = await inbox.api.get(waitPath(inbox.id, { timeout: 0 }))
    let cursor = start.headers.get('mailroom-cursor')!
    const N = 15
    const sending = Promise.all(Array.from({ length: N }, (_, i) => sendMail(server, { to: inbox.address, subject: `burst ${i}` })))
    const seen: string[] = []
    while (seen.length < N) {
      const res = await inbox.api.get(waitPath(inbox.id, { timeout: 10, cursor }))
      expect(res.status).toBe(200)
      seen.push(res.body.message.id)
      cursor = res.body.cursor
    }
    await sending
    expect(new Set(seen).size).toBe(N)
    const listed = (await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?limit=100`)).body.data.map((m: { id: string }) => m.id)
    expect([...listed].sort()).toEqual([...seen].sort())
    expect((await inbox.api.get(waitPath(inbox.id, { timeout: 1, cursor }))).status).toBe(204)
  })

  it('matches from (exact), subject (contains, regex), to and attachments; skips the rest', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const start = (await inbox.api.get(waitPath(inbox.id, { timeout: 0 }))).headers.get('mailroom-cursor')!
    await sendMail(server, { from: 'noise@example.com', to: inbox.address, subject: 'Verify your account: 111111' })
    await sendMail(server, { from: 'auth@service.test', to: inbox.address, subject: 'Newsletter' })
    await sendMail(server, { from: 'auth@service.test', to: inbox.address, subject: 'Verify your account: 654321' })
    await sendMail(server, { from: 'files@service.test', to: inbox.address, subject: 'report', attachments: [{ filename: 'r.csv', content: 'a,b' }] })
    await settled(server)
    const byFromAndRegex = await inbox.api.get(
      waitPath(inbox.id, { cursor: start, timeout: 1, from: 'AUTH@service.test', subject: 'account: \\d{6}$', subjectMatch: 'regex' }),
    )
    expect(byFromAndRegex.body.message.subject).toBe('Verify your account: 654321')
    const contains = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, subject: 'newsletter' }))
    expect(contains.body.message.subject).toBe('Newsletter')
    const withFile = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, hasAttachments: true }))
    expect(withFile.body.message.attachments[0].filename).toBe('r.csv')
    const fromContains = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, from: 'files@', fromMatch: 'contains' }))
    expect(fromContains.body.message.subject).toBe('report')
    const to = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, to: inbox.address.toUpperCase() }))
    expect(to.body.message.subject).toBe('Verify your account: 111111')
    const none = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, from: 'nobody@example.com' }))
    expect(none.status).toBe(204)
    // The cursor of a miss moved past everything scanned: nothing is returned twice.
    expect(none.headers.get('mailroom-cursor')).not.toBe(start)
  })

  it('runs regular expressions on a linear-time engine and rejects bad ones with 400', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const start = (await inbox.api.get(waitPath(inbox.id, { timeout: 0 }))).headers.get('mailroom-cursor')!
    await sendMail(server, { to: inbox.address, subject: 'a'.repeat(3000) + '!' })
    await settled(server)
    // Catastrophic for a backtracking engine; RE2 answers at once.
    const hostile = await inbox.api.get(waitPath(inbox.id, { cursor: start, timeout: 1, subject: '^(a+)+$', subjectMatch: 'regex' }))
    expect(hostile.status).toBe(204)
    for (const pattern of ['(?<=x)y', '(unclosed', 'x'.repeat(501)]) {
      const bad = await inbox.api.get(waitPath(inbox.id, { subject: pattern, subjectMatch: 'regex', timeout: 1 }))
      expect(bad.status).toBe(400)
      expect(bad.body.error.code).toBe('validation_error')
    }
    const badCursor = await inbox.api.get(waitPath(inbox.id, { cursor: 'nope', timeout: 1 }))
    expect(badCursor.status).toBe(400)
    const tooLong = await inbox.api.get(waitPath(inbox.id, { timeout: 31 }))
    expect(tooLong.status).toBe(400)
  })

  it('a tenant key can wait on any of its inboxes; each waiter only sees its own inbox', async () => {
    const t = await makeTenant(server)
    const a = await makeInbox(server, t)
    const b = await makeInbox(server, t)
    const parked = server.running.deps.waits.parked
    const waitA = t.api.get(waitPath(a.id, { timeout: 3 }))
    const waitB = b.api.get(waitPath(b.id, { timeout: 20 }))
    await expect.poll(() => server.running.deps.waits.parked, { timeout: 30_000 }).toBeGreaterThanOrEqual(parked + 2)
    await sendMail(server, { to: b.address, subject: 'for b' })
    expect((await waitB).body.message.subject).toBe('for b')
    expect((await waitA).status).toBe(204)
  })
})
