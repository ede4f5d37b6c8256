// /v1/tenants/{id}/sending: a tenant's sending state (paused or not, rates, IP pool), resumed and
// assigned a pool by an ancestor or the operator.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { SendingState, UpdateSendingRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv, Principal } from '../http/context.js'
import { body, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeFor, scopeOf } from '../http/caller.js'
import { rebindTenant, sayChecked, withTenant } from '../db/scope.js'
import type { Tx } from '../db/client.js'
import { getTenant, isDescendant } from '../tenancy/service.js'
import { DEFAULT_REPUTATION, resume, sendingStateOf, setIpPool } from './reputation.js'

const TenantParam = z.object({ id: z.string().describe('Tenant id (`tnt_...`).') })

export function registerSendingRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database } = deps
  const reputation = deps.delivery?.reputation ?? DEFAULT_REPUTATION

  /**
   * The target tenant `id` of a sending-state route, in a transaction bound to `tenantId` (scopeFor);
   * `manage`: only an ancestor (or the operator).
   */
  const target = async (tx: Tx, p: Principal, id: string, tenantId: string, manage: boolean) => {
    const row = await getTenant(tx, id)
    if (!row) throw notFound('tenant')
    if (manage && p.kind !== 'operator' && !isDescendant(row, tenantId)) {
      throw new ServiceError('forbidden', "only an ancestor tenant or the operator can change a tenant's sending")
    }
    if (id !== tenantId) await rebindTenant(tx, { tenantId: id })
    // Checked: the caller is an ancestor or the operator. Postgres refuses a resume, a fresh window or
    // a pool bound to the tenant itself otherwise (migration 0038).
    if (manage) await sayChecked(tx, 'sending_manager')
  }

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/tenants/{id}/sending',
      operationId: 'getSendingState',
      tags: ['sending'],
      summary: "A tenant's sending state: paused (and why), bounce and complaint rates, IP pool.",
      request: { params: TenantParam },
      responses: { 200: json(SendingState, 'The state.') },
    }),
    async (c) => {
      const p = c.get('principal')
      const id = pathId('tenant', c.req.valid('param').id, 'tenant')
      const scope = scopeFor(p, id)
      const state = await withTenant(database, scope, async (tx) => {
        await target(tx, p, id, scope.tenantId, false)
        return sendingStateOf(tx, id, reputation)
      })
      return reply(c, SendingState, state, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'patch',
      path: '/v1/tenants/{id}/sending',
      operationId: 'updateSending',
      tags: ['sending'],
      summary: "Assign a descendant's IP pool (the operator: any configured pool; an ancestor: `shared` or its own).",
      request: { params: TenantParam, ...body(UpdateSendingRequest) },
      responses: { 200: json(SendingState, 'The state now.') },
    }),
    async (c) => {
      const pool = c.req.valid('json').ipPool.toLowerCase()
      const p = c.get('principal')
      if (pool !== 'shared' && !deps.config.ipPools[pool]) {
        throw new ServiceError('validation_error', `body.ipPool: no IP pool named ${pool} is configured`, [{ path: 'body.ipPool', message: 'unknown pool' }])
      }
      const id = pathId('tenant', c.req.valid('param').id, 'tenant')
      const scope = scopeFor(p, id)
      const state = await withTenant(database, scope, async (tx) => {
        const callerPool = p.kind === 'operator' ? null : (await sendingStateOf(tx, scopeOf(p).tenantId, reputation)).ipPool
        await target(tx, p, id, scope.tenantId, true)
        if (callerPool !== null && pool !== 'shared' && pool !== callerPool) {
          throw new ServiceError('forbidden', `only the operator can assign the ${pool} pool; a tenant may assign shared or its own pool`)
        }
        await setIpPool(tx, id, pool)
        return sendingStateOf(tx, id, reputation)
      })
      return reply(c, SendingState, state, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/tenants/{id}/sending/resume',
      operationId: 'resumeSending',
      tags: ['sending'],
      summary: "Resume a descendant's paused sending (ancestors and the operator only); starts a fresh reputation window.",
      request: { params: TenantParam },
      responses: { 200: json(SendingState, 'The state now.') },
    }),
    async (c) => {
      const p = c.get('principal')
      const id = pathId('tenant', c.req.valid('param').id, 'tenant')
      const scope = scopeFor(p, id)
      const state = await withTenant(database, scope, async (tx) => {
        await target(tx, p, id, scope.tenantId, true)
        await resume(tx, await deps.crypto.cipher(tx, id), id)
        return sendingStateOf(tx, id, reputation)
      })
      return reply(c, SendingState, state, 200)
    },
  )
}
