// GET /v1/events: the caller's events as Server-Sent Events, resuming from Last-Event-ID.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { defineRoute } from '../http/route.js'
import { ServiceError } from '../errors.js'
import { transientError } from '../http/errors.js'
import { scopeOf } from '../http/caller.js'
import { sql } from 'drizzle-orm'
import { withTenant } from '../db/scope.js'
import { rawRows } from '../db/client.js'
import { eventToWire, eventsAfter } from './service.js'
import { touchesKeysOf } from '../apikeys/key-changes.js'

const HEARTBEAT_MS = 15_000
/** After a change of a subtree (a tenant suspended, resumed or deleted) or of every key, each stream it touches asks again within this. */
const ALL_KEYS_SPREAD_MS = 1_000
const BATCH = 200

export function registerEventRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/events',
      operationId: 'streamEvents',
      tags: ['events'],
      summary: "A Server-Sent Events stream of the caller's events (an inbox key: its inbox's only).",
      description: 'Each event carries an `id`; reconnect with `Last-Event-ID` (or `?after=`) to resume without gaps.',
      request: {
        query: z.object({ after: z.string().regex(/^\d{1,18}$/).optional().describe('Resume after this event id.') }),
        headers: z.object({ 'last-event-id': z.string().optional() }),
      },
      responses: { 200: { description: 'text/event-stream of Event objects.', content: { 'text/event-stream': { schema: z.string() } } } },
    }),
    async (c) => {
      const scope = scopeOf(c.get('principal'))
      const fromHeader = c.req.header('last-event-id')
      const start = fromHeader ?? c.req.valid('query').after ?? null
      if (start !== null && !/^\d{1,18}$/.test(start)) throw new ServiceError('validation_error', 'Last-Event-ID: not an event id')
      // Without a position the stream starts at the newest event: only what happens from now on.
      let last =
        start !== null
          ? Number(start)
          : await withTenant(deps.database, scope, async (tx) => {
              const [row] = await rawRows<{ seq: string | number }>(tx, sql`select seq from tenant_event_seqs where tenant_id = ${scope.tenantId}`)
              return Number(row?.seq ?? 0)
            })
      // 429 before the stream starts, when the tenant (or the key's inbox) holds its most already.
      const release = deps.held.acquire(scope.tenantId, scope.inboxId ?? null, 'stream')
      return streamSSE(c, async (stream) => {
        const signal = c.req.raw.signal
        let wake: (() => void) | null = null
        // An arrival whose event this stream has already sent wakes nothing (on Citus each
        // notification comes again a moment later, db/echo.ts); one without an event (0) always wakes.
        const unlisten = deps.hub.onTenant(scope.tenantId, (a) => {
          if (a.eventSeq === 0 || a.eventSeq > last) wake?.()
        })
        // A change of keys that may touch this stream's (a key of its tenant revoked or an inbox
        // deleted; a tenant on its path suspended, resumed or deleted) wakes it, to ask again whether
        // its key lets it in. A change of a subtree (which may hold thousands of streams) or of every
        // key wakes each stream within a moment of its own, not all of them at once: their lookups
        // are spread out.
        const reach = c.get('reach')
        let recheckTimer: NodeJS.Timeout | undefined
        const unwatch = deps.keys.watch((change) => {
          if (!touchesKeysOf(change, reach)) return
          if ('tenantId' in change) wake?.()
          else recheckTimer ??= setTimeout(() => ((recheckTimer = undefined), wake?.()), Math.random() * ALL_KEYS_SPREAD_MS)
        })
        const off = () => {
          unlisten()
          unwatch()
          clearTimeout(recheckTimer)
          release()
        }
        stream.onAbort(() => wake?.())
        try {
          while (!signal.aborted && !stream.aborted) {
            const woken = new Promise<void>((r) => (wake = r))
            // Before anything more is sent (woken by an event, or at a keep-alive): the stream ends
            // once its key is revoked or expires, or its inbox or tenant is deleted or suspended. A
            // client reconnecting is then refused as any request would be (the SDK stops there).
            if (await c.get('recheck')()) break
            for (;;) {
              let rows: Awaited<ReturnType<typeof eventToWire>>[]
              try {
                rows = await withTenant(deps.database, scope, async (tx) => {
                  const list = await eventsAfter(tx, last, BATCH, scope.inboxId)
                  if (list.length === 0) return []
                  const cipher = await deps.crypto.cipher(tx, scope.tenantId)
                  return list.map((e) => eventToWire(e, cipher))
                })
              } catch (err) {
                // The database went away: the stream stays open and looks again once it is back
                // (the keep-alives go on meanwhile; the cursor makes the look lose nothing).
                if (!transientError(err)) throw err
                break
              }
              for (const e of rows) {
                await stream.writeSSE({ id: e.id, event: e.type, data: JSON.stringify(e) })
                last = Number(e.id)
              }
              if (rows.length < BATCH) break
            }
            let timer: NodeJS.Timeout | undefined
            await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, HEARTBEAT_MS)))])
            clearTimeout(timer)
            if (!stream.aborted) await stream.write(': keep-alive\n\n')
          }
        } finally {
          off()
        }
      })
    },
  )
}
