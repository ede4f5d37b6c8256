// Request shapes of the custom-domain and webhook-endpoint routes (verifying webhook signatures is
// tested in webhooks.test.ts).
import { CreateDomainRequest, CreateWebhookRequest, UpdateDomainRequest, UpdateWebhookRequest } from '@mailroom/contract'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { BASE, UUID, client, domainFixture, seen, server, type Seen, useMsw, webhookDeliveryFixture, webhookFixture } from './helpers.js'

useMsw()

describe('domains', () => {
  it('create, list, get, verify, update and delete hit /v1/domains', async () => {
    const got: Seen[] = []
    const d = domainFixture()
    const answer = async ({ request }: { request: Request }) => {
      got.push(await seen(request))
      if (request.method === 'DELETE') return new HttpResponse(null, { status: 204 })
      if (request.method === 'GET' && new URL(request.url).pathname === '/v1/domains') return HttpResponse.json({ data: [d], nextCursor: null })
      return HttpResponse.json(d, { status: request.method === 'POST' && !request.url.endsWith('/verify') ? 201 : 200 })
    }
    server.use(
      http.post(`${BASE}/v1/domains`, answer),
      http.get(`${BASE}/v1/domains`, answer),
      http.get(`${BASE}/v1/domains/:id`, answer),
      http.post(`${BASE}/v1/domains/:id/verify`, answer),
      http.patch(`${BASE}/v1/domains/:id`, answer),
      http.delete(`${BASE}/v1/domains/:id`, answer),
    )
    const m = client()
    expect(await m.domains.create({ name: 'mail.example.com' })).toEqual(d)
    const listed = []
    for await (const x of m.domains.list({ limit: 3 })) listed.push(x)
    expect(listed).toEqual([d])
    expect(await m.domains.get(d.id)).toEqual(d)
    expect(await m.domains.verify(d.id)).toEqual(d)
    await m.domains.update(d.id, { catchAllInboxId: null })
    await m.domains.delete(d.id)
    expect(got.map((g) => [g.method, g.path, g.query, g.body, g.idempotencyKey === null ? 'no key' : UUID.test(g.idempotencyKey) ? 'key' : g.idempotencyKey])).toEqual([
      ['POST', '/v1/domains', {}, { name: 'mail.example.com' }, 'key'],
      ['GET', '/v1/domains', { limit: '3' }, undefined, 'no key'],
      ['GET', `/v1/domains/${d.id}`, {}, undefined, 'no key'],
      ['POST', `/v1/domains/${d.id}/verify`, {}, undefined, 'key'],
      ['PATCH', `/v1/domains/${d.id}`, {}, { catchAllInboxId: null }, 'key'],
      ['DELETE', `/v1/domains/${d.id}`, {}, undefined, 'key'],
    ])
    expect(() => CreateDomainRequest.parse(got[0]!.body)).not.toThrow()
    expect(() => UpdateDomainRequest.parse(got[4]!.body)).not.toThrow()
  })
})

describe('webhooks', () => {
  it('create, list, get, update and delete hit /v1/webhooks', async () => {
    const got: Seen[] = []
    const w = webhookFixture()
    const answer = async ({ request }: { request: Request }) => {
      got.push(await seen(request))
      if (request.method === 'DELETE') return new HttpResponse(null, { status: 204 })
      if (request.method === 'POST') return HttpResponse.json({ ...w, secret: 'whsec_abc' }, { status: 201 })
      if (new URL(request.url).pathname === '/v1/webhooks') return HttpResponse.json({ data: [w], nextCursor: null })
      return HttpResponse.json(w)
    }
    server.use(
      http.post(`${BASE}/v1/webhooks`, answer),
      http.get(`${BASE}/v1/webhooks`, answer),
      http.get(`${BASE}/v1/webhooks/:id`, answer),
      http.patch(`${BASE}/v1/webhooks/:id`, answer),
      http.delete(`${BASE}/v1/webhooks/:id`, answer),
    )
    const m = client()
    const created = await m.webhooks.create({ url: w.url, eventTypes: ['message.received'], payload: 'summary', description: 'ci' })
    expect(created.secret).toBe('whsec_abc')
    const listed = []
    for await (const x of m.webhooks.list()) listed.push(x)
    expect(listed).toEqual([w])
    expect(await m.webhooks.get(w.id)).toEqual(w)
    await m.webhooks.update(w.id, { status: 'enabled', description: null })
    await m.webhooks.delete(w.id)
    expect(got.map((g) => [g.method, g.path, g.body, g.idempotencyKey !== null])).toEqual([
      ['POST', '/v1/webhooks', { url: w.url, eventTypes: ['message.received'], payload: 'summary', description: 'ci' }, true],
      ['GET', '/v1/webhooks', undefined, false],
      ['GET', `/v1/webhooks/${w.id}`, undefined, false],
      ['PATCH', `/v1/webhooks/${w.id}`, { status: 'enabled', description: null }, true],
      ['DELETE', `/v1/webhooks/${w.id}`, undefined, true],
    ])
    expect(() => CreateWebhookRequest.parse(got[0]!.body)).not.toThrow()
    expect(() => UpdateWebhookRequest.parse(got[3]!.body)).not.toThrow()
  })

  it('deliveries pages with a status filter; replay POSTs with an idempotency key', async () => {
    const got: Seen[] = []
    const w = webhookFixture()
    const d1 = webhookDeliveryFixture({ webhookId: w.id })
    const d2 = webhookDeliveryFixture({ webhookId: w.id })
    server.use(
      http.get(`${BASE}/v1/webhooks/:id/deliveries`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(new URL(request.url).searchParams.get('after') ? { data: [d2], nextCursor: null } : { data: [d1], nextCursor: 'n1' })
      }),
      http.post(`${BASE}/v1/webhooks/:id/deliveries/:did/replay`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json({ ...d1, status: 'pending' })
      }),
    )
    const m = client()
    const failed = []
    for await (const d of m.webhooks.deliveries(w.id, { status: 'failed', limit: 1 })) failed.push(d.id)
    expect(failed).toEqual([d1.id, d2.id])
    expect((await m.webhooks.replay(w.id, d1.id)).status).toBe('pending')
    expect(got.map((g) => [g.method, g.path, g.query])).toEqual([
      ['GET', `/v1/webhooks/${w.id}/deliveries`, { status: 'failed', limit: '1' }],
      ['GET', `/v1/webhooks/${w.id}/deliveries`, { status: 'failed', limit: '1', after: 'n1' }],
      ['POST', `/v1/webhooks/${w.id}/deliveries/${d1.id}/replay`, {}],
    ])
    expect(got[2]!.idempotencyKey).toMatch(UUID)
    expect(() => m.webhooks.deliveries('')).toThrow(TypeError)
  })
})
