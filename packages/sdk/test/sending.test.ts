// Request shapes of the sending routes: send/reply/forward bodies (checked against the contract),
// per-recipient deliveries, inbox limits, suppressions and a tenant's sending state.
import { CreateSuppressionRequest, ForwardRequest, InboxLimits, ReplyRequest, SendRequest, UpdateSendingRequest } from '@mailroom/contract'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  BASE,
  UUID,
  client,
  deliveryFixture,
  inboxFixture,
  inboxLimitsFixture,
  messageFixture,
  seen,
  sendingStateFixture,
  sentFixture,
  server,
  suppressionFixture,
  tenantFixture,
  type Seen,
  useMsw,
} from './helpers.js'

useMsw()

const data = inboxFixture()
const INBOX = `/v1/inboxes/${data.id}`

async function handle() {
  server.use(http.get(`${BASE}${INBOX}`, () => HttpResponse.json(data)))
  return client().inboxes.get(data.id)
}

describe('send, reply, forward', () => {
  it('bodies are what the contract accepts: recipients as lists, attachments base64 with contentId/inline', async () => {
    const got: Seen[] = []
    server.use(
      http.post(`${BASE}${INBOX}/messages`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(sentFixture(), { status: 201 })
      }),
      http.post(`${BASE}${INBOX}/messages/:mid/:action`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(sentFixture(), { status: 201 })
      }),
    )
    const inbox = await handle()
    const msg = messageFixture()
    const sent = await inbox.send({
      to: { address: 'alice@example.com', name: 'Alice' },
      bcc: 'audit@example.com',
      replyTo: 'Support <support@agents.test>',
      html: '<img src="cid:logo">',
      attachments: [{ filename: 'logo.png', contentType: 'image/png', content: new Uint8Array([1, 2, 3]), contentId: 'logo', inline: true }],
    })
    expect(sent.deliveries).toEqual([deliveryFixture()])
    await inbox.reply(msg, { text: 'Thanks', cc: 'boss@example.com', attachments: [{ filename: 'a.txt', content: 'aGk=' }] })
    await inbox.forward(msg.id, { to: ['x@example.com', { address: 'y@example.com' }], includeAttachments: false, subject: 'Fwd: look' })

    expect(got.map((g) => `${g.method} ${g.path}`)).toEqual([
      `POST ${INBOX}/messages`,
      `POST ${INBOX}/messages/${msg.id}/reply`,
      `POST ${INBOX}/messages/${msg.id}/forward`,
    ])
    for (const g of got) expect(g.idempotencyKey).toMatch(UUID)
    expect(got[0]!.body).toEqual({
      to: [{ address: 'alice@example.com', name: 'Alice' }],
      bcc: ['audit@example.com'],
      replyTo: ['Support <support@agents.test>'],
      html: '<img src="cid:logo">',
      attachments: [{ filename: 'logo.png', contentType: 'image/png', content: 'AQID', contentId: 'logo', inline: true }],
    })
    expect(got[1]!.body).toEqual({
      text: 'Thanks',
      cc: ['boss@example.com'],
      attachments: [{ filename: 'a.txt', contentType: 'application/octet-stream', content: 'aGk=' }],
    })
    expect(got[2]!.body).toEqual({ to: ['x@example.com', { address: 'y@example.com' }], includeAttachments: false, subject: 'Fwd: look' })
    expect(() => SendRequest.parse(got[0]!.body)).not.toThrow()
    expect(() => ReplyRequest.parse(got[1]!.body)).not.toThrow()
    expect(() => ForwardRequest.parse(got[2]!.body)).not.toThrow()
  })
})

describe('deliveries and inbox limits', () => {
  it('inbox.messages.deliveries(id) GETs the per-recipient list and returns its entries', async () => {
    const got: Seen[] = []
    const list = [deliveryFixture(), deliveryFixture({ recipient: 'bob@example.com', status: 'bounced', lastError: '550 5.1.1 no such user' })]
    server.use(
      http.get(`${BASE}${INBOX}/messages/:mid/deliveries`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json({ data: list })
      }),
    )
    const inbox = await handle()
    expect(await inbox.messages.deliveries('msg_1')).toEqual(list)
    expect(got).toEqual([{ method: 'GET', path: `${INBOX}/messages/msg_1/deliveries`, query: {}, body: undefined, idempotencyKey: null, accept: 'application/json' }])
  })

  it('limits: GET and PUT /v1/inboxes/{id}/limits, from the handle or by id', async () => {
    const got: Seen[] = []
    const state = inboxLimitsFixture({ inboxId: data.id })
    server.use(
      http.get(`${BASE}${INBOX}/limits`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(state)
      }),
      http.put(`${BASE}${INBOX}/limits`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(state)
      }),
    )
    const inbox = await handle()
    expect(await inbox.getLimits()).toEqual(state)
    await inbox.setLimits({ sendPerMinute: 5, sendPerDay: null })
    expect(await client().inboxes.getLimits(data.id)).toEqual(state)
    await client().inboxes.setLimits(data.id, { receivePerMinute: 30 }, { idempotencyKey: 'limits-1' })
    expect(got.map((g) => `${g.method} ${g.path} ${JSON.stringify(g.body) ?? ''}`)).toEqual([
      `GET ${INBOX}/limits `,
      `PUT ${INBOX}/limits {"sendPerMinute":5,"sendPerDay":null}`,
      `GET ${INBOX}/limits `,
      `PUT ${INBOX}/limits {"receivePerMinute":30}`,
    ])
    expect(got[1]!.idempotencyKey).toMatch(UUID)
    expect(got[3]!.idempotencyKey).toBe('limits-1')
    for (const g of got.filter((g) => g.method === 'PUT')) expect(() => InboxLimits.parse(g.body)).not.toThrow()
  })
})

describe('suppressions', () => {
  it('list pages, create posts, delete encodes the address into the path', async () => {
    const got: Seen[] = []
    const s = suppressionFixture()
    server.use(
      http.get(`${BASE}/v1/suppressions`, async ({ request }) => {
        got.push(await seen(request))
        const after = new URL(request.url).searchParams.get('after')
        return HttpResponse.json(after ? { data: [suppressionFixture({ address: 'b@example.com' })], nextCursor: null } : { data: [s], nextCursor: 'c1' })
      }),
      http.post(`${BASE}/v1/suppressions`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(suppressionFixture({ reason: 'manual' }), { status: 201 })
      }),
      http.delete(`${BASE}/v1/suppressions/:address`, async ({ request, params }) => {
        got.push({ ...(await seen(request)), path: `param=${String(params.address)} raw=${new URL(request.url).pathname}` })
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const m = client()
    const all = []
    for await (const x of m.suppressions.list({ limit: 1 })) all.push(x.address)
    expect(all).toEqual(['gone@example.com', 'b@example.com'])
    expect((await m.suppressions.create({ address: 'optout@example.com', detail: 'asked' })).reason).toBe('manual')
    await expect(m.suppressions.delete('a+b@example.com')).resolves.toBeUndefined()
    expect(got.map((g) => [g.method, g.path, g.query, g.body])).toEqual([
      ['GET', '/v1/suppressions', { limit: '1' }, undefined],
      ['GET', '/v1/suppressions', { limit: '1', after: 'c1' }, undefined],
      ['POST', '/v1/suppressions', {}, { address: 'optout@example.com', detail: 'asked' }],
      ['DELETE', 'param=a+b@example.com raw=/v1/suppressions/a%2Bb%40example.com', {}, undefined],
    ])
    expect(got[2]!.idempotencyKey).toMatch(UUID)
    expect(got[3]!.idempotencyKey).toMatch(UUID)
    expect(() => CreateSuppressionRequest.parse(got[2]!.body)).not.toThrow()
    await expect(m.suppressions.delete('')).rejects.toThrow(TypeError)
  })
})

describe('tenant sending state', () => {
  it('sending GETs, updateSending PATCHes the pool, resumeSending POSTs', async () => {
    const t = tenantFixture()
    const got: Seen[] = []
    const state = sendingStateFixture({ tenantId: t.id })
    const answer = async ({ request }: { request: Request }) => {
      got.push(await seen(request))
      return HttpResponse.json(state)
    }
    server.use(
      http.get(`${BASE}/v1/tenants/:id/sending`, answer),
      http.patch(`${BASE}/v1/tenants/:id/sending`, answer),
      http.post(`${BASE}/v1/tenants/:id/sending/resume`, answer),
    )
    const m = client()
    expect(await m.tenants.sending(t.id)).toEqual(state)
    await m.tenants.updateSending(t.id, { ipPool: 'dedicated-1' })
    await m.tenants.resumeSending(t.id)
    expect(got.map((g) => [g.method, g.path, g.body, g.idempotencyKey !== null])).toEqual([
      ['GET', `/v1/tenants/${t.id}/sending`, undefined, false],
      ['PATCH', `/v1/tenants/${t.id}/sending`, { ipPool: 'dedicated-1' }, true],
      ['POST', `/v1/tenants/${t.id}/sending/resume`, undefined, true],
    ])
    expect(() => UpdateSendingRequest.parse(got[1]!.body)).not.toThrow()
  })
})
