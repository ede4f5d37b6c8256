// The route-by-route security matrix: every operation in /openapi.json, including routes added
// later, gets a test of its own that calls it with no key, a malformed/revoked/expired key, another
// tenant's key (directly and through Mailroom-Tenant), another inbox's key and an inbox key on
// tenant-only routes, and then with the right key, which must get through (so the matrix cannot
// pass by refusing everything). A new route with path ids or a body needs a fixture below, or its
// test fails and says so.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { client, makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'
import { sendMail, settled } from '@mailroom/testkit/mail'
import { waitUntil } from '@mailroom/testkit'

interface Operation {
  method: string
  path: string
  operationId: string
  scope: 'tenant' | 'inbox'
}

/** The operations in the document today: the matrix may grow, never shrink unnoticed. */
const KNOWN_OPERATIONS = 71

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
  drafts: 'drf',
  contacts: 'con',
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
  releaseMessage: {},
  approveMessage: {},
  rejectMessage: { reason: 'matrix' },
  cancelMessage: {},
  createDraft: { to: 'matrix@example.com', subject: 'draft' },
  updateDraft: { text: 'x' },
  sendDraft: {},
  updateMessage: { seen: true, addLabels: ['handled'] },
  updateContact: { name: 'Matrix', tags: ['vendor'] },
}

/** Operations that use their object up (like a delete): the right key is tried once, with the tenant key. */
const CONSUMED = new Set(['sendDraft'])

/** Query strings some operations need to answer at once (a wait would otherwise hold for 25 s). */
const QUERIES: Record<string, string> = { waitForMessage: '?timeout=0', getUsage: '?from=2026-01-01&to=2026-12-31', searchMessages: '?q=hello' }

let clockOffset = 0
// The document is read before the tests are collected: one test per operation it lists.
const server: TestServer = await startTestServer({ clock: { now: () => new Date(Date.now() + clockOffset) } })
const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
  paths: Record<string, Record<string, { operationId: string; 'x-mailroom-scope': 'tenant' | 'inbox' }>>
}
const ops: Operation[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, operationId: op.operationId, scope: op['x-mailroom-scope'] })),
)

let ids: Record<string, string>
let t1: Awaited<ReturnType<typeof makeTenant>>
let t2: Awaited<ReturnType<typeof makeTenant>>
let inbox1: Awaited<ReturnType<typeof makeInbox>>
let inbox2: Awaited<ReturnType<typeof makeInbox>>
let revokedKey: string
let expiredKey: string

beforeAll(async () => {
  t1 = await makeTenant(server, 't1')
  t2 = await makeTenant(server, 't2')
  inbox1 = await makeInbox(server, t1)
  inbox2 = await makeInbox(server, t1)
  const child = await makeChild(t1, server)
  const key = await t1.api.post('/v1/api-keys', { scope: 'tenant', name: 'fixture' })
  const revoked = await t1.api.post('/v1/api-keys', { scope: 'tenant' })
  revokedKey = revoked.body.key
  expect((await t1.api.delete(`/v1/api-keys/${revoked.body.id}`)).status).toBe(204)
  const expiring = await t1.api.post('/v1/api-keys', { scope: 'tenant', expiresAt: new Date(Date.now() + 60_000).toISOString() })
  expect(expiring.status).toBe(201)
  expiredKey = expiring.body.key
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
    drafts: (await inbox1.api.post(`/v1/inboxes/${inbox1.id}/drafts`, { to: 'fixture@example.org', subject: 'fixture draft', text: 'x' })).body.id,
    contacts: (await inbox1.api.get(`/v1/inboxes/${inbox1.id}/contacts`)).body.data[0].id,
  }
})
afterAll(() => server?.stop())

function fill(path: string, pick: (segment: string) => string): string {
  return path.replace(/\{(\w+)\}/g, (_m, _name, offset: number) => {
    const segment = path.slice(0, offset).split('/').filter(Boolean).pop()!
    return pick(segment)
  })
}

const pathWith = (op: Operation, chosen: Record<string, string>) =>
  fill(op.path, (segment) => {
    const id = chosen[segment]
    if (!id) throw new Error(`security matrix: add a fixture id for "{…}" after /${segment}/ in ${op.method} ${op.path}`)
    return id
  }) + (QUERIES[op.operationId] ?? '')

const realPath = (op: Operation) => pathWith(op, ids)

const missingPath = (op: Operation) => fill(op.path, (segment) => `${SEGMENT_KINDS[segment] ?? 'xxx'}_${randomBytes(16).toString('hex')}`) + (QUERIES[op.operationId] ?? '')

function bodyFor(op: Operation): unknown {
  if (op.method === 'GET' || op.method === 'DELETE') return undefined
  if (!(op.operationId in BODIES)) throw new Error(`security matrix: add a valid body for ${op.operationId}`)
  return BODIES[op.operationId]
}

/** One call; an event stream is read only up to its status (it never ends by itself). */
async function call(key: string | undefined, op: Operation, path: string, headers: Record<string, string> = {}) {
  if (op.operationId === 'streamEvents') {
    const abort = new AbortController()
    const res = await fetch(server.baseUrl + path, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, signal: abort.signal })
    const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null
    abort.abort()
    return { status: res.status, body }
  }
  return client(server.baseUrl, key).call(op.method, path, bodyFor(op), headers)
}

/**
 * Ids for the right key's call: the shared fixtures, except that a delete gets an object of its own
 * made just now (deleting a shared fixture would change what the next operation's test sees).
 */
async function fixturesForSuccess(op: Operation): Promise<Record<string, string>> {
  if (op.operationId === 'releaseMessage') {
    // A quarantined message of its own: an inbox whose policy quarantines everything.
    const held = await t1.api.post('/v1/inboxes', { name: `held-${randomBytes(3).toString('hex')}`, policies: { quarantine: { minScore: 0 } } })
    await sendMail(server, { to: held.body.address, subject: 'held', text: 'x' })
    await settled(server)
    const [message] = (await t1.api.get(`/v1/inboxes/${held.body.id}/messages?quarantined=true`)).body.data
    return { ...ids, inboxes: held.body.id, messages: message.id }
  }
  if (op.operationId === 'approveMessage' || op.operationId === 'rejectMessage') {
    // Mail of its own held for approval: an inbox whose policy holds everything its key sends.
    const held = await t1.api.post('/v1/inboxes', { name: `approval-${randomBytes(3).toString('hex')}`, policies: { outboundApproval: 'all' }, createKey: true })
    const sent = await client(server.baseUrl, held.body.apiKey).post(`/v1/inboxes/${held.body.id}/messages`, { to: 'matrix@example.com', subject: 'held', text: 'x' })
    expect(sent.status).toBe(202)
    return { ...ids, inboxes: held.body.id, messages: sent.body.id }
  }
  if (op.operationId === 'cancelMessage') {
    // A scheduled send of inbox1's own (cancelled by the tenant key, then again by the inbox key).
    const at = new Date(Date.now() + 3_600_000).toISOString()
    const sent = await inbox1.api.post(`/v1/inboxes/${inbox1.id}/messages`, { to: 'matrix@example.com', subject: 'later', text: 'x', sendAt: at })
    expect(sent.body.status).toBe('scheduled')
    return { ...ids, messages: sent.body.id }
  }
  if (op.operationId === 'sendDraft') {
    // Sending uses the draft up: one of its own (sent by the tenant key only, see CONSUMED).
    const draft = await inbox1.api.post(`/v1/inboxes/${inbox1.id}/drafts`, { to: 'matrix@example.com', subject: 'to send', text: 'x' })
    return { ...ids, drafts: draft.body.id }
  }
  if (op.method !== 'DELETE') return ids
  const kind = op.path.split('/').filter(Boolean).at(-2)!
  const mine = { ...ids }
  if (kind === 'tenants') mine.tenants = (await makeChild(t1, server, 'doomed')).id
  else if (kind === 'inboxes') mine.inboxes = (await makeInbox(server, t1)).id
  else if (kind === 'api-keys') mine['api-keys'] = (await t1.api.post('/v1/api-keys', { scope: 'tenant' })).body.id
  else if (kind === 'suppressions') mine.suppressions = (await t1.api.post('/v1/suppressions', { address: `doomed-${randomBytes(4).toString('hex')}@example.com` })).body.address
  else if (kind === 'sender-rules') mine['sender-rules'] = (await t1.api.post('/v1/sender-rules', { direction: 'inbound', action: 'block', pattern: `doomed${randomBytes(4).toString('hex')}.example` })).body.id
  else if (kind === 'webhooks') mine.webhooks = (await t1.api.post('/v1/webhooks', { url: 'https://doomed.invalid/hook' })).body.id
  else if (kind === 'drafts') mine.drafts = (await inbox1.api.post(`/v1/inboxes/${inbox1.id}/drafts`, { subject: 'doomed' })).body.id
  else if (kind === 'domains') mine.domains = (await t1.api.post('/v1/domains', { name: `doomed${randomBytes(4).toString('hex')}.example` })).body.id
  else if (kind === 'messages') {
    await sendMail(server, { to: inbox1.address, subject: 'doomed', text: 'x' })
    await settled(server)
    mine.messages = (await inbox1.api.get(`/v1/inboxes/${inbox1.id}/messages?subject=doomed&limit=1`)).body.data[0].id
  } else if (kind === 'contacts') {
    const from = `doomed-${randomBytes(4).toString('hex')}@example.com`
    await sendMail(server, { from, to: inbox1.address, subject: 'doomed contact', text: 'x' })
    await settled(server)
    mine.contacts = (await inbox1.api.get(`/v1/inboxes/${inbox1.id}/contacts?q=${from}`)).body.data[0].id
  } else throw new Error(`security matrix: add a disposable fixture for DELETE ${op.path}`)
  return mine
}

describe('security matrix over every route in the OpenAPI document', () => {
  it('covers every operation the document lists, and no fewer than are known today', () => {
    expect(ops.length).toBeGreaterThanOrEqual(KNOWN_OPERATIONS)
    for (const op of ops) expect(['tenant', 'inbox'], `${op.method} ${op.path} declares no x-mailroom-scope`).toContain(op.scope)
  })

  it.each(ops.map((op) => [`${op.method} ${op.path}`, op] as const))('%s', async (_name, op) => {
    // No key, a malformed key, a revoked key: 401.
    for (const [label, key] of [
      ['no key', undefined],
      ['malformed', 'mr_tk_short'],
      ['garbage', 'hello world'],
      ['unknown', `mr_tk_${'A'.repeat(40)}`],
      ['revoked', revokedKey],
    ] as const) {
      const res = await call(key, op, realPath(op))
      expect({ label, status: res.status, code: res.body?.error?.code }).toEqual({ label, status: 401, code: 'unauthorized' })
    }

    // An expired key: 401.
    clockOffset = 120_000
    try {
      const r = await call(expiredKey, op, realPath(op))
      expect({ status: r.status, message: r.body?.error?.message }).toEqual({ status: 401, message: 'this API key has expired' })
    } finally {
      clockOffset = 0
    }

    // Another tenant's key on this tenant's ids: 404, the very body a missing id gets.
    if (op.path.includes('{')) {
      const missing = await call(t1.key, op, missingPath(op))
      const foreign = await call(t2.key, op, realPath(op))
      expect(missing.status).toBe(404)
      expect({ status: foreign.status, code: foreign.body.error.code, message: foreign.body.error.message }).toEqual({
        status: 404,
        code: missing.body.error.code,
        message: missing.body.error.message,
      })
      expect(Object.keys(foreign.body.error).sort()).toEqual(Object.keys(missing.body.error).sort())
    }

    // Another tenant's key acting as this tenant through Mailroom-Tenant: 404.
    expect((await call(t2.key, op, realPath(op), { 'mailroom-tenant': t1.id })).status).toBe(404)

    // An inbox key: 403 on a tenant route; 404 on another inbox's routes.
    if (op.scope === 'tenant') {
      const res = await call(inbox1.key, op, realPath(op))
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 403, code: 'forbidden' })
    } else if (op.path.startsWith('/v1/inboxes/{id}')) {
      const res = await call(inbox2.key, op, realPath(op))
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 404, code: 'not_found' })
    }

    // And the right key gets through: the tenant's key, or for inbox routes the inbox's own key too.
    const mine = await fixturesForSuccess(op)
    const keys = op.scope === 'inbox' && op.path.startsWith('/v1/inboxes/{id}') ? [t1.key, inbox1.key] : [t1.key]
    for (const key of op.method === 'DELETE' || CONSUMED.has(op.operationId) ? [t1.key] : keys) {
      // A replay asked while the worker is trying that delivery is refused for that moment (409, "being
      // sent right now"; the fixture's endpoint fails, so it is tried again and again): ask once it is not.
      const res =
        op.operationId === 'replayWebhookDelivery'
          ? await waitUntil('the delivery is not being sent', async () => {
              const r = await call(key, op, pathWith(op, mine))
              return r.status === 409 && r.body?.error?.message === 'this delivery is being sent right now' ? null : r
            })
          : await call(key, op, pathWith(op, mine))
      expect({ key: key === t1.key ? 'tenant key' : 'inbox key', status: res.status, error: res.body?.error }).toMatchObject({ status: expect.any(Number), error: undefined })
      expect(res.status).toBeLessThan(300)
    }
  })
})
