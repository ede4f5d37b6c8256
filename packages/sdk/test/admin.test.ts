// Request shapes of the administration routes: usage (JSON and CSV), the audit log, sender rules.
import { AuditQuery, CreateSenderRuleRequest, UsageQuery } from '@mailroom/contract'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { MailroomValidationError } from '../src/index.js'
import { BASE, UUID, auditFixture, client, seen, senderRuleFixture, server, type Seen, usageFixture, useMsw } from './helpers.js'

useMsw()

describe('usage', () => {
  it('get sends from, to and groupBy (Dates as UTC days) and returns the report', async () => {
    const got: Seen[] = []
    const report = usageFixture({ groupBy: 'day' })
    server.use(
      http.get(`${BASE}/v1/usage`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(report)
      }),
    )
    const m = client()
    expect(await m.usage.get({ from: '2025-01-01', to: new Date('2025-01-31T23:59:59Z'), groupBy: 'day' })).toEqual(report)
    await m.usage.get({ from: new Date('2025-03-01T00:00:00Z'), to: '2025-03-02' })
    expect(got.map((g) => [g.method, g.path, g.query, g.accept, g.idempotencyKey])).toEqual([
      ['GET', '/v1/usage', { from: '2025-01-01', to: '2025-01-31', groupBy: 'day' }, 'application/json', null],
      ['GET', '/v1/usage', { from: '2025-03-01', to: '2025-03-02' }, 'application/json', null],
    ])
    for (const g of got) expect(() => UsageQuery.strict().parse(g.query)).not.toThrow()
  })

  it('csv asks for text/csv and returns the text as is', async () => {
    const csv = 'tenantId,inboxId,day,messagesReceived,messagesSent,apiRequests,bytesStored\r\ntotal,,,3,1,20,4096\r\n'
    const got: Seen[] = []
    server.use(
      http.get(`${BASE}/v1/usage`, async ({ request }) => {
        got.push(await seen(request))
        return new HttpResponse(csv, { headers: { 'Content-Type': 'text/csv; charset=utf-8' } })
      }),
    )
    expect(await client().usage.csv({ from: '2025-01-01', to: '2025-01-31', groupBy: 'inbox' })).toBe(csv)
    expect(got[0]!.query).toEqual({ from: '2025-01-01', to: '2025-01-31', groupBy: 'inbox', format: 'csv' })
    expect(got[0]!.accept).toBe('text/csv')
  })

  it('a refused range is a MailroomValidationError', async () => {
    server.use(
      http.get(`${BASE}/v1/usage`, () =>
        HttpResponse.json(
          { error: { code: 'validation_error', message: 'query.from: must not be after `to`', issues: [{ path: 'query.from', message: 'after to' }] } },
          { status: 400 },
        ),
      ),
    )
    const err = await client().usage.csv({ from: '2025-02-01', to: '2025-01-01' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailroomValidationError)
    expect((err as MailroomValidationError).issues).toEqual([{ path: 'query.from', message: 'after to' }])
  })
})

describe('audit log', () => {
  it('list is an async iterable over pages, filtered by tenantId; page() fetches one', async () => {
    const got: Seen[] = []
    const [a, b] = [auditFixture(), auditFixture({ action: 'tenant.suspended' })]
    server.use(
      http.get(`${BASE}/v1/audit-log`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(new URL(request.url).searchParams.get('after') ? { data: [b], nextCursor: null } : { data: [a], nextCursor: 'p2' })
      }),
    )
    const m = client()
    const all = []
    for await (const e of m.auditLog.list({ tenantId: 'tnt_00000000000000000000000000000001' })) all.push(e)
    expect(all).toEqual([a, b])
    const page = await m.auditLog.list().page({ limit: 5 })
    expect(page).toEqual({ data: [a], nextCursor: 'p2' })
    expect(got.map((g) => g.query)).toEqual([
      { tenantId: 'tnt_00000000000000000000000000000001' },
      { tenantId: 'tnt_00000000000000000000000000000001', after: 'p2' },
      { limit: '5' },
    ])
    for (const g of got) expect(() => AuditQuery.strict().parse(g.query)).not.toThrow()
  })
})

describe('sender rules', () => {
  it('create posts the rule, list pages, delete by id', async () => {
    const got: Seen[] = []
    const rule = senderRuleFixture()
    server.use(
      http.post(`${BASE}/v1/sender-rules`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json(rule, { status: 201 })
      }),
      http.get(`${BASE}/v1/sender-rules`, async ({ request }) => {
        got.push(await seen(request))
        return HttpResponse.json({ data: [rule], nextCursor: null })
      }),
      http.delete(`${BASE}/v1/sender-rules/:id`, async ({ request }) => {
        got.push(await seen(request))
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const m = client()
    const params = { direction: 'inbound', action: 'block', pattern: '@spam.example', blockMode: 'hide', inboxId: 'inb_00000000000000000000000000000001' } as const
    expect(await m.senderRules.create(params)).toEqual(rule)
    const listed = []
    for await (const r of m.senderRules.list({ limit: 10 })) listed.push(r)
    expect(listed).toEqual([rule])
    await m.senderRules.delete(rule.id)
    expect(got.map((g) => [g.method, g.path, g.query, g.body])).toEqual([
      ['POST', '/v1/sender-rules', {}, params],
      ['GET', '/v1/sender-rules', { limit: '10' }, undefined],
      ['DELETE', `/v1/sender-rules/${rule.id}`, {}, undefined],
    ])
    expect(got[0]!.idempotencyKey).toMatch(UUID)
    expect(got[2]!.idempotencyKey).toMatch(UUID)
    expect(() => CreateSenderRuleRequest.parse(got[0]!.body)).not.toThrow()
  })
})
