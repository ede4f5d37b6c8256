// Sending from an inbox: send, reply, forward (validated, limited and queued by delivery/send.ts),
// and the delivery status of a sent message per recipient.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { DeliveryList, ForwardRequest, ReplyRequest, SendRequest, SentMessage } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, defineRoute, json, pathId, reply } from '../http/route.js'
import { notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { sendMessage } from '../delivery/send.js'
import { deliveriesOf, deliveryToWire } from '../delivery/status.js'
import { getMessage } from './service.js'
import { inInbox, InboxParam, MessageParams } from './params.js'

const sendErrors = {
  403: json(z.any(), 'Sending is paused for this tenant (`sending_paused`), or the key may not do this.'),
  413: json(z.any(), 'The message is over the size limit (`payload_too_large`).'),
  429: json(z.any(), 'A sending limit is reached (`rate_limited`), or the first-contact limit (`first_contact_limit`); see `Retry-After`.'),
}
const HELD =
  'Held for approval (status `pending_approval`): an approval policy makes this mail wait for a person. It is stored and NOT sent until a tenant key approves it; ' +
  'do not send it again. Idempotency, limits and allow lists were decided now, as for a direct send.'
/** A send, reply or forward answers 201 (queued or scheduled) or 202 (held for approval). */
const sentResponses = { 201: json(SentMessage, 'Queued (or `scheduled`, with `sendAt`).'), 202: json(SentMessage, HELD), ...sendErrors }
const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().describe('Same key + same body within 24 h: the first result, nothing sent again.'),
})

export function registerSendRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages',
      operationId: 'sendMessage',
      tags: ['sending'],
      summary: 'Send a message from this inbox.',
      description:
        'Validated (addresses, CR/LF in headers, at most 50 recipients, size), then the tenant and inbox sending limits are decided atomically ' +
        '(429 + `Retry-After`), and the message is stored in the inbox with status `queued` and queued for delivery. ' +
        'Sent with an inbox key under an approval policy (`outboundApproval`), it is held instead: 202 with status `pending_approval`. With `sendAt`, it waits until then (status `scheduled`).',
      request: { params: InboxParam, headers: idempotencyHeader, ...body(SendRequest) },
      responses: sentResponses,
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const out = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'send', body: c.req.valid('json') })
      return out.held ? reply(c, SentMessage, out.sent, 202) : reply(c, SentMessage, out.sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/reply',
      operationId: 'replyToMessage',
      tags: ['sending'],
      summary: 'Reply to a message (In-Reply-To, References, `Re:`); `replyAll` adds the other recipients.',
      request: { params: MessageParams, headers: idempotencyHeader, ...body(ReplyRequest) },
      responses: sentResponses,
    }),
    async (c) => {
      const p = c.req.valid('param')
      const inboxId = pathId('inbox', p.id, 'inbox')
      const messageId = pathId('message', p.messageId, 'message')
      const out = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'reply', messageId, body: c.req.valid('json') })
      return out.held ? reply(c, SentMessage, out.sent, 202) : reply(c, SentMessage, out.sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/forward',
      operationId: 'forwardMessage',
      tags: ['sending'],
      summary: 'Forward a message (quoted, with its attachments unless `includeAttachments` is false).',
      request: { params: MessageParams, headers: idempotencyHeader, ...body(ForwardRequest) },
      responses: sentResponses,
    }),
    async (c) => {
      const p = c.req.valid('param')
      const inboxId = pathId('inbox', p.id, 'inbox')
      const messageId = pathId('message', p.messageId, 'message')
      const out = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'forward', messageId, body: c.req.valid('json') })
      return out.held ? reply(c, SentMessage, out.sent, 202) : reply(c, SentMessage, out.sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/{messageId}/deliveries',
      operationId: 'listDeliveries',
      tags: ['sending'],
      summary: 'Delivery status of a sent message, per recipient.',
      request: { params: MessageParams },
      responses: { 200: json(DeliveryList, 'One entry per recipient (empty for received mail).') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const data = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId) => {
        if (!(await getMessage(tx, inboxId, messageId))) throw notFound('message')
        return (await deliveriesOf(tx, messageId)).map(deliveryToWire)
      })
      return reply(c, DeliveryList, { data }, 200)
    },
  )
}
