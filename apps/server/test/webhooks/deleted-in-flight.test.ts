// Work in flight for something deleted meanwhile ends quietly: a webhook deleted while its request
// is out records nothing (its deliveries went with it), and an inbox deleted while its mail is
// being delivered leaves nothing half-written. Neither logs a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/lib/log.js'
import type { OutboundTransport } from '../../src/delivery/transport.js'
import { makeInbox, makeTenant, type TestServer } from '@mailroom/testkit/server'
import { sendMail } from '@mailroom/testkit/mail'
import { startReceiver, startWebhookServer, type Receiver } from './helpers.js'

const logged: { level: string; msg: string }[] = []
const problems = () => logged.filter((l) => l.level === 'warn' || l.level === 'error')

/** A relay that holds each message until the test lets it go. */
function heldRelay() {
  const pending: (() => void)[] = []
  let arrived: () => void = () => {}
  const transport: OutboundTransport = {
    send: () =>
      new Promise((resolve) => {
        pending.push(() => resolve({ response: '250 ok' }))
        arrived()
      }),
    close: async () => {},
  }
  return {
    transport,
    arrival: () => (pending.length ? Promise.resolve() : new Promise<void>((r) => (arrived = r))),
    releaseAll: () => pending.splice(0).forEach((f) => f()),
  }
}

let server: TestServer
let receiver: Receiver
const relay = heldRelay()

beforeAll(async () => {
  receiver = await startReceiver()
  server = await startWebhookServer({
    webhooks: { timeoutMs: 1500 },
    delivery: { transport: relay.transport, pollMs: 50 },
    log: createLogger('info', (line) => logged.push(JSON.parse(line))),
  })
})
afterAll(async () => {
  await server?.stop()
  await receiver?.close()
})

describe('work in flight for something deleted', () => {
  it('a webhook deleted while its request is out: nothing recorded, nothing logged', async () => {
    const tenant = await makeTenant(server, 'hooks')
    const inbox = await makeInbox(server, tenant, 'hooked')
    receiver.rule = () => 'hang'
    const hook = await tenant.api.post('/v1/webhooks', { url: `${receiver.url}/gone`, eventTypes: ['message.received'] })
    expect(hook.status).toBe(201)
    await sendMail(server, { to: inbox.address, subject: 'to a doomed hook', text: 'x' })
    await receiver.waitFor(1, 15_000, '/gone')
    expect((await tenant.api.delete(`/v1/webhooks/${hook.body.id}`)).status).toBe(204)
    // The request times out after the delete; the worker then has nothing to record.
    await new Promise((r) => setTimeout(r, 1600))
    await server.running.deps.webhooks!.idle()
    expect(problems()).toEqual([])
    expect((await tenant.api.get(`/v1/webhooks/${hook.body.id}/deliveries`)).status).toBe(404)
  })

  it('an inbox deleted while its mail is at the relay: the delivery ends without a trace or an error', async () => {
    const tenant = await makeTenant(server, 'senders')
    const inbox = await makeInbox(server, tenant, 'doomed')
    const sent = await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: ['someone@example.com'], subject: 'in flight', text: 'x' })
    expect(sent.status).toBe(201)
    await relay.arrival()
    expect((await tenant.api.delete(`/v1/inboxes/${inbox.id}`)).status).toBe(204)
    relay.releaseAll()
    await server.running.deps.delivery!.idle()
    expect(problems()).toEqual([])
    expect((await tenant.api.get(`/v1/inboxes/${inbox.id}`)).status).toBe(404)
  })
})
