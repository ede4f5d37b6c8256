// /v1/inboxes/{id}/limits: an inbox's own limits (read by its key too; set by a tenant key).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { InboxLimits, InboxLimitsResponse } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, defineRoute, json, pathId, reply } from '../http/route.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { limitDefaults } from '../limits/api-rate.js'
import { inboxLimits, setInboxLimits } from './limits.js'

const InboxParam = z.object({ id: z.string().describe('Inbox id (`inb_...`).') })

export function registerInboxLimitRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database } = deps
  const defaults = limitDefaults(deps.config)

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/limits',
      operationId: 'getInboxLimits',
      tags: ['sending'],
      summary: "The inbox's own limits and the ones in force (capped by its tenant chain).",
      request: { params: InboxParam },
      responses: { 200: json(InboxLimitsResponse, 'The limits.') },
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const res = await withTenant(database, scopeOf(c.get('principal')), (tx) => inboxLimits(tx, inboxId, defaults))
      return reply(c, InboxLimitsResponse, res, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'put',
      path: '/v1/inboxes/{id}/limits',
      operationId: 'setInboxLimits',
      tags: ['sending'],
      summary: "Set an inbox's limits (null: none of its own). Never above its tenant's.",
      request: { params: InboxParam, ...body(InboxLimits) },
      responses: { 200: json(InboxLimitsResponse, 'The limits now.') },
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const res = await withTenant(database, scopeOf(c.get('principal')), (tx) => setInboxLimits(tx, inboxId, c.req.valid('json'), defaults))
      return reply(c, InboxLimitsResponse, res, 200)
    },
  )
}
