// /v1/tenants and /v1/me.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import {
  CreateTenantRequest,
  CreateTenantResponse,
  ListQuery,
  Me,
  Tenant,
  TenantList,
  UpdateTenantRequest,
} from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeFor, scopeOf } from '../http/caller.js'
import { asOperator, sayChecked, withTenant } from '../db/scope.js'
import { fromPublicId, toPublicId } from '../lib/ids.js'
import {
  createRootTenant,
  createTenantWithKey,
  deleteTenantFor,
  assertWithinParent,
  getTenant,
  listChildren,
  listRootTenants,
  tenantToWire,
  updateTenant,
} from './service.js'
import { getInbox, inboxToWire } from '../inboxes/service.js'
import { limitDefaults } from '../limits/api-rate.js'
import { effectivePolicies } from '../policies/service.js'
import { actorOf, audit } from '../audit/service.js'
import { dedicateTenant, parseNode, tenantPlacement } from './placement.js'

const DedicateRequest = z.object({ node: z.string().min(3).max(300) }).strict()

const IdParam = z.object({ id: z.string().describe('Tenant id (`tnt_...`).') })

export function registerTenantRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database, crypto } = deps

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/tenants',
      operationId: 'createTenant',
      tags: ['tenants'],
      summary: 'Create a child tenant of the caller (the operator key creates top-level tenants).',
      request: body(CreateTenantRequest),
      responses: { 201: json(CreateTenantResponse, 'The tenant and its first tenant key (shown once).'), ...conflictError },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const p = c.get('principal')
      if (p.kind === 'operator' && p.tenantId === null) {
        const { tenant, apiKey } = await createRootTenant(database, crypto, input.name)
        const updated = await withTenant(database, { tenantId: tenant.id }, async (tx) => {
          // Its first limits are the operator's to set (migration 0037).
          await sayChecked(tx, 'operator')
          await audit(tx, tenant.id, actorOf(p), 'tenant.created', { type: 'tenant', id: toPublicId('tenant', tenant.id) }, { name: input.name })
          return input.limits || input.metadata ? updateTenant(tx, tenant.id, { limits: input.limits, metadata: input.metadata }) : tenant
        })
        return reply(c, CreateTenantResponse, { ...tenantToWire(updated ?? tenant), apiKey }, 201)
      }
      const { tenantId } = scopeOf(p)
      const result = await withTenant(database, { tenantId }, async (tx) => {
        await assertWithinParent(tx, tenantId, input.limits, limitDefaults(deps.config), { path: 'body.limits' })
        const created = await createTenantWithKey(tx, crypto, { parentId: tenantId, name: input.name, limits: input.limits, policies: input.policies, metadata: input.metadata })
        await audit(tx, created.tenant.id, actorOf(p), 'tenant.created', { type: 'tenant', id: toPublicId('tenant', created.tenant.id) }, { name: input.name, limits: input.limits ?? {} })
        return created
      })
      return reply(c, CreateTenantResponse, { ...tenantToWire(result.tenant), apiKey: result.apiKey }, 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/tenants',
      operationId: 'listTenants',
      tags: ['tenants'],
      summary: 'List the direct children of the calling tenant (the operator key: the top-level tenants).',
      request: { query: ListQuery },
      responses: { 200: json(TenantList, 'A page of tenants, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const p = c.get('principal')
      // The operator key (without Mailroom-Tenant): the top-level tenants, which no tenant may list.
      if (p.kind === 'operator' && p.tenantId === null) {
        const roots = await asOperator(database, deps.owner, (tx) => listRootTenants(tx, q.limit, cursorOf(q.after)))
        return reply(c, TenantList, { data: roots.rows.map(tenantToWire), nextCursor: roots.nextCursor }, 200)
      }
      const { tenantId } = scopeOf(p)
      const page = await withTenant(database, { tenantId }, (tx) => listChildren(tx, tenantId, q.limit, cursorOf(q.after)))
      return reply(c, TenantList, { data: page.rows.map(tenantToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/tenants/{id}',
      operationId: 'getTenant',
      tags: ['tenants'],
      summary: 'Get the calling tenant or one of its descendants (the operator key: any tenant).',
      request: { params: IdParam },
      responses: { 200: json(Tenant, 'The tenant.') },
    }),
    async (c) => {
      const id = fromPublicId('tenant', c.req.valid('param').id)
      if (!id) throw notFound('tenant')
      // The operator key (without Mailroom-Tenant) reads any tenant as the tenant reads itself.
      const found = await withTenant(database, scopeFor(c.get('principal'), id), async (tx) => {
        const row = await getTenant(tx, id)
        return row ? { row, effective: await effectivePolicies(tx, row.id) } : null
      })
      if (!found) throw notFound('tenant')
      // On Citus the operator also sees where the tenant's rows live (never a tenant: placement is ours).
      const placement = c.get('principal').kind === 'operator' && deps.owner?.citus ? await tenantPlacement(deps.owner, found.row.id) : null
      return reply(c, Tenant, { ...tenantToWire(found.row), effectivePolicies: found.effective, ...(placement ? { placement } : {}) }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'patch',
      path: '/v1/tenants/{id}',
      operationId: 'updateTenant',
      tags: ['tenants'],
      summary: 'Rename, suspend/resume or set the limits of a descendant (name and metadata of itself; the operator key: of any tenant, a top-level one too).',
      request: { params: IdParam, ...body(UpdateTenantRequest) },
      responses: { 200: json(Tenant, 'The updated tenant.') },
    }),
    async (c) => {
      const id = fromPublicId('tenant', c.req.valid('param').id)
      const patch = c.req.valid('json')
      const p = c.get('principal')
      // The operator key (without Mailroom-Tenant) changes any tenant as its parent would, bound to the
      // parent; a top-level tenant, which has no parent, bound to itself and saying that the change is
      // the operator's (app.operator: Postgres refuses a tenant's own change of its status, limits or
      // imposed policies otherwise, migration 0037).
      const byOperator = p.kind === 'operator' && p.tenantId === null
      const target = byOperator && id ? await withTenant(database, { tenantId: id }, (tx) => getTenant(tx, id)) : null
      if (byOperator && !target) throw notFound('tenant')
      const tenantId = target ? (target.parentId ?? target.id) : scopeOf(p).tenantId
      const row = await withTenant(database, { tenantId }, async (tx) => {
        if (target && !target.parentId) await sayChecked(tx, 'operator')
        const existing = id ? await getTenant(tx, id) : null
        if (!existing) throw notFound('tenant')
        if (!byOperator && existing.id === tenantId && (patch.status !== undefined || patch.limits !== undefined)) {
          throw new ServiceError('forbidden', "a tenant's status and limits are set by its parent")
        }
        if (patch.limits && existing.parentId) {
          await assertWithinParent(tx, existing.parentId, patch.limits, limitDefaults(deps.config), { path: 'body.limits' })
        }
        // A tenant's own policies, or (set by an ancestor or the operator) the ones imposed on it.
        const { policies, ...rest } = patch
        const self = p.kind !== 'operator' && p.keyTenantId === existing.id
        const updated = await updateTenant(tx, existing.id, { ...rest, ...(policies ? (self ? { policies } : { parentPolicies: policies }) : {}) })
        const action =
          patch.status && patch.status !== existing.status ? (patch.status === 'suspended' ? 'tenant.suspended' : 'tenant.resumed') : 'tenant.updated'
        await audit(tx, existing.id, actorOf(p), action, { type: 'tenant', id: toPublicId('tenant', existing.id) }, { ...patch })
        return updated ? { row: updated, effective: await effectivePolicies(tx, updated.id) } : null
      })
      if (!row) throw notFound('tenant')
      return reply(c, Tenant, { ...tenantToWire(row.row), effectivePolicies: row.effective }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/tenants/{id}',
      operationId: 'deleteTenant',
      tags: ['tenants'],
      summary: 'Delete a descendant tenant with all of its data and its own descendants (the operator key: any tenant, a top-level one too).',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const id = fromPublicId('tenant', c.req.valid('param').id)
      if (!id) throw notFound('tenant')
      const p = c.get('principal')
      // The operator key (without Mailroom-Tenant) deletes any tenant, a top-level one included.
      const byOperator = p.kind === 'operator' && p.tenantId === null
      const done = await deleteTenantFor(database, crypto, { tenantId: byOperator ? null : scopeOf(p).tenantId, actor: actorOf(p) }, id, deps.log)
      if (!done) throw notFound('tenant')
      if (byOperator) deps.log.info('tenant deleted by the operator', { tenant: toPublicId('tenant', id), name: done.tenant.name, tenantsDeleted: done.deleted })
      return c.body(null, 204)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/me',
      operationId: 'getMe',
      tags: ['tenants'],
      summary: 'What the calling key is: its tenant and, for an inbox key, its inbox.',
      responses: { 200: json(Me, 'The caller.') },
    }),
    async (c) => {
      const p = c.get('principal')
      const scope = scopeOf(p)
      const { tenant, inbox } = await withTenant(database, scope, async (tx) => ({
        tenant: await getTenant(tx, scope.tenantId),
        inbox: scope.inboxId ? await getInbox(tx, scope.inboxId) : null,
      }))
      if (!tenant) throw notFound('tenant')
      return reply(
        c,
        Me,
        {
          keyId: p.kind === 'operator' ? null : toPublicId('apiKey', p.keyId),
          scope: p.kind,
          tenant: tenantToWire(tenant),
          inbox: inbox ? inboxToWire(inbox) : null,
        },
        200,
      )
    },
  )

  // Operator only, and not in the OpenAPI document (no tenant or agent ever calls it, and the SDK
  // does not offer it): the tenant and its descendants on shards of their own, moved to `node`.
  // Answers when the move is done (online: mail keeps arriving meanwhile). Anyone else: no route.
  app.post('/v1/operator/tenants/:id/dedicate', async (c) => {
    const p = c.get('principal')
    if (p.kind !== 'operator') throw new ServiceError('not_found', `no route POST ${c.req.path}`)
    const id = fromPublicId('tenant', c.req.param('id'))
    if (!id) throw notFound('tenant')
    const parsed = DedicateRequest.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw new ServiceError('validation_error', 'body: expected {"node": "host:port"}')
    if (!deps.owner) throw new ServiceError('conflict', 'dedicated placement needs a Citus cluster (README, Scaling out)')
    const steps = await dedicateTenant(deps.owner, id, parseNode(parsed.data.node))
    return c.json({ data: steps.map((s) => ({ tenantId: toPublicId('tenant', s.tenantId), isolated: s.isolated, moved: s.moved, ...s.placement })) }, 200)
  })
}
