// Request shapes: method, path, query string, headers and body of every resource method.
import { MessageListQuery } from '@mailroom/contract'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { Inbox } from '../src/index.js'
import { BASE, UUID, apiKeyFixture, client, inboxFixture, messageFixture, recorder, server, summaryFixture, tenantFixture, threadFixture, useMsw } from './helpers.js'

useMsw()

describe('tenants', () => {
  it('create posts the body with an idempotency key and returns the tenant and its key', async () => {
    const rec = recorder()
    const tenant = tenantFixture()
    server.use(
      http.post(`${BASE}/v1/tenants`, ({ request }) => {
        rec.record(request)
        return HttpResponse.json({ ...tenant, apiKey: 'mr_tk_child' }, { status: 201 })
      }),
    )
    const created = await client().tenants.create({ name: 'Acme', limits: { maxInboxes: 3 }, metadata: { plan: 'pro' } })
    expect(created).toEqual({ ...tenant, apiKey: 'mr_tk_child' })
    const req = rec.requests[0]!
    expect(req.headers.get('authorization')).toBe('Bearer mr_tk_test')
    expect(req.headers.get('content-type')).toBe('application/json')
    expect(req.headers.get('idempotency-key')).toMatch(UUID)
    expect(req.headers.get('mailroom-tenant')).toBeNull()
    expect(await req.json()).toEqual({ name: 'Acme', limits: { maxInboxes: 3 }, metadata: { plan: 'pro' } })
  })

  it('get, update, delete, suspend and resume hit /v1/tenants/{id}', async () => {
    const t = tenantFixture()
    const seen: string[] = []
    server.use(
      http.get(`${BASE}/v1/tenants/:id`, ({ params, request }) => {
        seen.push(`GET ${params.id} idem=${request.headers.get('idempotency-key') !== null}`)
        return HttpResponse.json(t)
      }),
      http.patch(`${BASE}/v1/tenants/:id`, async ({ params, request }) => {
        seen.push(`PATCH ${params.id} ${JSON.stringify(await request.json())}`)
        return HttpResponse.json(t)
      }),
      http.delete(`${BASE}/v1/tenants/:id`, ({ params, request }) => {
        seen.push(`DELETE ${params.id} idem=${request.headers.get('idempotency-key') !== null}`)
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const m = client()
    expect(await m.tenants.get(t.id)).toEqual(t)
    await m.tenants.update(t.id, { name: 'New' })
    await m.tenants.suspend(t.id)
    await m.tenants.resume(t.id)
    await expect(m.tenants.delete(t.id)).resolves.toBeUndefined()
    expect(seen).toEqual([
      `GET ${t.id} idem=false`,
      `PATCH ${t.id} {"name":"New"}`,
      `PATCH ${t.id} {"status":"suspended"}`,
      `PATCH ${t.id} {"status":"active"}`,
      `DELETE ${t.id} idem=true`,
    ])
  })

  it('list sends limit and after', async () => {
    const urls: string[] = []
    server.use(
      http.get(`${BASE}/v1/tenants`, ({ request }) => {
        urls.push(request.url)
        return HttpResponse.json({ data: [tenantFixture()], nextCursor: null })
      }),
    )
    const page = await client().tenants.list().page({ limit: 5, after: 'c1' })
    expect(page.data).toHaveLength(1)
    expect(urls).toEqual([`${BASE}/v1/tenants?limit=5&after=c1`])
  })
})

describe('api keys', () => {
  it('create sends scope, inboxId and an ISO expiresAt; revoke is a DELETE', async () => {
    const key = apiKeyFixture({ scope: 'inbox' })
    let body: unknown
    let deleted = ''
    server.use(
      http.post(`${BASE}/v1/api-keys`, async ({ request }) => {
        body = await request.json()
        return HttpResponse.json({ ...key, key: 'mr_ik_secret' }, { status: 201 })
      }),
      http.delete(`${BASE}/v1/api-keys/:id`, ({ params }) => {
        deleted = String(params.id)
        return new HttpResponse(null, { status: 204 })
      }),
      http.get(`${BASE}/v1/api-keys`, () => HttpResponse.json({ data: [key], nextCursor: null })),
    )
    const m = client()
    const created = await m.apiKeys.create({ scope: 'inbox', inboxId: 'inb_1', name: 'agent', expiresAt: new Date('2030-01-02T03:04:05Z') })
    expect(created.key).toBe('mr_ik_secret')
    expect(body).toEqual({ scope: 'inbox', inboxId: 'inb_1', name: 'agent', expiresAt: '2030-01-02T03:04:05.000Z' })
    await m.apiKeys.revoke(key.id)
    expect(deleted).toBe(key.id)
    const all = []
    for await (const k of m.apiKeys.list()) all.push(k)
    expect(all).toEqual([key])
  })
})

describe('inboxes', () => {
  it('createInbox returns an Inbox handle carrying the new inbox key', async () => {
    const data = inboxFixture()
    let body: unknown
    server.use(
      http.post(`${BASE}/v1/inboxes`, async ({ request }) => {
        body = await request.json()
        return HttpResponse.json({ ...data, apiKey: 'mr_ik_new' }, { status: 201 })
      }),
    )
    const inbox = await client().createInbox({ name: 'support', displayName: 'Support', metadata: { a: 1 }, createKey: true })
    expect(body).toEqual({ name: 'support', displayName: 'Support', metadata: { a: 1 }, createKey: true })
    expect(inbox).toBeInstanceOf(Inbox)
    expect(inbox.id).toBe(data.id)
    expect(inbox.address).toBe('support@agents.test')
    expect(inbox.displayName).toBe('Support')
    expect(inbox.metadata).toEqual({ team: 'a' })
    expect(inbox.apiKey).toBe('mr_ik_new')
    expect(JSON.parse(JSON.stringify(inbox))).toEqual({ ...data, apiKey: 'mr_ik_new' })
    // The client's key never leaks through the handle.
    expect(JSON.stringify(inbox)).not.toContain('mr_tk_test')
  })

  it('get, update and delete by id; list yields handles', async () => {
    const data = inboxFixture()
    const seen: string[] = []
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, ({ params }) => {
        seen.push(`GET ${params.id}`)
        return HttpResponse.json(data)
      }),
      http.patch(`${BASE}/v1/inboxes/:id`, async ({ params, request }) => {
        seen.push(`PATCH ${params.id} ${JSON.stringify(await request.json())}`)
        return HttpResponse.json({ ...data, displayName: null })
      }),
      http.delete(`${BASE}/v1/inboxes/:id`, ({ params }) => {
        seen.push(`DELETE ${params.id}`)
        return new HttpResponse(null, { status: 204 })
      }),
      http.get(`${BASE}/v1/inboxes`, () => HttpResponse.json({ data: [data], nextCursor: null })),
    )
    const m = client()
    const inbox = await m.inboxes.get(data.id)
    expect(inbox.address).toBe(data.address)
    const updated = await m.inboxes.update(data.id, { displayName: null })
    expect(updated.displayName).toBeNull()
    const viaHandle = await inbox.update({ metadata: { b: true } })
    expect(viaHandle).toBeInstanceOf(Inbox)
    await m.inboxes.delete(data.id)
    await inbox.delete()
    const listed = []
    for await (const i of m.inboxes.list()) listed.push(i)
    expect(listed[0]).toBeInstanceOf(Inbox)
    expect(seen).toEqual([
      `GET ${data.id}`,
      `PATCH ${data.id} {"displayName":null}`,
      `PATCH ${data.id} {"metadata":{"b":true}}`,
      `DELETE ${data.id}`,
      `DELETE ${data.id}`,
    ])
  })

  it('encodes ids into the path and refuses empty ones before any request', async () => {
    let path = ''
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, ({ request }) => {
        path = new URL(request.url).pathname
        return HttpResponse.json(inboxFixture())
      }),
    )
    await client().inboxes.get('a/b?c')
    expect(path).toBe('/v1/inboxes/a%2Fb%3Fc')
    await expect(client().inboxes.get('')).rejects.toThrow(TypeError)
  })
})

describe('messages and threads', () => {
  const data = inboxFixture()
  const base = `${BASE}/v1/inboxes/${data.id}`

  it('list sends every filter, with Date bounds as ISO strings', async () => {
    const urls: URL[] = []
    server.use(
      http.get(`${base}/messages`, ({ request }) => {
        urls.push(new URL(request.url))
        return HttpResponse.json({ data: [summaryFixture()], nextCursor: null })
      }),
      http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)),
    )
    const handle = await client().inboxes.get(data.id)
    const page = await handle.messages
      .list({
        limit: 10,
        from: 'alice@example.com',
        to: 'support@agents.test',
        subject: 'invoice',
        since: new Date('2025-01-01T00:00:00Z'),
        until: '2025-02-01T00:00:00Z',
        hasAttachments: true,
        threadId: 'thr_00000000000000000000000000000001',
        direction: 'inbound',
      })
      .page()
    expect(page.data).toHaveLength(1)
    expect(Object.fromEntries(urls[0]!.searchParams)).toEqual({
      limit: '10',
      from: 'alice@example.com',
      to: 'support@agents.test',
      subject: 'invoice',
      since: '2025-01-01T00:00:00.000Z',
      until: '2025-02-01T00:00:00Z',
      hasAttachments: 'true',
      threadId: 'thr_00000000000000000000000000000001',
      direction: 'inbound',
    })
    expect(() => MessageListQuery.strict().parse(Object.fromEntries(urls[0]!.searchParams))).not.toThrow()
  })

  it('get, raw, attachment and delete; raw and attachment are bytes', async () => {
    const msg = messageFixture()
    const seen: string[] = []
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)),
      http.get(`${base}/messages/:mid`, ({ params }) => {
        seen.push(`get ${params.mid}`)
        return HttpResponse.json(msg)
      }),
      http.get(`${base}/messages/:mid/raw`, ({ request }) => {
        seen.push(`raw accept=${request.headers.get('accept')}`)
        return new HttpResponse(new TextEncoder().encode('Subject: Hi\r\n\r\nbody'), { headers: { 'Content-Type': 'message/rfc822' } })
      }),
      http.get(`${base}/messages/:mid/attachments/:aid`, ({ params }) => {
        seen.push(`att ${params.mid} ${params.aid}`)
        return new HttpResponse(new Uint8Array([0, 1, 2, 255]), { headers: { 'Content-Type': 'application/pdf' } })
      }),
      http.delete(`${base}/messages/:mid`, ({ params }) => {
        seen.push(`delete ${params.mid}`)
        return new HttpResponse(null, { status: 204 })
      }),
      http.post(`${base}/messages/:mid/release`, async ({ params, request }) => {
        seen.push(`release ${params.mid} ${JSON.stringify(await request.json())}`)
        return HttpResponse.json(msg)
      }),
    )
    const handle = await client().inboxes.get(data.id)
    expect(await handle.messages.get(msg.id)).toEqual(msg)
    const raw = await handle.messages.raw(msg.id)
    expect(raw).toBeInstanceOf(Uint8Array)
    expect(new TextDecoder().decode(raw)).toBe('Subject: Hi\r\n\r\nbody')
    expect(Array.from(await handle.messages.attachment(msg.id, 'att_1'))).toEqual([0, 1, 2, 255])
    await handle.messages.delete(msg.id)
    expect(await handle.messages.release(msg.id)).toEqual(msg)
    expect(seen).toEqual([`get ${msg.id}`, 'raw accept=*/*', `att ${msg.id} att_1`, `delete ${msg.id}`, `release ${msg.id} {}`])
  })

  it('threads list and get', async () => {
    const { messages: _m, ...thread } = threadFixture({ id: 'thr_1' })
    const withMessages = threadFixture({ id: 'thr_1' })
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)),
      http.get(`${base}/threads`, ({ request }) => {
        expect(new URL(request.url).searchParams.get('limit')).toBe('7')
        return HttpResponse.json({ data: [thread], nextCursor: null })
      }),
      http.get(`${base}/threads/:tid`, () => HttpResponse.json(withMessages)),
    )
    const handle = await client().inboxes.get(data.id)
    const all = []
    for await (const t of handle.threads.list({ limit: 7 })) all.push(t)
    expect(all).toEqual([thread])
    expect(await handle.threads.get('thr_1')).toEqual(withMessages)
  })

  it('send normalises recipients and base64-encodes attachments', async () => {
    let body: Record<string, unknown> = {}
    let idem: string | null = null
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)),
      http.post(`${base}/messages`, async ({ request }) => {
        body = (await request.json()) as Record<string, unknown>
        idem = request.headers.get('idempotency-key')
        return HttpResponse.json(messageFixture(), { status: 201 })
      }),
    )
    const handle = await client().inboxes.get(data.id)
    await handle.send({
      to: 'alice@example.com',
      cc: ['bob@example.com'],
      subject: 'Report',
      text: 'See attached',
      html: '<p>See attached</p>',
      headers: { 'X-Campaign': 'q3' },
      attachments: [
        { filename: 'a.txt', contentType: 'text/plain', content: new TextEncoder().encode('hello') },
        { filename: 'b.bin', content: new Uint8Array([0, 255]).buffer },
        { filename: 'c.txt', content: new Blob(['blob!']) },
        { filename: 'd.txt', content: 'aGk=' },
      ],
    })
    expect(idem).toMatch(UUID)
    expect(body).toEqual({
      to: ['alice@example.com'],
      cc: ['bob@example.com'],
      subject: 'Report',
      text: 'See attached',
      html: '<p>See attached</p>',
      headers: { 'X-Campaign': 'q3' },
      attachments: [
        { filename: 'a.txt', contentType: 'text/plain', content: 'aGVsbG8=' },
        { filename: 'b.bin', contentType: 'application/octet-stream', content: 'AP8=' },
        { filename: 'c.txt', contentType: 'application/octet-stream', content: 'YmxvYiE=' },
        { filename: 'd.txt', contentType: 'application/octet-stream', content: 'aGk=' },
      ],
    })
  })

  it('reply and forward post to the message routes, taking a message or its id', async () => {
    const msg = messageFixture()
    const seen: string[] = []
    server.use(
      http.get(`${BASE}/v1/inboxes/:id`, () => HttpResponse.json(data)),
      http.post(`${base}/messages/:mid/reply`, async ({ params, request }) => {
        seen.push(`reply ${params.mid} ${JSON.stringify(await request.json())}`)
        return HttpResponse.json(messageFixture(), { status: 201 })
      }),
      http.post(`${base}/messages/:mid/forward`, async ({ params, request }) => {
        seen.push(`forward ${params.mid} ${JSON.stringify(await request.json())}`)
        return HttpResponse.json(messageFixture(), { status: 201 })
      }),
    )
    const handle = await client().inboxes.get(data.id)
    await handle.reply(msg, { text: 'Thanks', html: '<p>Thanks</p>', replyAll: true })
    await handle.reply(msg.id, { text: 'Again' })
    await handle.forward(msg, { to: 'boss@example.com', text: 'FYI' })
    expect(seen).toEqual([
      `reply ${msg.id} {"text":"Thanks","html":"<p>Thanks</p>","replyAll":true}`,
      `reply ${msg.id} {"text":"Again"}`,
      `forward ${msg.id} {"to":["boss@example.com"],"text":"FYI"}`,
    ])
  })
})
