// /v1/inboxes/{id}/threads: an inbox's conversations.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { ListQuery, ThreadList, ThreadWithMessages } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { getThread, listThreads, summaryToWire, threadToWire, unreadThreads } from './service.js'
import { inInbox, InboxParam, ThreadParams } from './params.js'

export function registerThreadRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
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
      const page = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await listThreads(tx, inboxId, q.limit, cursorOf(q.after))
        const unread = await unreadThreads(tx, res.rows)
        return { data: res.rows.map((t) => threadToWire(t, cipher, unread.has(t.id))), nextCursor: res.nextCursor }
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
      const body = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const t = await getThread(tx, inboxId, threadId)
        if (!t) throw notFound('thread')
        const unread = t.messages.some((m) => m.seenAt === null && m.direction === 'inbound' && !m.quarantined && !m.hidden)
        return { ...threadToWire(t.thread, cipher, unread), messages: t.messages.map((m) => summaryToWire(m, t.atts.get(m.id) ?? [], cipher)) }
      })
      return reply(c, ThreadWithMessages, body, 200)
    },
  )
}
