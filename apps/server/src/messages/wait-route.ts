// /v1/inboxes/{id}/messages/wait: the long-poll. Auth, validation and the first look run in the
// handler; a wait that has to hold is parked in the wait registry (events/waits.ts) with the Node
// response and answered from there.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { WaitQuery, WaitResponse } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { defineRoute, json, pathId } from '../http/route.js'
import { ServiceError } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { compileMatcher, decodeWaitCursor, type WaitCursor } from './wait.js'
import { deferredSink, nodeSink } from '../events/waits.js'
import { InboxParam } from './params.js'

/**
 * A hold of 80-100% of the asked timeout, so waits that began together (a fleet of agents
 * started at once) do not all end and re-poll in the same second.
 */
const holdOf = (timeoutS: number) => Math.round(timeoutS * 1000 * (0.8 + 0.2 * Math.random()))

export function registerWaitRoute(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { waits } = deps

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
      const wait = { scope, inboxId, matcher, cursor, holdMs: holdOf(q.timeout), requestId: c.get('requestId'), recheck: c.get('recheck'), reach: c.get('reach'), recheckAlways: !deps.keys.hearsChanges }
      const early = await waits.open(wait, () => {
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
}
