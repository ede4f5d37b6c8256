// An internal delivery that fails on this platform's side (a deadlock, a lost connection) is retried
// within about a second, not on the relay's 30-second schedule: the recipient is an agent waiting
// for it. A full mailbox (a quota) keeps the usual backoff. An outcome that cannot be recorded for a
// moment is recorded a moment later, not left to the lease (which would deliver it again). The
// server runs with the default retry timing and lease; each fault is injected into one of its parts
// (the ingest, the delivery worker's recording), the rest is real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { QuotaError } from '../../src/messages/ingest/types.js'
import { DatabaseUnavailable } from '../../src/db/health.js'
import { eventually } from './sink.js'
import { deliveriesOf, eventsOf, waitForStatus } from './helpers.js'

let server: TestServer

beforeAll(async () => {
  // Only the poll is quicker than production's; the retry schedule is the default.
  server = await startTestServer({ delivery: { pollMs: 100 } })
})
afterAll(() => server?.stop())

/** Makes the server's ingest refuse the next `n` internal deliveries with `err`, then behave again. */
function failNext(n: number, err: () => Error) {
  const ingest = server.running.deps.ingest
  const real = ingest.accept.bind(ingest)
  let left = n
  ingest.accept = (recipients, raw, env) => {
    if (left > 0) {
      left--
      return Promise.reject(err())
    }
    return real(recipients, raw, env)
  }
  return () => {
    ingest.accept = real
  }
}

describe('internal delivery retries', () => {
  it('retries a delivery that failed on the platform side about a second later, and delivers it', async () => {
    const t = await makeTenant(server, 'retry')
    const alice = await makeInbox(server, t, 'alice')
    const bob = await makeInbox(server, t, 'bob')
    const restore = failNext(1, () => Object.assign(new Error('deadlock detected'), { code: '40P01' }))
    try {
      const sent = await alice.api.post(`/v1/inboxes/${alice.id}/messages`, { to: bob.address, subject: 'Soon', text: 'after one hiccup' })
      expect(sent.status).toBe(201)
      // With the relay's schedule the retry would come 24-36 s later, past this wait.
      await waitForStatus(alice.api, alice.id, sent.body.id, ['delivered'], 15_000)
      const [d] = await deliveriesOf(alice.api, alice.id, sent.body.id)
      expect(d).toMatchObject({ status: 'delivered', route: 'internal', attempts: 2, lastError: null })
      const deferred = (await eventsOf(server, t.id)).filter((e) => e.type === 'message.deferred')
      expect(deferred).toHaveLength(1)
      expect(deferred[0]!.data).toMatchObject({ route: 'internal', detail: 'internal delivery failed: deadlock detected', nextAttemptInSeconds: 1 })
      const inbound = (await bob.api.get(`/v1/inboxes/${bob.id}/messages`)).body.data
      expect(inbound.map((m: { subject: string }) => m.subject)).toEqual(['Soon'])
    } finally {
      restore()
    }
  })

  it('records the outcome after a database blip instead of leaving the row to its lease (no second copy)', async () => {
    const t = await makeTenant(server, 'blip')
    const alice = await makeInbox(server, t, 'blip-alice')
    const bob = await makeInbox(server, t, 'blip-bob')
    // The delivery goes through; recording it meets the database out of reach, once.
    const worker = server.running.deps.delivery! as unknown as { finish: (...a: unknown[]) => Promise<void> }
    const finish = worker.finish
    let refused = 0
    worker.finish = function (this: unknown, ...a: unknown[]) {
      if (refused++ === 0) return Promise.reject(new DatabaseUnavailable(new Error('connection ended')))
      return finish.apply(this, a)
    }
    try {
      const sent = await alice.api.post(`/v1/inboxes/${alice.id}/messages`, { to: bob.address, subject: 'Once', text: 'exactly once' })
      expect(sent.status).toBe(201)
      // Left to the lease, the row would be claimed again after 120 s and delivered a second time.
      await waitForStatus(alice.api, alice.id, sent.body.id, ['delivered'], 15_000)
      expect(refused).toBe(2)
      const [d] = await deliveriesOf(alice.api, alice.id, sent.body.id)
      expect(d).toMatchObject({ status: 'delivered', route: 'internal', attempts: 1 })
      const inbound = (await bob.api.get(`/v1/inboxes/${bob.id}/messages`)).body.data
      expect(inbound.map((m: { subject: string }) => m.subject)).toEqual(['Once'])
    } finally {
      worker.finish = finish
    }
  })

  it('keeps the usual backoff when the recipient is over its quota', async () => {
    const t = await makeTenant(server, 'quota')
    const alice = await makeInbox(server, t, 'quota-alice')
    const bob = await makeInbox(server, t, 'quota-bob')
    const restore = failNext(1, () => new QuotaError('storage', 'someone'))
    try {
      const sent = await alice.api.post(`/v1/inboxes/${alice.id}/messages`, { to: bob.address, subject: 'Later', text: 'mailbox full' })
      expect(sent.status).toBe(201)
      await waitForStatus(alice.api, alice.id, sent.body.id, ['deferred'], 15_000)
      const deferred = await eventually(
        async () => (await eventsOf(server, t.id)).find((e) => e.type === 'message.deferred'),
        15_000,
        'the deferred event',
      )
      expect(deferred.data).toMatchObject({ route: 'internal', detail: 'internal delivery failed: storage quota exceeded' })
      // 30 s +-20%, not the internal second.
      expect((deferred.data as { nextAttemptInSeconds: number }).nextAttemptInSeconds).toBeGreaterThanOrEqual(24)
      const [d] = await deliveriesOf(alice.api, alice.id, sent.body.id)
      expect(d).toMatchObject({ status: 'deferred', route: 'internal', attempts: 1 })
    } finally {
      restore()
    }
  })
})
