// Tenants take turns at the parse threads: one tenant's flood of mail that is slow to parse does not
// queue ahead of another tenant's next message (the parse sits before the sender's 250).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createParser, type MailParser } from '../../src/messages/parser.js'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TestServer } from '@mailroom/testkit/server'
import { sendRaw, settled } from '@mailroom/testkit/mail'

let server: TestServer
let real: MailParser
/** Subjects in the order their parse started. */
const started: string[] = []
/** One gate per flood parse in progress; opening it lets that parse finish. */
const gates: (() => void)[] = []

/** One parse at a time; a message whose subject starts with "flood" is held until its gate opens. */
function gatedParser(): MailParser {
  return {
    threads: 1,
    async parse(raw, opts) {
      const subject = /^Subject: (.*)$/m.exec(raw.toString('latin1'))?.[1]?.trim() ?? ''
      started.push(subject)
      if (subject.startsWith('flood')) await new Promise<void>((open) => gates.push(open))
      return real.parse(raw, opts)
    },
    close: async () => {},
  }
}

beforeAll(async () => {
  real = createParser({ threads: 1 })
  server = await startTestServer({ parser: gatedParser() })
})
afterAll(async () => {
  await server?.stop()
  await real?.close()
})

const mail = (to: InboxFixture, subject: string) => Buffer.from(`From: a@example.com\r\nTo: ${to.address}\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`)

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!ok()) throw new Error(`timed out waiting until ${what}`)
}

describe('parse turns', () => {
  it("another tenant's message is parsed after at most one more of the flooding tenant's, not after all of them", async () => {
    const flooder = await makeInbox(server, await makeTenant(server, 'flooder'))
    const other = await makeInbox(server, await makeTenant(server, 'other'))
    const ingest = server.running.deps.ingest
    const floods = Array.from({ length: 6 }, (_, i) => sendRaw(server, { from: 'a@example.com', to: [flooder.address] }, mail(flooder, `flood-${i}`)))
    // The first flood message is being parsed, the other five wait for their turn.
    await until('five flood parses wait', () => started.length === 1 && ingest.parsesWaiting === 5)
    const late = sendRaw(server, { from: 'a@example.com', to: [other.address] }, mail(other, 'other tenant'))
    await until("the other tenant's parse waits too", () => ingest.parsesWaiting === 6)
    for (let released = 0; released < 6; released++) {
      await until('a flood parse is held', () => gates.length > 0)
      gates.shift()!()
    }
    await Promise.all([...floods, late])
    await settled(server)
    expect(started).toHaveLength(7)
    // Turns: the flood's first message, its next one (its turn came first), then the other tenant.
    expect(started[2]).toBe('other tenant')
    expect(started.slice(0, 2).every((s) => s.startsWith('flood'))).toBe(true)
  })
})
