// An inbox's own bookkeeping: PATCH a message (read state, labels), the inbox's counts, search.
// A tenant key on any of its inboxes, an inbox key on its own (quarantined mail stays out of reach).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { MailboxCounts, Message, SearchQuery, SearchResults, UpdateMessageRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { attachmentsOf, messageToWire, summaryToWire } from './service.js'
import { inInbox, InboxParam, MessageParams } from './params.js'
import { countsOf, updateMessage } from './mailbox.js'
import { searchMessages } from './search.js'

export function registerMailboxRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'patch',
      path: '/v1/inboxes/{id}/messages/{messageId}',
      operationId: 'updateMessage',
      tags: ['messages'],
      summary: 'Mark a message read or unread, add or remove labels.',
      description:
        'Labels are short lower-case words of the inbox (`handled` and `needs_reply` by convention); at most 20 per message. ' +
        'The inbox counts (`GET /v1/inboxes/{id}/counts`) change in the same transaction.',
      request: { params: MessageParams, ...body(UpdateMessageRequest) },
      responses: { 200: json(Message, 'The message as it is now.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const change = c.req.valid('json')
      const messageId = pathId('message', p.messageId, 'message')
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const m = await updateMessage(tx, inboxId, messageId, change)
        if (!m) throw notFound('message')
        return messageToWire(m, (await attachmentsOf(tx, [m.id])).get(m.id) ?? [], cipher)
      })
      return reply(c, Message, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/counts',
      operationId: 'getInboxCounts',
      tags: ['messages'],
      summary: 'How many messages the inbox holds and how many are unread, in all and per label.',
      description: 'Kept as mail arrives and changes (no scan of the mailbox). Quarantined and hidden mail is not counted.',
      request: { params: InboxParam },
      responses: { 200: json(MailboxCounts, 'The counts.') },
    }),
    async (c) => {
      const out = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, (tx, inboxId) => countsOf(tx, inboxId))
      return reply(c, MailboxCounts, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/search',
      operationId: 'searchMessages',
      tags: ['messages'],
      summary: 'Search the inbox by words, newest first.',
      description:
        'Finds messages holding every word of `q` (whole words, case and accents ignored) in the subject, the text, the sender and recipient names and addresses, or attachment names. ' +
        'No substrings, prefixes or phrases: the index holds keyed hashes of whole words, so mail stays encrypted at rest. Quarantined and hidden mail never matches.',
      request: { params: InboxParam, query: SearchQuery },
      responses: { 200: json(SearchResults, 'A page of matching messages.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await searchMessages(tx, cipher, inboxId, q.q, q, q.limit, cursorOf(q.after))
        return { data: res.rows.map((m) => summaryToWire(m, res.atts.get(m.id) ?? [], cipher)), nextCursor: res.nextCursor }
      })
      return reply(c, SearchResults, page, 200)
    },
  )
}
