// /v1/domains: a tenant's custom domains (tenant keys only).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { CreateDomainRequest, Domain, DomainList, ListQuery, UpdateDomainRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import { systemResolver } from '../mail/sender-auth.js'
import { checkRecords, createDomain, deleteDomain, domainToWire, getDomain, listDomains, setCatchAll, verifyDomain } from './service.js'

const DomainIdParam = z.object({ id: z.string().describe('Domain id (`dom_...`).') })

export function registerDomainRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, config, crypto } = deps
  const resolver = deps.resolver ?? systemResolver
  const wire = (d: Parameters<typeof domainToWire>[0]) => domainToWire(d, config.domain)

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/domains',
      operationId: 'createDomain',
      tags: ['domains'],
      summary: 'Add a custom domain; the answer lists the DNS records to publish.',
      request: body(CreateDomainRequest),
      responses: { 201: json(Domain, 'The domain (pending) and its records.'), ...conflictError },
    }),
    async (c) => {
      const { name } = c.req.valid('json')
      const { tenantId } = scopeOf(c.get('principal'))
      const row = await withTenant(database, { tenantId }, async (tx) => createDomain(tx, await crypto.cipher(tx, tenantId), tenantId, name, config.domain))
      return reply(c, Domain, wire(row), 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/domains',
      operationId: 'listDomains',
      tags: ['domains'],
      summary: "List the tenant's custom domains.",
      request: { query: ListQuery },
      responses: { 200: json(DomainList, 'A page of domains, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await withTenant(database, scopeOf(c.get('principal')), (tx) => listDomains(tx, q.limit, cursorOf(q.after)))
      return reply(c, DomainList, { data: page.rows.map(wire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/domains/{id}',
      operationId: 'getDomain',
      tags: ['domains'],
      summary: 'Get a domain and its records (as last checked).',
      request: { params: DomainIdParam },
      responses: { 200: json(Domain, 'The domain.') },
    }),
    async (c) => {
      const id = pathId('domain', c.req.valid('param').id, 'domain')
      const row = await withTenant(database, scopeOf(c.get('principal')), (tx) => getDomain(tx, id))
      if (!row) throw notFound('domain')
      return reply(c, Domain, wire(row), 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/domains/{id}/verify',
      operationId: 'verifyDomain',
      tags: ['domains'],
      summary: 'Look the records up now; the domain becomes verified when every required one holds.',
      request: { params: DomainIdParam },
      responses: { 200: json(Domain, 'The domain with each record\'s state.'), ...conflictError },
    }),
    async (c) => {
      const id = pathId('domain', c.req.valid('param').id, 'domain')
      const scope = scopeOf(c.get('principal'))
      const current = await withTenant(database, scope, (tx) => getDomain(tx, id))
      if (!current) throw notFound('domain')
      // DNS outside the transaction: a slow resolver holds no connection.
      const records = await checkRecords(current, config.domain, resolver)
      const out = await withTenant(database, scope, async (tx) => {
        const d = await getDomain(tx, id)
        return d ? verifyDomain(tx, d, records) : null
      })
      if (!out) throw notFound('domain')
      if (out.claimedElsewhere) throw new ServiceError('conflict', 'this domain is already verified by another account')
      return reply(c, Domain, wire(out.row), 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'patch',
      path: '/v1/domains/{id}',
      operationId: 'updateDomain',
      tags: ['domains'],
      summary: 'Set (or clear) the catch-all inbox that takes mail for unknown addresses of the domain.',
      request: { params: DomainIdParam, ...body(UpdateDomainRequest) },
      responses: { 200: json(Domain, 'The updated domain.') },
    }),
    async (c) => {
      const id = pathId('domain', c.req.valid('param').id, 'domain')
      const { catchAllInboxId } = c.req.valid('json')
      const row = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        if (!(await getDomain(tx, id))) return null
        let inboxId: string | null = null
        if (catchAllInboxId) {
          inboxId = fromPublicId('inbox', catchAllInboxId)
          if (!inboxId || !(await getInbox(tx, inboxId))) throw notFound('inbox')
        }
        return setCatchAll(tx, id, inboxId)
      })
      if (!row) throw notFound('domain')
      return reply(c, Domain, wire(row), 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/domains/{id}',
      operationId: 'deleteDomain',
      tags: ['domains'],
      summary: 'Remove a domain (and release its claim). Its inboxes must be deleted first.',
      request: { params: DomainIdParam },
      responses: { 204: { description: 'Deleted.' }, ...conflictError },
    }),
    async (c) => {
      const id = pathId('domain', c.req.valid('param').id, 'domain')
      const found = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const d = await getDomain(tx, id)
        if (!d) return false
        await deleteDomain(tx, d)
        return true
      })
      if (!found) throw notFound('domain')
      return c.body(null, 204)
    },
  )
}
