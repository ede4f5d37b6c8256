// /v1/inboxes: tenant keys manage inboxes; an inbox key sees only its own.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { CreateInboxRequest, CreateInboxResponse, Inbox, InboxList, ListQuery, UpdateInboxRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { effectivePolicies } from '../policies/service.js'
import { createInbox, deleteInbox, getInbox, inboxToWire, listInboxes, updateInbox } from './service.js'
import { actorOf, audit } from '../audit/service.js'
import { requireVerifiedDomain } from '../domains/service.js'
import { toPublicId } from '../lib/ids.js'

export const InboxIdParam = z.object({ id: z.string().describe('Inbox id (`inb_...`).') })

export function registerInboxRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, config } = deps

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/inboxes',
      operationId: 'createInbox',
      tags: ['inboxes'],
      summary: 'Create an inbox (an agent\'s mailbox), optionally with an inbox key.',
      request: body(CreateInboxRequest),
      responses: { 201: json(CreateInboxResponse, 'The inbox (and its key, shown once).'), ...conflictError },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const p = c.get('principal')
      const { tenantId } = scopeOf(p)
      const { inbox, apiKey } = await withTenant(database, { tenantId }, async (tx) => {
        const { domain: requested, ...rest } = input
        const domain = requested && requested !== config.domain ? await requireVerifiedDomain(tx, requested) : config.domain
        const created = await createInbox(tx, { ...rest, tenantId, domain })
        await audit(tx, tenantId, actorOf(p), 'inbox.created', { type: 'inbox', id: toPublicId('inbox', created.inbox.id) }, {
          address: created.inbox.address,
          withKey: Boolean(created.apiKey),
        })
        return created
      })
      return reply(c, CreateInboxResponse, { ...inboxToWire(inbox), ...(apiKey ? { apiKey } : {}) }, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes',
      operationId: 'listInboxes',
      tags: ['inboxes'],
      summary: "List the tenant's inboxes (an inbox key sees only its own).",
      request: { query: ListQuery },
      responses: { 200: json(InboxList, 'A page of inboxes, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await withTenant(database, scopeOf(c.get('principal')), (tx) => listInboxes(tx, q.limit, cursorOf(q.after)))
      return reply(c, InboxList, { data: page.rows.map(inboxToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}',
      operationId: 'getInbox',
      tags: ['inboxes'],
      summary: 'Get an inbox.',
      request: { params: InboxIdParam },
      responses: { 200: json(Inbox, 'The inbox.') },
    }),
    async (c) => {
      const id = pathId('inbox', c.req.valid('param').id, 'inbox')
      const scope = scopeOf(c.get('principal'))
      const found = await withTenant(database, scope, async (tx) => {
        const row = await getInbox(tx, id)
        return row ? { row, effective: await effectivePolicies(tx, row.tenantId, row) } : null
      })
      if (!found) throw notFound('inbox')
      return reply(c, Inbox, { ...inboxToWire(found.row), effectivePolicies: found.effective }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'patch',
      path: '/v1/inboxes/{id}',
      operationId: 'updateInbox',
      tags: ['inboxes'],
      summary: "Change an inbox's display name, metadata or policies.",
      request: { params: InboxIdParam, ...body(UpdateInboxRequest) },
      responses: { 200: json(Inbox, 'The updated inbox.') },
    }),
    async (c) => {
      const id = pathId('inbox', c.req.valid('param').id, 'inbox')
      const p = c.get('principal')
      const scope = scopeOf(p)
      const row = await withTenant(database, scope, async (tx) => {
        const updated = await updateInbox(tx, id, c.req.valid('json'))
        if (!updated) return null
        await audit(tx, scope.tenantId, actorOf(p), 'inbox.updated', { type: 'inbox', id: toPublicId('inbox', id) }, { ...c.req.valid('json') })
        return { row: updated, effective: await effectivePolicies(tx, updated.tenantId, updated) }
      })
      if (!row) throw notFound('inbox')
      return reply(c, Inbox, { ...inboxToWire(row.row), effectivePolicies: row.effective }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/inboxes/{id}',
      operationId: 'deleteInbox',
      tags: ['inboxes'],
      summary: 'Delete an inbox, its address, its keys and its mail.',
      request: { params: InboxIdParam },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const id = pathId('inbox', c.req.valid('param').id, 'inbox')
      const p = c.get('principal')
      const scope = scopeOf(p)
      const found = await withTenant(database, scope, async (tx) => {
        const existing = await getInbox(tx, id)
        if (!existing) return false
        await deleteInbox(tx, id)
        await audit(tx, scope.tenantId, actorOf(p), 'inbox.deleted', { type: 'inbox', id: toPublicId('inbox', id) }, { address: existing.address })
        return true
      })
      if (!found) throw notFound('inbox')
      return c.body(null, 204)
    },
  )
}
