// /v1/inboxes/{id}/messages: list, read, raw bytes, attachments, delete (a tenant key on any of its
// inboxes, an inbox key on its own). Waiting, threads and sending have files of their own.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { Message, MessageList, MessageListQuery } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { fromPublicId } from '../lib/ids.js'
import { AttachmentUnavailableError, attachmentsOf, getAttachment, getMessage, getRaw, listMessages, messageToWire, summaryToWire } from './service.js'
import { AttachmentParams, inInbox, InboxParam, MessageParams } from './params.js'
import { deleteWithAudit, releaseMessage } from './quarantine.js'
import { actorOf } from '../audit/service.js'

export function registerMessageRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages',
      operationId: 'listMessages',
      tags: ['messages'],
      summary: 'List messages, newest first, with filters.',
      request: { params: InboxParam, query: MessageListQuery },
      responses: { 200: json(MessageList, 'A page of messages.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      if (q.quarantined && c.get('principal').kind === 'inbox') {
        throw new ServiceError('forbidden', 'quarantined mail is for a person to decide on: list it with a tenant key')
      }
      let threadId: string | null | undefined
      if (q.threadId !== undefined) threadId = fromPublicId('thread', q.threadId)
      const page = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await listMessages(tx, cipher, inboxId, { ...q, threadId }, q.limit, cursorOf(q.after))
        return { data: res.rows.map((m) => summaryToWire(m, res.atts.get(m.id) ?? [], cipher)), nextCursor: res.nextCursor }
      })
      return reply(c, MessageList, page, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/{messageId}',
      operationId: 'getMessage',
      tags: ['messages'],
      summary: 'Get one message, parsed: addresses, subject, text, html, headers, attachments, authentication.',
      request: { params: MessageParams },
      responses: { 200: json(Message, 'The message.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const body = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        const atts = await attachmentsOf(tx, [m.id])
        return messageToWire(m, atts.get(m.id) ?? [], cipher)
      })
      return reply(c, Message, body, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/{messageId}/raw',
      operationId: 'getRawMessage',
      tags: ['messages'],
      summary: 'The message exactly as received (message/rfc822).',
      request: { params: MessageParams },
      responses: { 200: { description: 'The raw bytes.', content: { 'message/rfc822': { schema: z.string() } } } },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const raw = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        return getRaw(tx, cipher, m.rawId)
      })
      if (!raw) throw notFound('message')
      return c.body(new Uint8Array(raw), 200, { 'Content-Type': 'message/rfc822', 'Content-Length': String(raw.length) })
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/{messageId}/attachments/{attachmentId}',
      operationId: 'getAttachment',
      tags: ['messages'],
      summary: "An attachment's content, with its content type.",
      request: { params: AttachmentParams },
      responses: { 200: { description: 'The attachment bytes.', content: { 'application/octet-stream': { schema: z.string() } } } },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const attachmentId = pathId('attachment', p.attachmentId, 'attachment')
      const found = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        return getAttachment(tx, cipher, m, attachmentId)
      })
      if (!found) throw notFound('attachment')
      const content = await deps.attachments.bytes(found.row.tenantId, found).catch((err: unknown) => {
        if (!(err instanceof AttachmentUnavailableError)) throw err
        deps.log.error('attachment: the raw message no longer yields it', { attachmentId, tenantId: found.row.tenantId })
        throw new ServiceError('internal_error', err.message)
      })
      const name = (found.row.filename ?? 'attachment').replace(/[^\w.\- ]+/g, '_')
      return c.body(new Uint8Array(content), 200, {
        'Content-Type': /^[\w.+-]+\/[\w.+-]+$/.test(found.row.contentType) ? found.row.contentType : 'application/octet-stream',
        'Content-Length': String(content.length),
        'Content-Disposition': `attachment; filename="${name}"`,
        'X-Content-Type-Options': 'nosniff',
      })
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'delete',
      path: '/v1/inboxes/{id}/messages/{messageId}',
      operationId: 'deleteMessage',
      tags: ['messages'],
      summary: 'Delete a message, its attachments and (when no other copy uses them) its raw bytes.',
      request: { params: MessageParams },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        await deleteWithAudit(tx, m, actorOf(c.get('principal')), deps.clock.now())
      })
      return c.body(null, 204)
    },
  )
  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/release',
      operationId: 'releaseMessage',
      tags: ['messages'],
      summary: 'Release a quarantined message to its agent (a person\'s decision: tenant keys only).',
      description:
        'The message then reaches the agent as if it had just arrived: it takes the inbox\'s next arrival position (a wait from an earlier cursor sees it, exactly once), ' +
        'waiters are woken, the inbox\'s webhooks get `message.received` and the tenant\'s `message.released`. Recorded in the audit log. 409 when it is not quarantined.',
      request: { params: MessageParams },
      responses: { 200: json(Message, 'The released message.'), ...conflictError },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const body = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        const released = await releaseMessage(tx, cipher, m, actorOf(c.get('principal')))
        return messageToWire(released, (await attachmentsOf(tx, [m.id])).get(m.id) ?? [], cipher)
      })
      return reply(c, Message, body, 200)
    },
  )
}
