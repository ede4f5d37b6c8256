// The client: options and their environment defaults, headers, withTenant, me() and inbox().
import { http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_BASE_URL, Inbox, Mailroom, MailroomError } from '../src/index.js'
import { BASE, client, inboxFixture, server, tenantFixture, useMsw } from './helpers.js'

useMsw()

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('options', () => {
  it('a missing key is an error that says what to set', () => {
    vi.stubEnv('MAILROOM_API_KEY', undefined)
    let err: unknown
    try {
      new Mailroom({ baseUrl: BASE })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(MailroomError)
    expect(err).toMatchObject({ code: 'missing_api_key' })
    expect((err as Error).message).toContain('MAILROOM_API_KEY')
    expect((err as Error).message).toContain('apiKey')
  })

  it('reads MAILROOM_API_KEY and MAILROOM_BASE_URL from the environment', async () => {
    vi.stubEnv('MAILROOM_API_KEY', 'mr_ik_fromenv')
    vi.stubEnv('MAILROOM_BASE_URL', 'http://env.mailroom.test/')
    let auth: string | null = null
    server.use(
      http.get('http://env.mailroom.test/v1/me', ({ request }) => {
        auth = request.headers.get('authorization')
        return HttpResponse.json({})
      }),
    )
    const m = new Mailroom()
    expect(m.baseUrl).toBe('http://env.mailroom.test')
    await m.me()
    expect(auth).toBe('Bearer mr_ik_fromenv')
  })

  it('defaults the base URL to http://127.0.0.1:3000; explicit options beat the environment', async () => {
    vi.stubEnv('MAILROOM_API_KEY', 'mr_tk_env')
    vi.stubEnv('MAILROOM_BASE_URL', undefined)
    expect(DEFAULT_BASE_URL).toBe('http://127.0.0.1:3000')
    let auth: string | null = null
    server.use(
      http.get('http://127.0.0.1:3000/v1/me', ({ request }) => {
        auth = request.headers.get('authorization')
        return HttpResponse.json({})
      }),
    )
    await new Mailroom().me()
    expect(auth).toBe('Bearer mr_tk_env')
    await new Mailroom({ apiKey: 'mr_tk_explicit' }).me()
    expect(auth).toBe('Bearer mr_tk_explicit')
  })

  it('uses a custom fetch when given one', async () => {
    const calls: { url: string; init: RequestInit }[] = []
    const m = new Mailroom({
      apiKey: 'mr_tk_x',
      baseUrl: 'http://custom.test',
      fetch: async (url, init) => {
        calls.push({ url, init })
        return new Response(JSON.stringify({ keyId: null }), { headers: { 'Content-Type': 'application/json' } })
      },
    })
    expect(await m.me()).toEqual({ keyId: null })
    expect(calls).toHaveLength(1)
    expect(calls[0]!.url).toBe('http://custom.test/v1/me')
    expect(calls[0]!.init.method).toBe('GET')
    expect(calls[0]!.init.signal).toBeInstanceOf(AbortSignal)
  })

  it('does not show the API key when the client is logged', () => {
    const m = client()
    expect(JSON.stringify(m)).not.toContain('mr_tk_test')
  })
})

describe('withTenant', () => {
  it('sends Mailroom-Tenant on every request; the original client does not', async () => {
    const seen: (string | null)[] = []
    server.use(
      http.post(`${BASE}/v1/inboxes`, ({ request }) => {
        seen.push(request.headers.get('mailroom-tenant'))
        return HttpResponse.json(inboxFixture(), { status: 201 })
      }),
      http.get(`${BASE}/v1/tenants`, ({ request }) => {
        seen.push(request.headers.get('mailroom-tenant'))
        return HttpResponse.json({ data: [], nextCursor: null })
      }),
    )
    const parent = client()
    const child = parent.withTenant('tnt_child')
    expect(child).toBeInstanceOf(Mailroom)
    const inbox = await child.createInbox({ name: 'x' })
    await child.tenants.list().page()
    await parent.createInbox({ name: 'y' })
    await child.withTenant('tnt_grandchild').createInbox()
    expect(seen).toEqual(['tnt_child', 'tnt_child', null, 'tnt_grandchild'])
    expect(inbox).toBeInstanceOf(Inbox)
  })
})

describe('me and inbox()', () => {
  const inbox = inboxFixture()
  const tenant = tenantFixture()

  it('me() returns the identity of the key', async () => {
    const me = { keyId: 'key_1', scope: 'tenant', tenant, inbox: null }
    server.use(http.get(`${BASE}/v1/me`, () => HttpResponse.json(me)))
    expect(await client().me()).toEqual(me)
  })

  it('with an inbox key, inbox() is the key own inbox, from /v1/me, no id needed', async () => {
    server.use(http.get(`${BASE}/v1/me`, () => HttpResponse.json({ keyId: 'key_1', scope: 'inbox', tenant, inbox })))
    const own = await client({ apiKey: 'mr_ik_agent' }).inbox()
    expect(own).toBeInstanceOf(Inbox)
    expect(own.id).toBe(inbox.id)
    expect(own.address).toBe(inbox.address)
  })

  it('with a tenant key, inbox() needs an id and says so', async () => {
    server.use(http.get(`${BASE}/v1/me`, () => HttpResponse.json({ keyId: 'key_1', scope: 'tenant', tenant, inbox: null })))
    const err = await client().inbox().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomError)
    expect((err as Error).message).toMatch(/inbox key/)
  })

  it('inbox(id) fetches that inbox', async () => {
    server.use(http.get(`${BASE}/v1/inboxes/:id`, ({ params }) => HttpResponse.json({ ...inbox, id: params.id })))
    const got = await client().inbox(inbox.id)
    expect(got.id).toBe(inbox.id)
  })
})
