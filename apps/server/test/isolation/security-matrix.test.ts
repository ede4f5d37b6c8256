// The route-by-route security matrix: every operation in /openapi.json, including routes added
// later, is called with no key, a malformed/revoked/expired key, another tenant's key, another
// inbox's key and an inbox key on tenant-only routes. A new route with path ids or a body needs a
// fixture below, or this test fails and says so.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '../helpers/server.js'
import { sendMail, settled } from '../helpers/mail.js'

interface Operation {
  method: string
  path: string
  operationId: string
  scope: 'tenant' | 'inbox'
}

/** Which kind of id a path segment's parameter is, and its public prefix. */
const SEGMENT_KINDS: Record<string, string> = {
  tenants: 'tnt',
  inboxes: 'inb',
  'api-keys': 'key',
  messages: 'msg',
  threads: 'thr',
  attachments: 'att',
  webhooks: 'whk',
  domains: 'dom',
  deliveries: 'whd',
  suppressions: 'xxx',
  'sender-rules': 'rul',
}

/** A valid body for each write, so validation never hides the answer under test. */
const BODIES: Record<string, unknown> = {
  createTenant: { name: 'matrix-child' },
  updateTenant: { name: 'renamed' },
  createApiKey: { scope: 'tenant' },
  createInbox: { name: 'matrix' },
  updateInbox: { displayName: 'x' },
  sendMessage: { to: 'matrix@example.com', subject: 'matrix', text: 'x' },
  replyToMessage: { text: 'x' },
  forwardMessage: { to: 'matrix@example.com' },
  setInboxLimits: { sendPerMinute: 10 },
  createSuppression: { address: 'matrix@example.com' },
  updateSending: { ipPool: 'shared' },
  resumeSending: {},
  createSenderRule: { direction: 'inbound', action: 'block', pattern: 'matrix.example' },
  createWebhook: { url: 'https://matrix.invalid/hook' },
  updateWebhook: { description: 'x' },
  replayWebhookDelivery: {},
  createDomain: { name: 'matrix.example' },
  verifyDomain: {},
  updateDomain: { catchAllInboxId: null },
}

let server: TestServer
let ops: Operation[]
let ids: Record<string, string>
let t1: Awaited<ReturnType<typeof makeTenant>>
let t2: Awaited<ReturnType<typeof makeTenant>>
let inbox1: Awaited<ReturnType<typeof makeInbox>>
let inbox2: Awaited<ReturnType<typeof makeInbox>>
let revokedKey: string
let clockOffset = 0

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => new Date(Date.now() + clockOffset) } })
  const doc = await (await fetch(`${server.baseUrl}/openapi.json`)).json()
  ops = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string; 'x-mailroom-scope': 'tenant' | 'inbox' }>>)) {
    for (const [method, op] of Object.entries(item)) {
      ops.push({ method: method.toUpperCase(), path, operationId: op.operationId, scope: op['x-mailroom-scope'] })
    }
  }
  t1 = await makeTenant(server, 't1')
  t2 = await makeTenant(server, 't2')
  inbox1 = await makeInbox(server, t1)
  inbox2 = await makeInbox(server, t1)
  const child = await makeChild(t1, server)
  const key = await t1.api.post('/v1/api-keys', { scope: 'tenant', name: 'fixture' })
  const revoked = await t1.api.post('/v1/api-keys', { scope: 'tenant' })
  revokedKey = revoked.body.key
  expect((await t1.api.delete(`/v1/api-keys/${revoked.body.id}`)).status).toBe(204)
  const hook = await t1.api.post('/v1/webhooks', { url: 'https://matrix.invalid/hook' })
  expect(hook.status).toBe(201)
  const domain = await t1.api.post('/v1/domains', { name: 'fixture.example' })
  expect(domain.status).toBe(201)
  await sendMail(server, { to: inbox1.address, subject: 'fixture', text: 'hello', attachments: [{ filename: 'a.txt', content: 'A' }] })
  await settled(server)
  expect((await t1.api.post('/v1/suppressions', { address: 'fixture@example.com' })).status).toBe(201)
  const rule = await t1.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: 'fixture.example' })
  expect(rule.status).toBe(201)
  const [message] = (await inbox1.api.get(`/v1/inboxes/${inbox1.id}/messages`)).body.data
  ids = {
    tenants: child.id,
    inboxes: inbox1.id,
    'api-keys': key.body.id,
    messages: message.id,
    attachments: message.attachments[0].id,
    threads: message.threadId,
    suppressions: 'fixture@example.com',
    'sender-rules': rule.body.id,
    webhooks: hook.body.id,
    domains: domain.body.id,
    deliveries: (await t1.api.get(`/v1/webhooks/${hook.body.id}/deliveries`)).body.data[0].id,
  }
})
afterAll(() => server?.stop())

function fill(path: string, pick: (segment: string) => string): string {
  return path.replace(/\{(\w+)\}/g, (_m, _name, offset: number) => {
    const segment = path.slice(0, offset).split('/').filter(Boolean).pop()!
    return pick(segment)
  })
}

const realPath = (op: Operation) =>
  fill(op.path, (segment) => {
    const id = ids[segment]
    if (!id) throw new Error(`security matrix: add a fixture id for "{…}" after /${segment}/ in ${op.method} ${op.path}`)
    return id
  })

const missingPath = (op: Operation) =>
  fill(op.path, (segment) => `${SEGMENT_KINDS[segment] ?? 'xxx'}_${randomBytes(16).toString('hex')}`)

function bodyFor(op: Operation): unknown {
  if (op.method === 'GET' || op.method === 'DELETE') return undefined
  if (!(op.operationId in BODIES)) throw new Error(`security matrix: add a valid body for ${op.operationId}`)
  return BODIES[op.operationId]
}

const call = (key: string | undefined, op: Operation, path: string, headers: Record<string, string> = {}) =>
  client(server.baseUrl, key).call(op.method, path, bodyFor(op), headers)

describe('security matrix over every route in the OpenAPI document', () => {
  it('covers the routes we know of (and whatever comes later)', () => {
    expect(ops.length).toBeGreaterThanOrEqual(14)
    for (const op of ops) expect(['tenant', 'inbox'], `${op.method} ${op.path} declares no x-mailroom-scope`).toContain(op.scope)
  })

  it('no key, a malformed key, a revoked key: 401 on every route', async () => {
    for (const op of ops) {
      for (const [label, key] of [
        ['no key', undefined],
        ['malformed', 'mr_tk_short'],
        ['garbage', 'hello world'],
        ['unknown', `mr_tk_${'A'.repeat(40)}`],
        ['revoked', revokedKey],
      ] as const) {
        const res = await call(key, op, realPath(op))
        expect({ route: `${op.method} ${op.path}`, label, status: res.status, code: res.body?.error?.code }).toEqual({
          route: `${op.method} ${op.path}`,
          label,
          status: 401,
          code: 'unauthorized',
        })
      }
    }
  })

  it('an expired key: 401 on every route', async () => {
    const res = await t1.api.post('/v1/api-keys', { scope: 'tenant', expiresAt: new Date(Date.now() + 60_000).toISOString() })
    expect(res.status).toBe(201)
    clockOffset = 120_000
    try {
      for (const op of ops) {
        const r = await call(res.body.key, op, realPath(op))
        expect({ route: `${op.method} ${op.path}`, status: r.status, message: r.body?.error?.message }).toEqual({
          route: `${op.method} ${op.path}`,
          status: 401,
          message: 'this API key has expired',
        })
      }
    } finally {
      clockOffset = 0
    }
  })

  it("another tenant's key on this tenant's ids: 404, the same body as a missing id", async () => {
    for (const op of ops.filter((o) => o.path.includes('{'))) {
      const missing = await call(t1.key, op, missingPath(op))
      const foreign = await call(t2.key, op, realPath(op))
      const route = `${op.method} ${op.path}`
      expect({ route, status: missing.status }).toEqual({ route, status: 404 })
      expect({ route, status: foreign.status, code: foreign.body.error.code, message: foreign.body.error.message }).toEqual({
        route,
        status: 404,
        code: missing.body.error.code,
        message: missing.body.error.message,
      })
      expect(Object.keys(foreign.body.error).sort()).toEqual(Object.keys(missing.body.error).sort())
    }
  })

  it("another tenant's key acting as this tenant via Mailroom-Tenant: 404", async () => {
    for (const op of ops) {
      const res = await call(t2.key, op, realPath(op), { 'mailroom-tenant': t1.id })
      expect({ route: `${op.method} ${op.path}`, status: res.status }).toEqual({ route: `${op.method} ${op.path}`, status: 404 })
    }
  })

  it('an inbox key on a tenant-management route: 403', async () => {
    for (const op of ops.filter((o) => o.scope === 'tenant')) {
      const res = await call(inbox1.key, op, realPath(op))
      expect({ route: `${op.method} ${op.path}`, status: res.status, code: res.body.error.code }).toEqual({
        route: `${op.method} ${op.path}`,
        status: 403,
        code: 'forbidden',
      })
    }
  })

  it('an inbox key used on another inbox: 404', async () => {
    const inboxRoutes = ops.filter((o) => o.scope === 'inbox' && o.path.startsWith('/v1/inboxes/{id}'))
    expect(inboxRoutes.length).toBeGreaterThan(0)
    for (const op of inboxRoutes) {
      const res = await call(inbox2.key, op, realPath(op))
      expect({ route: `${op.method} ${op.path}`, status: res.status, code: res.body.error.code }).toEqual({
        route: `${op.method} ${op.path}`,
        status: 404,
        code: 'not_found',
      })
    }
  })

  it('the right keys do get through (the matrix is not passing by accident)', async () => {
    const get = await t1.api.get(`/v1/inboxes/${inbox1.id}`)
    expect(get.status).toBe(200)
    expect((await inbox1.api.get(`/v1/inboxes/${inbox1.id}`)).status).toBe(200)
    expect((await t1.api.get(`/v1/tenants/${ids.tenants}`)).status).toBe(200)
    expect((await inbox1.api.get(`/v1/inboxes/${inbox1.id}/messages/${ids.messages}/attachments/${ids.attachments}`)).text).toBe('A')
  })
})
