// Dedicated infrastructure for one tenant (issue 20): on a Citus cluster (MAILROOM_TEST_CITUS_URL),
// the operator moves a tenant and its child to shards of their own on another worker while mail keeps
// arriving over SMTP, and nothing answered 250 is lost; the placement is the operator's to see.
// Everywhere else, the operator route says it needs Citus, and nobody else finds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { listAll, sendMail, settled } from '@mailroom/testkit/mail'
import { onCitus } from '@mailroom/testkit/db'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'

const OPERATOR_KEY = `mr_op_${randomBytes(24).toString('hex')}`
let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ config: { operatorKey: OPERATOR_KEY } })
})
afterAll(() => server?.stop())

const operator = () => client(server.baseUrl, OPERATOR_KEY)

describe('the operator route to dedicate a tenant', () => {
  it('is no route for a tenant key or an inbox key (the answer a missing route gets)', async () => {
    const t = await makeTenant(server, 'curious')
    const inbox = await makeInbox(server, t)
    for (const key of [t.key, inbox.key]) {
      const res = await client(server.baseUrl, key).post(`/v1/operator/tenants/${t.id}/dedicate`, { node: '127.0.0.1:5442' })
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 404, code: 'not_found' })
    }
  })

  it.skipIf(onCitus)('says it needs a Citus cluster when the database is not one, and shows no placement', async () => {
    const t = await makeTenant(server, 'single')
    const res = await operator().post(`/v1/operator/tenants/${t.id}/dedicate`, { node: '127.0.0.1:5442' })
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 409, code: 'conflict' })
    expect(res.body.error.message).toMatch(/Citus/)
    const got = await operator().get(`/v1/tenants/${t.id}`, { 'mailroom-tenant': t.id })
    expect(got.status).toBe(200)
    expect(got.body.placement).toBeUndefined()
  })
})

describe.skipIf(!onCitus)('dedicated infrastructure on Citus', () => {
  it('moves a tenant and its child to a worker of their own while mail keeps arriving over SMTP; every message answered 250 is there', async () => {
    const t = await makeTenant(server, 'large')
    const inbox = await makeInbox(server, t)
    const child = await makeChild(t, server, 'regulated')
    const neighbour = await makeTenant(server, 'neighbour')

    const before = await operator().get(`/v1/tenants/${t.id}`, { 'mailroom-tenant': t.id })
    expect(before.body.placement).toMatchObject({ dedicated: false })
    const [host, port] = String(before.body.placement.node).split(':')
    const target = `${host}:${port === '5442' ? '5443' : '5442'}`
    // A tenant never sees where it lives.
    expect((await t.api.get(`/v1/tenants/${t.id}`)).body.placement).toBeUndefined()

    // Mail before the move, during it (a steady trickle over SMTP, one message after the other as
    // an MTA sends), and after it. Every message answered 250 must be there afterwards; one answered
    // 4xx (try again later) is sent again, as an MTA would.
    const accepted: string[] = []
    const spans: { from: number; to: number; retried: boolean }[] = []
    let stop = false
    const deliver = async (subject: string) => {
      for (;;) {
        const from = Date.now()
        try {
          await sendMail(server, { to: inbox.address, subject, text: `message ${subject}` })
          spans.push({ from, to: Date.now(), retried: false })
          accepted.push(subject)
          return
        } catch (err) {
          const code = (err as { responseCode?: number }).responseCode
          if (code === undefined || code < 400 || code >= 500) throw err
          spans.push({ from, to: Date.now(), retried: true })
        }
      }
    }
    let n = 0
    const trickle = (async () => {
      while (!stop) await deliver(`mail ${n++}`)
    })()
    let failure: unknown = null
    trickle.catch((err: unknown) => (failure = err))
    const until = async (cond: () => boolean) => {
      while (!cond()) {
        if (failure) throw failure
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await until(() => accepted.length >= 3)
    const moveFrom = Date.now()
    const moved = await operator().post(`/v1/operator/tenants/${t.id}/dedicate`, { node: target })
    const moveTo = Date.now()
    const atEnd = accepted.length
    await until(() => accepted.length >= atEnd + 3)
    stop = true
    await trickle
    expect(moved.status).toBe(200)
    expect(moved.body.data.map((s: { tenantId: string }) => s.tenantId).sort()).toEqual([t.id, child.id].sort())
    for (const step of moved.body.data) expect(step).toMatchObject({ node: target, dedicated: true })
    // The SMTP transactions that overlapped the move (the trickle never pauses, so there are some).
    const during = spans.filter((x) => x.from < moveTo && x.to > moveFrom)
    expect(during.length).toBeGreaterThan(0)
    const ok = during.filter((x) => !x.retried)
    process.stdout.write(
      `[mailroom] dedicate under a trickle of mail: move ${moveTo - moveFrom} ms; ${accepted.length} messages answered 250, ` +
        `${spans.filter((x) => x.retried).length} answered 4xx and sent again; during the move ${ok.length} answered 250 ` +
        `(slowest ${Math.max(0, ...ok.map((x) => x.to - x.from))} ms) and ${during.length - ok.length} 4xx\n`,
    )

    await settled(server)
    const received = await listAll(inbox.api, `/v1/inboxes/${inbox.id}/messages`)
    const subjects = received.map((m: { subject: string }) => m.subject)
    // Everything answered 250 is there, once; nothing else is.
    expect([...subjects].sort()).toEqual([...accepted].sort())
    // The tenant's mail now lives on the node it was moved to (every colocated table: messages too).
    const [where] = await rawRows<{ node: string }>(
      server.db.owner.db,
      sql`select n.nodename || ':' || n.nodeport as node from pg_dist_placement p join pg_dist_node n on n.groupid = p.groupid
          where p.shardid = get_shard_id_for_distribution_column('messages'::regclass, ${fromPublicId('tenant', t.id)!}::uuid)`,
    )
    expect(where?.node).toBe(target)

    for (const id of [t.id, child.id]) {
      const after = await operator().get(`/v1/tenants/${id}`, { 'mailroom-tenant': id })
      expect(after.body.placement).toMatchObject({ node: target, dedicated: true })
    }
    // The neighbour stays on a shared shard.
    const other = await operator().get(`/v1/tenants/${neighbour.id}`, { 'mailroom-tenant': neighbour.id })
    expect(other.body.placement).toMatchObject({ dedicated: false })
    // Idempotent: asked again, nothing to split or move.
    const again = await operator().post(`/v1/operator/tenants/${t.id}/dedicate`, { node: target })
    for (const step of again.body.data) expect(step).toMatchObject({ isolated: false, moved: false, node: target })
  }, 900_000)
})
