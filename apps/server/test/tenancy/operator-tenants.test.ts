// The operator administers the top-level tenants (its customers) with the operator key, without
// acting inside one: lists them (GET /v1/tenants), reads any tenant (GET /v1/tenants/{id}), and
// suspends, resumes, limits and imposes policies on any tenant, a top-level one too (PATCH). Before,
// a top-level tenant's status and limits could be set by no one after its creation (it has no
// parent, and a tenant may not set its own), and the operator learnt tenant ids from the CLI only.
// A tenant's status, limits and imposed policies are its parent's or the operator's to set, and
// Postgres holds to it (the tenants_tree trigger, migration 0037), not only the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { client, makeChild, makeInbox, startTestServer, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { rcptReply } from '@mailroom/testkit/mail'
import { boundStatement } from '../helpers/bound-statement.js'
import { fromPublicId } from '../../src/lib/ids.js'

const OPERATOR_KEY = 'operator-tenants-test-key-0123456789abcdef'
let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ config: { operatorKey: OPERATOR_KEY } })
})
afterAll(() => server?.stop())

const operator = () => client(server.baseUrl, OPERATOR_KEY)

/** A top-level tenant, made by the operator. */
async function customer(name: string): Promise<TenantFixture> {
  const created = await operator().post('/v1/tenants', { name })
  expect(created.status).toBe(201)
  return { id: created.body.id, key: created.body.apiKey, api: client(server.baseUrl, created.body.apiKey) }
}

/** Every top-level tenant the operator lists, page by page (`limit` a page). */
async function listed(limit: number): Promise<{ id: string; parentId: string | null }[]> {
  const seen: { id: string; parentId: string | null }[] = []
  let after: string | null = null
  do {
    const page = await operator().get(`/v1/tenants?limit=${limit}${after ? `&after=${after}` : ''}`)
    expect(page.status, JSON.stringify(page.body)).toBe(200)
    expect(page.body.data.length).toBeLessThanOrEqual(limit)
    seen.push(...page.body.data)
    after = page.body.nextCursor
  } while (after)
  return seen
}

/** An update of tenant `id`'s row (its one row) in a transaction bound to `boundTo`; the Postgres error code, or 'ok'. */
const updateBoundTo = (boundTo: TenantFixture, id: TenantFixture, set: ReturnType<typeof sql>, operatorSays = false): Promise<string> =>
  boundStatement(server.db.runtime, fromPublicId('tenant', boundTo.id)!, sql`update tenants set ${set} where id = ${fromPublicId('tenant', id.id)} returning id`, {
    rows: 1,
    ...(operatorSays ? { checked: 'operator' as const } : {}),
  })

describe('the operator and the top-level tenants', () => {
  it('lists the top-level tenants, newest first, page by page, and no child among them; a tenant key lists its own children only', async () => {
    const made = [await customer('first'), await customer('second'), await customer('third')]
    const child = await makeChild(made[0]!, server, 'a child')
    const all = await listed(2)
    const ids = all.map((t) => t.id)
    // Newest first (tenants of this file's other tests may be among them).
    expect(ids.filter((id) => made.some((m) => m.id === id))).toEqual(made.map((m) => m.id).reverse())
    expect(ids).not.toContain(child.id)
    expect(all.every((t) => t.parentId === null)).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    expect((await listed(100)).map((t) => t.id)).toEqual(ids)

    const own = await made[0]!.api.get('/v1/tenants')
    expect(own.body.data.map((t: { id: string }) => t.id)).toEqual([child.id])
    const bad = await operator().get('/v1/tenants?after=garbage')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('validation_error')
  })

  it('reads any tenant by its id, a nested one too; an id of no tenant is not found', async () => {
    const top = await customer('readable')
    const child = await makeChild(top, server, 'nested')
    const got = await operator().get(`/v1/tenants/${top.id}`)
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({ id: top.id, name: 'readable', parentId: null, status: 'active' })
    expect((await operator().get(`/v1/tenants/${child.id}`)).body).toMatchObject({ id: child.id, parentId: top.id })
    const none = await operator().get(`/v1/tenants/tnt_${'0'.repeat(31)}1`)
    expect(none.status).toBe(404)
    expect(none.body.error.code).toBe('not_found')
  })

  it("suspends a top-level tenant: its keys and its descendants' answer 403 tenant_suspended, its addresses 451; resumed, all of it works again; its audit log names the operator", async () => {
    const top = await customer('suspendable')
    const child = await makeChild(top, server, 'its child')
    const inbox = await makeInbox(server, top)
    const stranger = await customer('unaffected')
    expect(await rcptReply(server.running.smtpPort, inbox.address)).toMatch(/^250/)

    const suspended = await operator().patch(`/v1/tenants/${top.id}`, { status: 'suspended' })
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200)
    expect(suspended.body.status).toBe('suspended')
    for (const t of [top, child]) {
      const res = await t.api.get('/v1/me')
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('tenant_suspended')
    }
    expect(await rcptReply(server.running.smtpPort, inbox.address)).toMatch(/^451/)
    expect((await stranger.api.get('/v1/me')).status).toBe(200)
    expect((await operator().get(`/v1/tenants/${top.id}`)).body.status).toBe('suspended')

    expect((await operator().patch(`/v1/tenants/${top.id}`, { status: 'active' })).body.status).toBe('active')
    for (const t of [top, child]) expect((await t.api.get('/v1/me')).status).toBe(200)
    expect(await rcptReply(server.running.smtpPort, inbox.address)).toMatch(/^250/)
    const log = await top.api.get('/v1/audit-log')
    const actions = log.body.data.map((e: { action: string; actor: { kind: string } }) => `${e.action} by ${e.actor.kind}`)
    expect(actions).toEqual(expect.arrayContaining(['tenant.suspended by operator', 'tenant.resumed by operator']))
  })

  it('sets the limits and imposed policies of a top-level tenant, which the tenant cannot undo; a nested tenant stays within its parent', async () => {
    const top = await customer('limited')
    const set = await operator().patch(`/v1/tenants/${top.id}`, { limits: { maxInboxes: 1 }, policies: { outboundApproval: 'all' } })
    expect(set.status, JSON.stringify(set.body)).toBe(200)
    expect(set.body.limits).toMatchObject({ maxInboxes: 1 })
    // Imposed (the tenant's own policies are its own to set).
    expect(set.body.parentPolicies).toEqual({ outboundApproval: 'all' })
    expect(set.body.policies).toEqual({})
    expect((await top.api.post('/v1/inboxes', { name: 'one' })).status).toBe(201)
    const second = await top.api.post('/v1/inboxes', { name: 'two' })
    expect(second.status).toBe(422)
    expect(second.body.error.code).toBe('quota_exceeded')
    // The tenant itself: not its limits; its policies are its own, the imposed ones stay.
    expect((await top.api.patch(`/v1/tenants/${top.id}`, { limits: { maxInboxes: 5 } })).status).toBe(403)
    const own = await top.api.patch(`/v1/tenants/${top.id}`, { policies: { outboundApproval: 'none' } })
    expect(own.body).toMatchObject({ policies: { outboundApproval: 'none' }, parentPolicies: { outboundApproval: 'all' } })
    expect(own.body.effectivePolicies.outboundApproval).toEqual(['all'])

    // A nested tenant, changed by the operator as its parent would: within the parent's limits.
    const child = await makeChild(top, server, 'nested')
    const over = await operator().patch(`/v1/tenants/${child.id}`, { limits: { maxInboxes: 2 } })
    expect(over.status).toBe(400)
    expect(over.body.error.message).toMatch(/maxInboxes/)
    expect((await operator().patch(`/v1/tenants/${child.id}`, { limits: { maxInboxes: 1 }, status: 'suspended' })).body).toMatchObject({ status: 'suspended', limits: { maxInboxes: 1 } })
    // Made with limits by the operator: they hold from the start.
    const made = await operator().post('/v1/tenants', { name: 'made limited', limits: { maxInboxes: 3 } })
    expect(made.status).toBe(201)
    expect((await operator().get(`/v1/tenants/${made.body.id}`)).body.limits).toMatchObject({ maxInboxes: 3 })
  })

  it("Postgres refuses a tenant's own change of its status, limits or imposed policies, whatever the statement; its parent's and the operator's pass", async () => {
    const top = await customer('guarded')
    const child = await makeChild(top, server, 'guarded child')
    // Bound to itself: refused (42501), for the top-level tenant and the child alike.
    for (const t of [top, child]) {
      expect(await updateBoundTo(t, t, sql`status = 'suspended'`)).toBe('42501')
      expect(await updateBoundTo(t, t, sql`limits = '{"maxInboxes": 1000}'::jsonb`)).toBe('42501')
      expect(await updateBoundTo(t, t, sql`parent_policies = '{"quarantine": {"minRisk": "high"}}'::jsonb`)).toBe('42501')
      // What is its own to change: its name, its own policies, its metadata.
      expect(await updateBoundTo(t, t, sql`name = 'renamed', policies = '{"outboundApproval": "all"}'::jsonb, metadata = '{"a": 1}'::jsonb`)).toBe('ok')
    }
    // The parent, bound to itself, changes its child; the operator's change of a top-level tenant says so.
    expect(await updateBoundTo(top, child, sql`status = 'suspended', limits = '{"maxInboxes": 1}'::jsonb, parent_policies = '{"outboundApproval": "all"}'::jsonb`)).toBe('ok')
    expect(await updateBoundTo(top, top, sql`status = 'suspended', limits = '{"maxInboxes": 1}'::jsonb`, true)).toBe('ok')
  })

  it("reads a top-level tenant's sending, assigns its IP pool and resumes it; another tenant's key cannot", async () => {
    const top = await customer('sender')
    const other = await customer('other')
    const state = await operator().get(`/v1/tenants/${top.id}/sending`)
    expect(state.status, JSON.stringify(state.body)).toBe(200)
    expect(state.body).toMatchObject({ paused: false, ipPool: 'shared' })
    expect((await operator().patch(`/v1/tenants/${top.id}/sending`, { ipPool: 'shared' })).status).toBe(200)
    expect((await operator().post(`/v1/tenants/${top.id}/sending/resume`, {})).body).toMatchObject({ paused: false })
    expect((await operator().get(`/v1/tenants/tnt_${'0'.repeat(31)}1/sending`)).status).toBe(404)
    expect((await other.api.get(`/v1/tenants/${top.id}/sending`)).status).toBe(404)
    expect((await other.api.post(`/v1/tenants/${top.id}/sending/resume`, {})).status).toBe(404)
    // Its own key reads its own state, and cannot resume itself.
    expect((await top.api.get(`/v1/tenants/${top.id}/sending`)).status).toBe(200)
    expect((await top.api.post(`/v1/tenants/${top.id}/sending/resume`, {})).status).toBe(403)
  })

  it('no tenant key does any of it: the top-level list, another top-level tenant, its own status', async () => {
    const a = await customer('a')
    const b = await customer('b')
    expect((await a.api.get('/v1/tenants')).body.data).toEqual([])
    expect((await a.api.get(`/v1/tenants/${b.id}`)).status).toBe(404)
    expect((await a.api.patch(`/v1/tenants/${b.id}`, { status: 'suspended' })).status).toBe(404)
    expect((await a.api.patch(`/v1/tenants/${a.id}`, { status: 'suspended' })).status).toBe(403)
    expect((await operator().get(`/v1/tenants/${b.id}`)).body.status).toBe('active')
  })
})
