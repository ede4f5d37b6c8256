// /v1/inboxes/{id}/messages and /threads: a tenant key on any of its inboxes, an inbox key on its own.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { ListQuery, Message, MessageList, MessageListQuery, Thread, ThreadList, ThreadWithMessages, WaitQuery, WaitResponse } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/auth.js'
import { withTenant, type TenantScope } from '../db/scope.js'
import type { Tx } from '../db/client.js'
import type { Cipher } from '../crypto/service.js'
import { fromPublicId } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import { AttachmentUnavailableError, attachmentsOf, deleteMessage, getAttachment, getMessage, getRaw, getThread, listMessages, listThreads, messageToWire, summaryToWire, threadToWire } from './service.js'
import { compileMatcher, decodeWaitCursor, type WaitCursor } from './wait.js'
import { deferredSink, nodeSink } from '../events/waits.js'

/**
 * A hold of 80-100% of the asked timeout, so waits that began together (a fleet of agents
 * started at once) do not all end and re-poll in the same second.
 */
const holdOf = (timeoutS: number) => Math.round(timeoutS * 1000 * (0.8 + 0.2 * Math.random()))

const InboxParam = z.object({ id: z.string().describe('Inbox id (`inb_...`).') })
const MessageParams = InboxParam.extend({ messageId: z.string().describe('Message id (`msg_...`).') })
const AttachmentParams = MessageParams.extend({ attachmentId: z.string().describe('Attachment id (`att_...`).') })
const ThreadParams = InboxParam.extend({ threadId: z.string().describe('Thread id (`thr_...`).') })

export function registerMessageRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, crypto } = deps
  const { waits } = deps

  /** Runs `fn` in the caller's scope once the inbox is known to be visible to it. */
  const inInbox = <T>(scope: TenantScope, publicInboxId: string, fn: (tx: Tx, inboxId: string, cipher: Cipher) => Promise<T>) => {
    const inboxId = pathId('inbox', publicInboxId, 'inbox')
    return withTenant(database, scope, async (tx) => {
      if (!(await getInbox(tx, inboxId))) throw notFound('inbox')
      return fn(tx, inboxId, await crypto.cipher(tx, scope.tenantId))
    })
  }

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/wait',
      operationId: 'waitForMessage',
      tags: ['messages'],
      summary: 'Long-poll for the first message that matches and arrived after the cursor.',
      description:
        'Holds the request up to `timeout` seconds (at most 30). Without `cursor`, the cursor is the moment this wait began. ' +
        'Answers 200 with the message and the cursor to continue from, or 204 with the cursor in `Mailroom-Cursor`.',
      request: { params: InboxParam, query: WaitQuery },
      responses: {
        200: json(WaitResponse, 'A matching message.'),
        204: { description: 'Nothing matched in time; continue with the cursor in the Mailroom-Cursor header.', headers: { 'Mailroom-Cursor': { schema: { type: 'string' } } } },
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = scopeOf(c.get('principal'))
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const matcher = compileMatcher(q)
      let cursor: WaitCursor | null = null
      if (q.cursor !== undefined) {
        cursor = decodeWaitCursor(q.cursor)
        if (!cursor) throw new ServiceError('validation_error', 'query.cursor: not a cursor this API issued', [{ path: 'query.cursor', message: 'invalid cursor' }])
      }
      // Auth, validation and the first look run here; a wait that has to hold is parked in the
      // registry with the Node response and answered from there (this handler returns at once).
      const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing
      let deferred: Promise<Response> | null = null
      const early = await waits.open({ scope, inboxId, matcher, cursor, holdMs: holdOf(q.timeout), requestId: c.get('requestId') }, () => {
        if (outgoing) return nodeSink(outgoing)
        const d = deferredSink(c.req.raw.signal)
        deferred = d.response
        return d.sink
      })
      if (early) {
        c.header('Mailroom-Cursor', early.cursor)
        return early.status === 204 ? c.body(null, 204) : c.json(early.body, 200)
      }
      return deferred ?? RESPONSE_ALREADY_SENT
    },
  )

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
      let threadId: string | null | undefined
      if (q.threadId !== undefined) threadId = fromPublicId('thread', q.threadId)
      const page = await inInbox(scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
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
      const body = await inInbox(scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
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
      const raw = await inInbox(scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
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
      const found = await inInbox(scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
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
      await inInbox(scopeOf(c.get('principal')), p.id, async (tx, inboxId) => {
        const m = await getMessage(tx, inboxId, messageId)
        if (!m) throw notFound('message')
        await deleteMessage(tx, m)
      })
      return c.body(null, 204)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/threads',
      operationId: 'listThreads',
      tags: ['messages'],
      summary: "The inbox's conversations, most recent first.",
      request: { params: InboxParam, query: ListQuery },
      responses: { 200: json(ThreadList, 'A page of threads.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await inInbox(scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await listThreads(tx, inboxId, q.limit, cursorOf(q.after))
        return { data: res.rows.map((t) => threadToWire(t, cipher)), nextCursor: res.nextCursor }
      })
      return reply(c, ThreadList, page, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/threads/{threadId}',
      operationId: 'getThread',
      tags: ['messages'],
      summary: 'A thread with its messages, oldest first.',
      request: { params: ThreadParams },
      responses: { 200: json(ThreadWithMessages, 'The thread.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const threadId = pathId('thread', p.threadId, 'thread')
      const body = await inInbox(scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const t = await getThread(tx, inboxId, threadId)
        if (!t) throw notFound('thread')
        return { ...threadToWire(t.thread, cipher), messages: t.messages.map((m) => summaryToWire(m, t.atts.get(m.id) ?? [], cipher)) }
      })
      return reply(c, ThreadWithMessages, body, 200)
    },
  )
  void Thread
}
