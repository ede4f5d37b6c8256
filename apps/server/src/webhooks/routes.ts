// /v1/webhooks: endpoints (tenant keys only), their deliveries and replay.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import {
  CreateWebhookRequest,
  CreateWebhookResponse,
  ListQuery,
  UpdateWebhookRequest,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryStatus,
  WebhookList,
} from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import { refuseTarget } from './ssrf.js'
import {
  createWebhook,
  deleteWebhook,
  deliveriesToWire,
  getDelivery,
  getWebhook,
  listDeliveries,
  listWebhooks,
  replayDelivery,
  updateWebhook,
  webhookToWire,
} from './service.js'

const WebhookIdParam = z.object({ id: z.string().describe('Webhook id (`whk_...`).') })
const DeliveryParams = z.object({ id: z.string().describe('Webhook id (`whk_...`).'), deliveryId: z.string().describe('Delivery id (`whd_...`).') })
const DeliveryListQuery = ListQuery.extend({ status: WebhookDeliveryStatus.optional() })

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, config, crypto } = deps

  const checkTarget = (url: string) => {
    const why = refuseTarget(url, config.webhookAllowPrivate)
    if (why) throw new ServiceError('validation_error', `body.url: ${why}`, [{ path: 'body.url', message: why }])
  }

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/webhooks',
      operationId: 'createWebhook',
      tags: ['webhooks'],
      summary: 'Add a webhook endpoint. Its signing secret is in the answer, once.',
      request: body(CreateWebhookRequest),
      responses: { 201: json(CreateWebhookResponse, 'The endpoint and its secret (shown once).') },
    }),
    async (c) => {
      const input = c.req.valid('json')
      checkTarget(input.url)
      const { tenantId } = scopeOf(c.get('principal'))
      const created = await withTenant(database, { tenantId }, async (tx) => {
        let inboxId: string | null = null
        if (input.inboxId) {
          inboxId = fromPublicId('inbox', input.inboxId)
          if (!inboxId || !(await getInbox(tx, inboxId))) throw notFound('inbox')
        }
        const cipher = await crypto.cipher(tx, tenantId)
        return createWebhook(tx, cipher, {
          tenantId,
          url: input.url,
          inboxId,
          eventTypes: input.eventTypes,
          payload: input.payload,
          description: input.description ?? null,
        })
      })
      return reply(c, CreateWebhookResponse, { ...webhookToWire(created.row), secret: created.secret }, 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/webhooks',
      operationId: 'listWebhooks',
      tags: ['webhooks'],
      summary: "List the tenant's webhook endpoints.",
      request: { query: ListQuery },
      responses: { 200: json(WebhookList, 'A page of endpoints, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await withTenant(database, scopeOf(c.get('principal')), (tx) => listWebhooks(tx, q.limit, cursorOf(q.after)))
      return reply(c, WebhookList, { data: page.rows.map(webhookToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/webhooks/{id}',
      operationId: 'getWebhook',
      tags: ['webhooks'],
      summary: 'Get a webhook endpoint.',
      request: { params: WebhookIdParam },
      responses: { 200: json(Webhook, 'The endpoint.') },
    }),
    async (c) => {
      const id = pathId('webhook', c.req.valid('param').id, 'webhook')
      const row = await withTenant(database, scopeOf(c.get('principal')), (tx) => getWebhook(tx, id))
      if (!row) throw notFound('webhook')
      return reply(c, Webhook, webhookToWire(row), 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'patch',
      path: '/v1/webhooks/{id}',
      operationId: 'updateWebhook',
      tags: ['webhooks'],
      summary: 'Change an endpoint; `status: enabled` re-enables a disabled one (its pending deliveries resume).',
      request: { params: WebhookIdParam, ...body(UpdateWebhookRequest) },
      responses: { 200: json(Webhook, 'The updated endpoint.') },
    }),
    async (c) => {
      const id = pathId('webhook', c.req.valid('param').id, 'webhook')
      const patch = c.req.valid('json')
      const row = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        if (!(await getWebhook(tx, id))) return null
        if (patch.url !== undefined) checkTarget(patch.url)
        return updateWebhook(tx, id, patch)
      })
      if (!row) throw notFound('webhook')
      return reply(c, Webhook, webhookToWire(row), 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/webhooks/{id}',
      operationId: 'deleteWebhook',
      tags: ['webhooks'],
      summary: 'Delete an endpoint and its delivery log.',
      request: { params: WebhookIdParam },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const id = pathId('webhook', c.req.valid('param').id, 'webhook')
      const found = await withTenant(database, scopeOf(c.get('principal')), (tx) => deleteWebhook(tx, id))
      if (!found) throw notFound('webhook')
      return c.body(null, 204)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/webhooks/{id}/deliveries',
      operationId: 'listWebhookDeliveries',
      tags: ['webhooks'],
      summary: "An endpoint's deliveries with their latest attempts, newest first.",
      request: { params: WebhookIdParam, query: DeliveryListQuery },
      responses: { 200: json(WebhookDeliveryList, 'A page of deliveries.') },
    }),
    async (c) => {
      const id = pathId('webhook', c.req.valid('param').id, 'webhook')
      const q = c.req.valid('query')
      const out = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        if (!(await getWebhook(tx, id))) return null
        const page = await listDeliveries(tx, id, q.status, q.limit, cursorOf(q.after))
        return { data: await deliveriesToWire(tx, page.rows), nextCursor: page.nextCursor }
      })
      if (!out) throw notFound('webhook')
      return reply(c, WebhookDeliveryList, out, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/webhooks/{id}/deliveries/{deliveryId}/replay',
      operationId: 'replayWebhookDelivery',
      tags: ['webhooks'],
      summary: 'Send a delivery again now (same `webhook-id`), whatever its status.',
      request: { params: DeliveryParams },
      responses: { 200: json(WebhookDelivery, 'The delivery, pending again.'), ...conflictError },
    }),
    async (c) => {
      const params = c.req.valid('param')
      const webhookId = pathId('webhook', params.id, 'webhook')
      const deliveryId = pathId('webhookDelivery', params.deliveryId, 'delivery')
      const out = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const hook = await getWebhook(tx, webhookId)
        if (!hook) throw notFound('delivery')
        const d = await getDelivery(tx, webhookId, deliveryId)
        if (!d) throw notFound('delivery')
        if (hook.status !== 'enabled') throw new ServiceError('conflict', 'the endpoint is disabled; enable it (PATCH status: enabled) to replay')
        const r = await replayDelivery(tx, d)
        if (r === 'in_flight') throw new ServiceError('conflict', 'this delivery is being sent right now')
        return (await deliveriesToWire(tx, [r]))[0]!
      })
      deps.webhooks?.kick()
      return reply(c, WebhookDelivery, out, 200)
    },
  )
}
