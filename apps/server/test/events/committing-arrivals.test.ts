// Arrivals this process is committing: Postgres delivers a commit's notifications when it answers
// the COMMIT, and the listening connection may be read first. The hub holds such a notification
// until the committing side settles, so an inbox's waiters hear of the message once, with the
// stored row (no read back); if the commit's outcome is not known here, the notification goes out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { startTestServer, type TestServer } from '@mailroom/testkit/server'
import { onCitus } from '@mailroom/testkit/db'
import { arrivalPayload, MAIL_CHANNEL, type Arrival, type StoredArrival } from '../../src/events/hub.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

const hub = () => server.running.deps.hub
/** The database's own notification, as an ingest transaction sends it. */
const notify = (a: Arrival) => server.db.owner.db.execute(sql`select pg_notify(${MAIL_CHANNEL}, ${arrivalPayload(a)})`)
const STORED = { row: {}, atts: [], cipher: {} } as unknown as StoredArrival

async function until(ok: () => boolean) {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25))
  expect(ok()).toBe(true)
}

/** An inbox and its tenant, with what the inbox's and the tenant's listeners heard. */
function listening() {
  const tenantId = randomUUID()
  const inboxId = randomUUID()
  const inbox: Arrival[] = []
  const tenant: Arrival[] = []
  // On a Citus coordinator every notification is heard again 50 ms, 1 s and 5 s later (db/echo.ts),
  // by design: those repeats are not what this file checks, so there each seq counts once.
  const heard = (list: Arrival[]) => (a: Arrival) => {
    if (!onCitus || !list.some((x) => x.seq === a.seq)) list.push(a)
  }
  const offs = [hub().onInbox(inboxId, heard(inbox)), hub().onTenant(tenantId, heard(tenant))]
  const arrival = (seq: number, stored?: StoredArrival): Arrival => ({ tenantId, inboxId, seq, eventSeq: seq, ...(stored ? { stored } : {}) })
  return { inbox, tenant, arrival, off: () => offs.forEach((f) => f()) }
}

/** Arrival 1 of the inbox being committed here, and the database's notification of it heard first (and held). */
async function overtaken(l: ReturnType<typeof listening>) {
  const committing = hub().committing([l.arrival(1, STORED)])
  await notify(l.arrival(1))
  // The tenant's listeners (event streams) heard it; the inbox's waiters not yet.
  await until(() => l.tenant.length === 1)
  expect(l.inbox).toEqual([])
  return committing
}

describe('arrivals this process is committing', () => {
  it("holds the database's notification until the commit is known, then tells the inbox once, with the stored message", async () => {
    const l = listening()
    try {
      const committing = await overtaken(l)
      committing.committed()
      expect(l.inbox).toHaveLength(1)
      expect(l.inbox[0]).toMatchObject({ seq: 1 })
      expect(l.inbox[0]!.stored).toBe(STORED)
      // The next arrival, not this process's, goes out as it comes.
      await notify(l.arrival(2))
      await until(() => l.inbox.length === 2)
      expect(l.inbox[1]).toEqual(l.arrival(2))
    } finally {
      l.off()
    }
  })

  it('lets a held notification go out when the commit failed or its answer was lost', async () => {
    const l = listening()
    try {
      const committing = await overtaken(l)
      committing.failed()
      expect(l.inbox).toEqual([l.arrival(1)])
      // Settling twice changes nothing.
      committing.committed()
      expect(l.inbox).toHaveLength(1)
    } finally {
      l.off()
    }
  })

  it('holds nothing once settled: a failed commit that was never notified leaves later notifications alone', async () => {
    const l = listening()
    try {
      hub().committing([l.arrival(1, STORED)]).failed()
      expect(l.inbox).toEqual([])
      // The seq a rolled-back transaction had taken is the next commit's: heard at once.
      await notify(l.arrival(1))
      await until(() => l.inbox.length === 1)
      expect(l.inbox).toEqual([l.arrival(1)])
    } finally {
      l.off()
    }
  })

  it('when telling the waiters fails after the commit, the held notification still reaches them', async () => {
    const l = listening()
    const original = hub().arrivedHere.bind(hub())
    hub().arrivedHere = () => {
      throw new Error('listener broke')
    }
    try {
      const committing = await overtaken(l)
      expect(() => committing.committed()).toThrow('listener broke')
      expect(l.inbox).toEqual([l.arrival(1)])
    } finally {
      hub().arrivedHere = original
      l.off()
    }
  })
})

describe('what a look read, taken as heard', () => {
  it('only from a look that ran while this process listened throughout, and never lowering what was heard', async () => {
    const tenantId = randomUUID()
    const inboxId = randomUUID()
    // A look that began before a lost LISTEN connection came back may have read before it: not kept.
    let begun = hub().lookBegins()
    expect(begun).not.toBeNull()
    hub().resync()
    hub().looked(begun, tenantId, inboxId, 3)
    expect(hub().heardUpTo(tenantId, inboxId)).toBeNull()
    // One that began after: kept, for its tenant only.
    begun = hub().lookBegins()
    hub().looked(begun, tenantId, inboxId, 3)
    expect(hub().heardUpTo(tenantId, inboxId)).toBe(3)
    expect(hub().heardUpTo(randomUUID(), inboxId)).toBeNull()
    // An older read does not move it back; a newer one moves it on.
    hub().looked(hub().lookBegins(), tenantId, inboxId, 2)
    expect(hub().heardUpTo(tenantId, inboxId)).toBe(3)
    hub().looked(hub().lookBegins(), tenantId, inboxId, 0)
    expect(hub().heardUpTo(tenantId, inboxId)).toBe(3)
    await notify({ tenantId, inboxId, seq: 5, eventSeq: 5 })
    await until(() => hub().heardUpTo(tenantId, inboxId) === 5)
    hub().looked(hub().lookBegins(), tenantId, inboxId, 4)
    expect(hub().heardUpTo(tenantId, inboxId)).toBe(5)
  })

  it('not at all while this process does not listen', async () => {
    const deaf = await startTestServer()
    try {
      const h = deaf.running.deps.hub
      const begun = h.lookBegins()
      await h.stop()
      expect(h.lookBegins()).toBeNull()
      const tenantId = randomUUID()
      const inboxId = randomUUID()
      h.looked(begun, tenantId, inboxId, 1)
      h.looked(h.lookBegins(), tenantId, inboxId, 1)
      expect(h.heardUpTo(tenantId, inboxId)).toBeNull()
    } finally {
      await deaf.stop()
    }
  })
})
