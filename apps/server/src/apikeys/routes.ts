// /v1/api-keys: tenant keys mint, list and revoke the tenant's keys.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { ApiKeyList, CreateApiKeyRequest, CreateApiKeyResponse, ListQuery } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import { apiKeyToWire, createApiKey, listApiKeys, revokeApiKey } from './service.js'
import { actorOf, audit } from '../audit/service.js'
import { toPublicId } from '../lib/ids.js'

export function registerApiKeyRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, clock } = deps

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/api-keys',
      operationId: 'createApiKey',
      tags: ['api-keys'],
      summary: 'Mint a tenant key, or an inbox key for one of the tenant\'s inboxes. The secret is shown once.',
      request: body(CreateApiKeyRequest),
      responses: { 201: json(CreateApiKeyResponse, 'The key, with its secret (shown once).') },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const p = c.get('principal')
      const { tenantId } = scopeOf(p)
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null
      if (expiresAt && expiresAt.getTime() <= clock.now().getTime()) {
        throw new ServiceError('validation_error', 'body.expiresAt: must be in the future', [{ path: 'body.expiresAt', message: 'must be in the future' }])
      }
      const { row, key } = await withTenant(database, { tenantId }, async (tx) => {
        let inboxId: string | null = null
        if (input.scope === 'inbox') {
          inboxId = fromPublicId('inbox', input.inboxId!)
          if (!inboxId || !(await getInbox(tx, inboxId))) throw notFound('inbox')
        }
        const created = await createApiKey(tx, { tenantId, scope: input.scope, inboxId, name: input.name ?? null, expiresAt })
        await audit(tx, tenantId, actorOf(p), 'api_key.created', { type: 'api_key', id: toPublicId('apiKey', created.row.id) }, {
          scope: input.scope,
          inboxId: input.inboxId ?? null,
          prefix: created.row.prefix,
        })
        return created
      })
      return reply(c, CreateApiKeyResponse, { ...apiKeyToWire(row), key }, 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/api-keys',
      operationId: 'listApiKeys',
      tags: ['api-keys'],
      summary: "List the tenant's keys (never their secrets).",
      request: { query: ListQuery },
      responses: { 200: json(ApiKeyList, 'A page of keys, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const { tenantId } = scopeOf(c.get('principal'))
      const page = await withTenant(database, { tenantId }, (tx) => listApiKeys(tx, q.limit, cursorOf(q.after)))
      return reply(c, ApiKeyList, { data: page.rows.map(apiKeyToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/api-keys/{id}',
      operationId: 'revokeApiKey',
      tags: ['api-keys'],
      summary: 'Revoke a key. It stops working at once.',
      request: { params: z.object({ id: z.string().describe('Key id (`key_...`).') }) },
      responses: { 204: { description: 'Revoked.' } },
    }),
    async (c) => {
      const id = pathId('apiKey', c.req.valid('param').id, 'api key')
      const p = c.get('principal')
      const { tenantId } = scopeOf(p)
      const found = await withTenant(database, { tenantId }, async (tx) => {
        const ok = await revokeApiKey(tx, id, clock.now())
        if (ok) await audit(tx, tenantId, actorOf(p), 'api_key.revoked', { type: 'api_key', id: toPublicId('apiKey', id) })
        return ok
      })
      if (!found) throw notFound('api key')
      return c.body(null, 204)
    },
  )
}
