// The parse threads' standby: on a machine where the parser runs one parse at a time while parses
// move (createParser's default on 2 cores), a message that stalls its parse opens the standby
// thread, so another tenant's mail is still parsed, stored and answered 250 meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createParser, type MailParser } from '../../src/messages/parser.js'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { listAll, sendRaw, settled } from '@mailroom/testkit/mail'

let server: TestServer
let real: MailParser
let running = 0
let peak = 0
/** Open to let a parse of a message whose subject starts with "stall" finish. */
const gates: (() => void)[] = []

/** Two threads, one of them standing by; a "stall" message's parse is held until its gate opens. */
function standbyParser(): MailParser {
  return {
    threads: 2,
    steadyThreads: 1,
    // Long enough that no parse of a busy test machine opens the standby by being slow.
    standbyAfterMs: 1000,
    async parse(raw, opts) {
      running++
      peak = Math.max(peak, running)
      try {
        const subject = /^Subject: (.*)$/m.exec(raw.toString('latin1'))?.[1]?.trim() ?? ''
        if (subject.startsWith('stall')) await new Promise<void>((open) => gates.push(open))
        return await real.parse(raw, opts)
      } finally {
        running--
      }
    },
    close: async () => {},
  }
}

beforeAll(async () => {
  real = createParser({ threads: 2 })
  await real.parse(Buffer.from('Subject: warm-up\r\n\r\nthe first parse starts a thread\r\n'))
  server = await startTestServer({ parser: standbyParser() })
})
afterAll(async () => {
  for (const open of gates) open()
  await server?.stop()
  await real?.close()
})

const mail = (to: InboxFixture, subject: string) => Buffer.from(`From: a@example.com\r\nTo: ${to.address}\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`)

describe('parse standby', () => {
  it('parses run one at a time while they move', async () => {
    const boxes = [await makeInbox(server, await makeTenant(server, 'steady-a')), await makeInbox(server, await makeTenant(server, 'steady-b'))]
    peak = 0
    await Promise.all(Array.from({ length: 10 }, (_, i) => sendRaw(server, { from: 'a@example.com', to: [boxes[i % 2]!.address] }, mail(boxes[i % 2]!, `steady ${i}`))))
    await settled(server)
    expect(peak).toBe(1)
    for (const box of boxes) expect(await listAll(box.api, `/v1/inboxes/${box.id}/messages`)).toHaveLength(5)
  })

  it("a message whose parse stalls does not hold another tenant's mail: it is stored and answered while the stall lasts", async () => {
    const stalled = await makeInbox(server, await makeTenant(server, 'stalled'))
    const other = await makeInbox(server, await makeTenant(server, 'bystander'))
    const stuck = sendRaw(server, { from: 'a@example.com', to: [stalled.address] }, mail(stalled, 'stall forever'))
    for (let i = 0; i < 500 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(gates).toHaveLength(1)
    // The standby thread takes the bystander's messages while the stalled parse still runs.
    await Promise.all(Array.from({ length: 3 }, (_, i) => sendRaw(server, { from: 'a@example.com', to: [other.address] }, mail(other, `meanwhile ${i}`))))
    expect(gates).toHaveLength(1)
    expect((await listAll(other.api, `/v1/inboxes/${other.id}/messages`)).map((m) => m.subject).sort()).toEqual(['meanwhile 0', 'meanwhile 1', 'meanwhile 2'])
    expect(peak).toBe(2)
    gates.shift()!()
    await stuck
    await settled(server)
    expect(await listAll(stalled.api, `/v1/inboxes/${stalled.id}/messages`)).toHaveLength(1)
  })
})
