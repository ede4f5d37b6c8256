// Console sessions: a key becomes a server-side session behind a cookie, which the API then takes
// in place of the key. Cookie flags, expiry (idle and absolute, on a clock the test moves), sign-out
// that ends it server-side, a revoked key ending it, CSRF and origin refusals, and a session seeing
// exactly what its key sees (another tenant's ids answer 404).
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { csrfTokenOf } from '../../src/console/service.js'
import { makeChild, makeInbox, makeTenant, startTestServer, type TestServer } from '@mailroom/testkit/server'

const OPERATOR_KEY = 'operator-key-of-the-console-session-tests-0123456789'
let offset = 0
const clock = { now: () => new Date(Date.now() + offset) }
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
let server: TestServer
let origin: string
beforeAll(async () => {
  server = await startTestServer({ clock, config: { operatorKey: OPERATOR_KEY } })
  origin = server.baseUrl
})
afterAll(() => server?.stop())

interface Signed {
  cookie: string
  setCookie: string
  csrf: string
  body: any
}

async function signIn(key: string, headers: Record<string, string> = {}): Promise<Signed> {
  const res = await fetch(`${origin}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, ...headers },
    body: JSON.stringify({ key }),
  })
  const body = await res.json()
  if (res.status !== 201) throw new Error(`sign-in: ${res.status} ${JSON.stringify(body)}`)
  const setCookie = res.headers.getSetCookie()[0]!
  return { cookie: setCookie.split(';')[0]!, setCookie, csrf: body.csrfToken, body }
}

/** A browser-like call with the session cookie: writes carry the CSRF token and our Origin unless told otherwise. */
async function call(s: Signed, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const write = method !== 'GET' && method !== 'HEAD'
  const res = await fetch(origin + path, {
    method,
    headers: {
      cookie: s.cookie,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(write ? { 'x-csrf-token': s.csrf, origin } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: any = text
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers }
}

describe('console sign-in', () => {
  it('turns a tenant key into an HttpOnly, SameSite=Strict session cookie; the page learns who it is and a CSRF token, never the token', async () => {
    const t = await makeTenant(server)
    const s = await signIn(t.key)
    // 256 random bits, then the tenant (its session is found on that tenant's rows alone).
    expect(s.setCookie).toMatch(/^mailroom_session=mrs_[A-Za-z0-9_-]{43}\.[0-9a-f]{32}; /)
    expect(s.setCookie.split(';')[0]!.split('.')[1]).toBe(fromPublicId('tenant', t.id)!.replaceAll('-', ''))
    expect(s.setCookie).toContain('HttpOnly')
    expect(s.setCookie).toContain('SameSite=Strict')
    expect(s.setCookie).toContain('Path=/')
    expect(s.setCookie).toContain('Max-Age=43200')
    expect(s.setCookie).not.toContain('Secure') // plain HTTP: a Secure cookie would never come back
    expect(s.body).toMatchObject({ scope: 'tenant', tenantId: t.id, idleTimeoutSeconds: 1800 })
    expect(s.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const token = s.cookie.split('=')[1]!
    expect(JSON.stringify(s.body)).not.toContain(token)
    expect(JSON.stringify(s.body)).not.toContain(t.key)

    const me = await call(s, 'GET', '/console/session')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ scope: 'tenant', tenantId: t.id, csrfToken: s.csrf })
    expect(me.headers.get('cache-control')).toBe('no-store')

    // Only a hash of the token is stored; neither the token nor the key is anywhere in the row.
    const rows = await rawRows<Record<string, unknown>>(server.db.owner.db, sql`select * from console_sessions`)
    const dump = JSON.stringify(rows)
    expect(dump).not.toContain(token)
    expect(dump).not.toContain(t.key)
    expect(rows.some((r) => r.token_hash === sha256(token))).toBe(true)
  })

  it('under TLS (a proxy saying https) the cookie is __Host- and Secure', async () => {
    const t = await makeTenant(server)
    const s = await signIn(t.key, { 'x-forwarded-proto': 'https', origin: origin.replace('http:', 'https:') })
    expect(s.setCookie).toMatch(/^__Host-mailroom_session=mrs_/)
    expect(s.setCookie).toContain('Secure')
    expect(s.setCookie).toContain('HttpOnly')
    expect(s.setCookie).toContain('SameSite=Strict')
    expect(s.setCookie).not.toContain('Domain=')
    const me = await call(s, 'GET', '/v1/me', undefined, { 'x-forwarded-proto': 'https' })
    expect(me.body.tenant.id).toBe(t.id)
  })

  it('refuses inbox keys, unknown, malformed, revoked and suspended keys with the API\'s answers', async () => {
    const t = await makeTenant(server)
    const inbox = await makeInbox(server, t)
    const post = (key: string) =>
      fetch(`${origin}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ key }) }).then(async (r) => ({ status: r.status, body: await r.json(), cookie: r.headers.getSetCookie() }))
    const ik = await post(inbox.key)
    expect(ik.status).toBe(403)
    expect(ik.body.error.message).toMatch(/inbox key .* cannot sign in to the console/)
    expect(ik.cookie).toEqual([])
    expect((await post('mr_tk_' + 'A'.repeat(40))).status).toBe(401)
    expect((await post('not a key')).body.error).toMatchObject({ code: 'unauthorized' })
    const second = await t.api.post('/v1/api-keys', { name: 'soon revoked' })
    await t.api.delete(`/v1/api-keys/${second.body.id}`)
    const revoked = await post(second.body.key)
    expect(revoked.status).toBe(401)
    expect(revoked.body.error.message).toBe('this key has been revoked')
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })
    expect((await post(child.key)).body.error.code).toBe('tenant_suspended')
  })

  it('refuses a sign-in from another origin and one that is not JSON (an HTML form cannot send JSON)', async () => {
    const t = await makeTenant(server)
    const foreign = await fetch(`${origin}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ key: t.key }) })
    expect(foreign.status).toBe(403)
    expect(foreign.headers.getSetCookie()).toEqual([])
    const form = await fetch(`${origin}/console/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `key=${t.key}` })
    expect(form.status).toBe(415)
    const crossSite = await fetch(`${origin}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body: JSON.stringify({ key: t.key }) })
    expect(crossSite.status).toBe(403)
  })
})

describe('the API with a session cookie', () => {
  it('is the same principal as the key: reads, writes, Mailroom-Tenant into a descendant, 404 for a sibling', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const other = await makeTenant(server)
    const s = await signIn(parent.key)
    expect((await call(s, 'GET', '/v1/me')).body).toMatchObject({ scope: 'tenant', tenant: { id: parent.id } })
    const created = await call(s, 'POST', '/v1/inboxes', { name: `c${Date.now()}` })
    expect(created.status).toBe(201)
    const inChild = await call(s, 'POST', '/v1/inboxes', {}, { 'mailroom-tenant': child.id })
    expect(inChild.status).toBe(201)
    expect(inChild.body.tenantId).toBe(child.id)
    expect((await call(s, 'GET', '/v1/inboxes', undefined, { 'mailroom-tenant': other.id })).status).toBe(404)
    // The audit log names the key that signed in.
    const log = await parent.api.get('/v1/audit-log')
    const entry = log.body.data.find((e: any) => e.action === 'inbox.created' && e.targetId === created.body.id)
    expect(entry.actor).toMatchObject({ kind: 'tenant', keyId: s.body.keyId })
    expect(log.body.data.some((e: any) => e.action === 'console.signed_in')).toBe(true)
  })

  it("tenant B's session gets 404 for tenant A's tenant, inboxes, messages and keys, exactly like a missing id", async () => {
    const a = await makeTenant(server)
    const b = await makeTenant(server)
    const inboxA = await makeInbox(server, a)
    const keyA = (await a.api.get('/v1/api-keys')).body.data[0].id
    const sb = await signIn(b.key)
    const missing = 'inb_' + '0'.repeat(32)
    for (const [method, path, body] of [
      ['GET', `/v1/tenants/${a.id}`],
      ['PATCH', `/v1/tenants/${a.id}`, { name: 'x' }],
      ['GET', `/v1/inboxes/${inboxA.id}`],
      ['GET', `/v1/inboxes/${inboxA.id}/messages`],
      ['PATCH', `/v1/inboxes/${inboxA.id}`, { displayName: 'x' }],
      ['DELETE', `/v1/inboxes/${inboxA.id}`],
      ['DELETE', `/v1/api-keys/${keyA}`],
    ] as const) {
      const res = await call(sb, method, path, body)
      expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({ method, path, status: 404, code: 'not_found' })
    }
    const reallyMissing = await call(sb, 'GET', `/v1/inboxes/${missing}`)
    expect(reallyMissing.body.error.message).toBe((await call(sb, 'GET', `/v1/inboxes/${inboxA.id}`)).body.error.message)
    expect((await a.api.get(`/v1/inboxes/${inboxA.id}`)).status).toBe(200)
  })

  it('refuses writes without the CSRF token, with a wrong one, from another origin, or marked cross-site; reads need neither', async () => {
    const t = await makeTenant(server)
    const s = await signIn(t.key)
    const tries: [string, Record<string, string>, number][] = [
      ['no token', { 'x-csrf-token': '', origin }, 403],
      ['wrong token', { 'x-csrf-token': 'A'.repeat(43), origin }, 403],
      ['token of another session', { 'x-csrf-token': (await signIn(t.key)).csrf, origin }, 403],
      ['foreign Origin', { origin: 'http://evil.example' }, 403],
      ['same host, other port', { origin: origin.replace(/:\d+$/, ':1') }, 403],
      ['opaque Origin', { origin: 'null' }, 403],
      ['no Origin, no Sec-Fetch-Site', { origin: '' }, 403],
      ['Sec-Fetch-Site: same-site', { origin: '', 'sec-fetch-site': 'same-site' }, 403],
      ['Sec-Fetch-Site: same-origin', { origin: '', 'sec-fetch-site': 'same-origin' }, 201],
      ['same Origin', {}, 201],
    ]
    for (const [what, headers, status] of tries) {
      const clean = Object.fromEntries(Object.entries(headers).filter(([k, v]) => !(k === 'origin' && v === '')))
      const res = await fetch(`${origin}/v1/inboxes`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-csrf-token': s.csrf, ...(headers.origin === '' ? {} : { origin }), ...clean },
        body: '{}',
      })
      expect({ what, status: res.status }).toEqual({ what, status })
      if (status === 403) expect((await res.json()).error.code).toBe('forbidden')
    }
    expect((await call(s, 'GET', '/v1/inboxes', undefined, { origin: 'http://evil.example' })).status).toBe(200)
    // A Bearer key is not a cookie: API clients need no CSRF token (the header wins over any cookie).
    const bearer = await fetch(`${origin}/v1/inboxes`, { method: 'POST', headers: { authorization: `Bearer ${t.key}`, cookie: s.cookie, 'content-type': 'application/json' }, body: '{}' })
    expect(bearer.status).toBe(201)
  })
})

describe('session lifetime', () => {
  it('ends after 30 minutes idle; requests keep it alive; it ends 12 hours after sign-in however busy', async () => {
    const t = await makeTenant(server)
    offset = 0
    const idle = await signIn(t.key)
    offset = 29 * 60_000
    expect((await call(idle, 'GET', '/v1/me')).status).toBe(200) // 29 min: alive, and touched
    offset = 58 * 60_000
    expect((await call(idle, 'GET', '/v1/me')).status).toBe(200) // 29 min after the last request
    offset = 58 * 60_000 + 31 * 60_000
    const over = await call(idle, 'GET', '/v1/me')
    expect(over.status).toBe(401)
    expect(over.body.error.message).toMatch(/session has ended/)
    expect((await call(idle, 'GET', '/console/session')).status).toBe(401)

    offset = 0
    const busy = await signIn(t.key)
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      offset = minutes * 60_000
      expect((await call(busy, 'GET', '/console/session')).status).toBe(200)
    }
    offset = 12 * 3600_000 + 1000
    expect((await call(busy, 'GET', '/v1/me')).status).toBe(401)
    offset = 0
    // Sessions found over are deleted, not left behind.
    const left = await rawRows<{ n: number }>(server.db.owner.db, sql`select count(*)::int as n from console_sessions where token_hash in (${sql.join([idle, busy].map((s) => sha256(s.cookie.split('=')[1]!)), sql`, `)})`)
    expect(left[0]!.n).toBe(0)
  })

  it('sign-out ends the session on the server: the old cookie no longer works anywhere', async () => {
    const t = await makeTenant(server)
    const s = await signIn(t.key)
    const refused = await call(s, 'DELETE', '/console/session', undefined, { 'x-csrf-token': 'wrong' })
    expect(refused.status).toBe(403)
    const out = await call(s, 'DELETE', '/console/session')
    expect(out.status).toBe(204)
    expect(out.headers.getSetCookie()[0]).toMatch(/^mailroom_session=; Max-Age=0/)
    expect((await call(s, 'GET', '/console/session')).status).toBe(401)
    expect((await call(s, 'GET', '/v1/me')).status).toBe(401)
  })

  it("a token's tenant cannot be changed: another tenant's id in it finds no session", async () => {
    const [a, b] = [await makeTenant(server), await makeTenant(server)]
    const s = await signIn(a.key)
    const forged = { ...s, cookie: `${s.cookie.split('.')[0]}.${fromPublicId('tenant', b.id)!.replaceAll('-', '')}` }
    expect((await call(forged, 'GET', '/v1/me')).status).toBe(401)
    expect((await call(forged, 'GET', '/console/session')).status).toBe(401)
    expect((await call(s, 'GET', '/v1/me')).body.tenant.id).toBe(a.id)
  })

  it('a session signed in before tokens named their tenant still works, and signs out', async () => {
    const t = await makeTenant(server)
    const s = await signIn(t.key)
    // The same session under a token of the older form (no tenant part), as it was stored then.
    const old = `mrs_${randomBytes(32).toString('base64url')}`
    await rawRows(server.db.owner.db, sql`update console_sessions set token_hash = ${sha256(old)} where token_hash = ${sha256(s.cookie.split('=')[1]!)}`)
    const legacy = { ...s, cookie: `mailroom_session=${old}`, csrf: csrfTokenOf(old) }
    expect((await call(legacy, 'GET', '/v1/me')).body.tenant.id).toBe(t.id)
    expect((await call(s, 'GET', '/v1/me')).status).toBe(401)
    expect((await call(legacy, 'DELETE', '/console/session')).status).toBe(204)
    expect((await call(legacy, 'GET', '/v1/me')).status).toBe(401)
  })

  it("revoking the session's key ends the session at its next request; deleting the key's tenant removes it", async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const minted = await parent.api.post('/v1/api-keys', { name: 'console' })
    const s = await signIn(minted.body.key)
    expect((await call(s, 'GET', '/v1/me')).status).toBe(200)
    await parent.api.delete(`/v1/api-keys/${minted.body.id}`)
    const after = await call(s, 'GET', '/v1/me')
    expect(after.status).toBe(401)
    expect(after.body.error.message).toMatch(/revoked/)

    const sc = await signIn(child.key)
    expect((await parent.api.delete(`/v1/tenants/${child.id}`)).status).toBe(204)
    expect((await call(sc, 'GET', '/v1/me')).status).toBe(401)
  })

  it('a suspended tenant\'s session is refused like its key', async () => {
    const parent = await makeTenant(server)
    const child = await makeChild(parent, server)
    const s = await signIn(child.key)
    await parent.api.patch(`/v1/tenants/${child.id}`, { status: 'suspended' })
    const res = await call(s, 'GET', '/v1/me')
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('tenant_suspended')
  })
})

describe('operator sessions', () => {
  it('the operator key signs in, creates top-level tenants and acts inside one; a changed operator key ends the session', async () => {
    const s = await signIn(OPERATOR_KEY)
    expect(s.body).toMatchObject({ scope: 'operator', tenantId: null, keyId: null })
    const created = await call(s, 'POST', '/v1/tenants', { name: 'from the console' })
    expect(created.status).toBe(201)
    const inboxes = await call(s, 'GET', '/v1/inboxes', undefined, { 'mailroom-tenant': created.body.id })
    expect(inboxes.status).toBe(200)
    expect((await call(s, 'GET', '/v1/inboxes')).status).toBe(403)
    // The same database seen by a server with another operator key: the session made with the old one is over.
    const rotated = await startTestServer({ db: server.db, config: { operatorKey: OPERATOR_KEY.replace('0123', '9999') } })
    try {
      const res = await fetch(`${rotated.baseUrl}/v1/inboxes`, { headers: { cookie: s.cookie, 'mailroom-tenant': created.body.id } })
      expect(res.status).toBe(401)
    } finally {
      await rotated.stop()
    }
  })
})

describe('the console app at /console', () => {
  it('serves index.html with a strict policy, hashed assets cached for a year (compressed), the app for any page path, 404 for missing files', async () => {
    const page = await fetch(`${origin}/console`)
    expect(page.status).toBe(200)
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await page.text()
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/) // no inline script
    expect(html).not.toMatch(/https?:\/\//) // nothing from elsewhere
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!
    const js = await fetch(origin + asset, { headers: { 'accept-encoding': 'gzip' } })
    expect(js.status).toBe(200)
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    const deep = await fetch(`${origin}/console/inboxes/inb_${'1'.repeat(32)}`)
    expect(deep.status).toBe(200)
    expect(await deep.text()).toBe(html)
    expect((await fetch(`${origin}/console/assets/nope-123.js`)).status).toBe(404)
    expect((await fetch(`${origin}/console/..%2f..%2fpackage.json`)).status).toBe(404)
    expect((await fetch(`${origin}/console/%E0%A4%A`)).status).toBe(404)
  })
})
