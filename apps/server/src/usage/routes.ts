// GET /v1/usage: the caller's and its descendants' usage, for billing (JSON or CSV).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { UsageQuery, UsageReport } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { defineRoute, reply } from '../http/route.js'
import { ServiceError } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { usageReport } from './service.js'

const CSV_COLUMNS = ['tenantId', 'inboxId', 'day', 'messagesReceived', 'messagesSent', 'apiRequests', 'bytesStored'] as const

export function registerUsageRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/usage',
      operationId: 'getUsage',
      tags: ['administration'],
      summary: 'Messages received and sent, API requests and bytes stored, per tenant, inbox or day, for the caller and its descendants.',
      request: { query: UsageQuery },
      responses: {
        200: {
          description: 'The report (JSON), or CSV with `format=csv` / `Accept: text/csv`.',
          content: { 'application/json': { schema: UsageReport }, 'text/csv': { schema: { type: 'string' } } },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      if (q.from > q.to) throw new ServiceError('validation_error', 'query.from: must not be after `to`', [{ path: 'query.from', message: 'after to' }])
      const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000
      if (days > 366) throw new ServiceError('validation_error', 'query: at most 366 days per report', [{ path: 'query.to', message: 'range too long' }])
      const report = await withTenant(deps.database, scopeOf(c.get('principal')), (tx) => usageReport(tx, q.from, q.to, q.groupBy))
      const body = { from: q.from, to: q.to, groupBy: q.groupBy, ...report }
      const wantsCsv = q.format === 'csv' || (c.req.header('accept') ?? '').includes('text/csv')
      if (wantsCsv) {
        const lines = [CSV_COLUMNS.join(',')]
        for (const r of body.data) lines.push(CSV_COLUMNS.map((k) => r[k] ?? '').join(','))
        lines.push(['total', '', '', body.total.messagesReceived, body.total.messagesSent, body.total.apiRequests, body.total.bytesStored].join(','))
        return c.body(lines.join('\r\n') + '\r\n', 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="usage-${q.from}-${q.to}.csv"`,
        })
      }
      return reply(c, UsageReport, body, 200)
    },
  )
}
