// /v1/suppressions: the tenant's suppression list (tenant keys only).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { CreateSuppressionRequest, ListQuery, Suppression, SuppressionList } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { isValidAddress } from '../delivery/compose.js'
import { getSuppression, listSuppressions, suppress, suppressionToWire, unsuppress } from './service.js'

const AddressParam = z.object({ address: z.string().describe('The suppressed address.') })

export function registerSuppressionRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database } = deps

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/suppressions',
      operationId: 'listSuppressions',
      tags: ['sending'],
      summary: "The tenant's suppression list (hard bounces, complaints, manual), newest first.",
      request: { query: ListQuery },
      responses: { 200: json(SuppressionList, 'A page of suppressions.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await withTenant(database, scopeOf(c.get('principal')), (tx) => listSuppressions(tx, q.limit, cursorOf(q.after)))
      return reply(c, SuppressionList, { data: page.rows.map(suppressionToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/suppressions',
      operationId: 'createSuppression',
      tags: ['sending'],
      summary: 'Suppress an address: mail to it is recorded as `suppressed`, not sent.',
      request: { ...body(CreateSuppressionRequest) },
      responses: { 201: json(Suppression, 'Suppressed (or already was).') },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const address = input.address.trim().toLowerCase()
      if (!isValidAddress(address)) throw new ServiceError('validation_error', 'body.address: not a valid email address', [{ path: 'body.address', message: 'invalid' }])
      const { tenantId } = scopeOf(c.get('principal'))
      const row = await withTenant(database, { tenantId }, async (tx) => {
        await suppress(tx, tenantId, address, 'manual', input.detail ?? null)
        return (await getSuppression(tx, address))!
      })
      return reply(c, Suppression, suppressionToWire(row), 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/suppressions/{address}',
      operationId: 'deleteSuppression',
      tags: ['sending'],
      summary: 'Remove an address from the suppression list.',
      request: { params: AddressParam },
      responses: { 204: { description: 'Removed.' } },
    }),
    async (c) => {
      // Hono has decoded the parameter already; decoding again would turn a literal %25 into % (and
      // throw URIError, a 500, on a malformed sequence).
      const address = c.req.valid('param').address.trim()
      const removed = await withTenant(database, scopeOf(c.get('principal')), (tx) => unsuppress(tx, address))
      if (!removed) throw notFound('suppression')
      return c.body(null, 204)
    },
  )
}
