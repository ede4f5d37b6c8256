// Strings Postgres cannot store (a NUL, an unpaired surrogate) are a 400 naming the field, in the
// body, the query and the path of every route: never a failed query answered 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeInbox, makeTenant, startTestServer, type InboxFixture, type TenantFixture, type TestServer } from '@mailroom/testkit/server'
import { findUnstorable, unstorable } from '../../src/http/storable.js'

let server: TestServer
let tenant: TenantFixture
let inbox: InboxFixture

beforeAll(async () => {
  server = await startTestServer()
  tenant = await makeTenant(server, 'strings')
  inbox = await makeInbox(server, tenant, 'agent')
})
afterAll(() => server?.stop())

// JSON text with the escapes as a client would send them (JSON.stringify would keep a lone surrogate too).
const BAD: [string, string][] = [
  ['NUL', 'a\\u0000b'],
  ['lone high surrogate', '\\ud800'],
  ['lone low surrogate', 'x\\udc00y'],
  ['reversed pair', '\\udc00\\ud800'],
]

describe('unstorable strings', () => {
  it('are recognised, and proper surrogate pairs (emoji) are not', () => {
    expect(unstorable('plain')).toBeNull()
    expect(unstorable('mail 📬 ok')).toBeNull()
    expect(unstorable('a\u0000b')).toMatch(/NUL/)
    expect(unstorable('\ud800')).toMatch(/surrogate/)
    expect(unstorable('\udc00\ud800')).toMatch(/surrogate/)
    expect(findUnstorable({ a: [1, { b: 'x\u0000' }] }, 'body')).toEqual({ path: 'body.a.1.b', message: expect.stringMatching(/NUL/) })
    expect(findUnstorable({ ['k\u0000']: 1 }, 'body')?.path).toBe('body.k\\u0000')
  })

  const routes: { what: string; method: string; path: () => string; body: (v: string) => string; key: () => string; field: string }[] = [
    { what: 'tenant name', method: 'POST', path: () => '/v1/tenants', body: (v) => `{"name":"${v}"}`, key: () => tenant.key, field: 'body.name' },
    { what: 'tenant metadata value', method: 'POST', path: () => '/v1/tenants', body: (v) => `{"name":"ok","metadata":{"k":"${v}"}}`, key: () => tenant.key, field: 'body.metadata.k' },
    { what: 'tenant rename', method: 'PATCH', path: () => `/v1/tenants/${tenant.id}`, body: (v) => `{"name":"${v}"}`, key: () => tenant.key, field: 'body.name' },
    { what: 'api key name', method: 'POST', path: () => '/v1/api-keys', body: (v) => `{"name":"${v}"}`, key: () => tenant.key, field: 'body.name' },
    { what: 'inbox displayName', method: 'POST', path: () => '/v1/inboxes', body: (v) => `{"displayName":"${v}"}`, key: () => tenant.key, field: 'body.displayName' },
    { what: 'inbox domain', method: 'POST', path: () => '/v1/inboxes', body: (v) => `{"domain":"${v}.example"}`, key: () => tenant.key, field: 'body.domain' },
    { what: 'inbox update', method: 'PATCH', path: () => `/v1/inboxes/${inbox.id}`, body: (v) => `{"displayName":"${v}"}`, key: () => tenant.key, field: 'body.displayName' },
    { what: 'domain name', method: 'POST', path: () => '/v1/domains', body: (v) => `{"name":"${v}.example"}`, key: () => tenant.key, field: 'body.name' },
    { what: 'suppression address', method: 'POST', path: () => '/v1/suppressions', body: (v) => `{"address":"${v}@example.com"}`, key: () => tenant.key, field: 'body.address' },
    { what: 'sent subject', method: 'POST', path: () => `/v1/inboxes/${inbox.id}/messages`, body: (v) => `{"to":["x@example.com"],"subject":"${v}","text":"t"}`, key: () => inbox.key, field: 'body.subject' },
  ]

  for (const r of routes) {
    it(`in ${r.what}: 400 validation_error naming ${r.field}`, async () => {
      for (const [label, v] of BAD) {
        const res = await fetch(server.baseUrl + r.path(), {
          method: r.method,
          headers: { authorization: `Bearer ${r.key()}`, 'content-type': 'application/json' },
          body: r.body(v),
        })
        const body = (await res.json()) as { error: { code: string; message: string; issues?: { path: string }[] } }
        expect(res.status, `${r.what} with a ${label}`).toBe(400)
        expect(body.error.code).toBe('validation_error')
        expect(body.error.issues?.[0]?.path).toBe(r.field)
      }
    })
  }

  it('in a query parameter and in a path segment: 400 naming it', async () => {
    for (const q of ['a%00b', '%ED%A0%80']) {
      const res = await inbox.api.get(`/v1/inboxes/${inbox.id}/messages?from=${q}`)
      // %ED%A0%80 is not valid UTF-8: it stays undecoded text, which is storable (and matches nothing).
      if (q === 'a%00b') {
        expect(res.status).toBe(400)
        expect(res.body.error.issues[0].path).toBe('query.from')
      } else expect(res.status).toBe(200)
    }
    const del = await tenant.api.delete('/v1/suppressions/a%00b%40example.com')
    expect(del.status).toBe(400)
    expect(del.body.error.code).toBe('validation_error')
  })

  it('the same strings without the bad character go through (the check is not a blanket refusal)', async () => {
    const res = await tenant.api.post('/v1/inboxes', { displayName: 'Agent 📬 ok', name: 'fine' })
    expect(res.status).toBe(201)
    expect(res.body.displayName).toBe('Agent 📬 ok')
  })
})
