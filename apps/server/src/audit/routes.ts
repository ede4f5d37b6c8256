// GET /v1/audit-log: administrative actions in the caller's tenant and its descendants.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { AuditList, AuditQuery } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { cursorOf, defineRoute, json, reply } from '../http/route.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { auditToWire, listAudit } from './service.js'

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/audit-log',
      operationId: 'listAuditLog',
      tags: ['administration'],
      summary: 'Who did what, with which key, when: for the caller and its descendants, newest first.',
      request: { query: AuditQuery },
      responses: { 200: json(AuditList, 'A page of entries.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const only = q.tenantId ? fromPublicId('tenant', q.tenantId) ?? undefined : undefined
      const page = await withTenant(deps.database, scopeOf(c.get('principal')), (tx) => listAudit(tx, q.limit, cursorOf(q.after), only))
      return reply(c, AuditList, { data: page.rows.map(auditToWire), nextCursor: page.nextCursor }, 200)
    },
  )
}
