// /v1/sender-rules: allow/block lists per tenant or per inbox (tenant keys only).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { CreateSenderRuleRequest, ListQuery, SenderRule, SenderRuleList } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { rebindTenant, sayChecked, withTenant } from '../db/scope.js'
import { fromPublicId } from '../lib/ids.js'
import { getInbox } from '../inboxes/service.js'
import { getTenant } from '../tenancy/service.js'
import { actorOf, audit } from '../audit/service.js'
import { createRule, deleteRule, getRule, listRules, ruleToWire } from './service.js'

export function registerRuleRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database } = deps

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/sender-rules',
      operationId: 'createSenderRule',
      tags: ['administration'],
      summary: 'Add an allow or block rule (an address or a domain), inbound or outbound, for the tenant or one inbox.',
      description:
        'Inbound: mail from a blocked sender is refused at SMTP (`blockMode: reject`) or accepted and kept hidden (`hide`); where allow rules exist, other senders are refused, ' +
        'and a message whose From is outside them, or on them but not verified (SPF/DKIM aligned with From, or DMARC pass), is quarantined (signal `sender.allow_list`). ' +
        'Outbound: where allow rules exist, sending to anyone else is refused. A rule made by an ancestor acting inside a tenant cannot be removed by that tenant.',
      request: body(CreateSenderRuleRequest),
      responses: { 201: json(SenderRule, 'The rule.'), ...conflictError },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const p = c.get('principal')
      const { tenantId } = scopeOf(p)
      const row = await withTenant(database, { tenantId }, async (tx) => {
        let inboxId: string | null = null
        if (input.inboxId) {
          inboxId = fromPublicId('inbox', input.inboxId)
          if (!inboxId || !(await getInbox(tx, inboxId))) throw notFound('inbox')
        }
        const created = await createRule(tx, tenantId, {
          inboxId,
          direction: input.direction,
          action: input.action,
          pattern: input.pattern,
          blockMode: input.blockMode,
          setByTenantId: p.kind === 'operator' ? tenantId : p.keyTenantId,
        })
        await audit(tx, tenantId, actorOf(p), 'sender_rule.created', { type: 'sender_rule', id: created.id }, { ...input })
        return created
      })
      return reply(c, SenderRule, ruleToWire(row), 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/sender-rules',
      operationId: 'listSenderRules',
      tags: ['administration'],
      summary: "The tenant's allow and block rules.",
      request: { query: ListQuery },
      responses: { 200: json(SenderRuleList, 'A page of rules, newest first.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await withTenant(database, scopeOf(c.get('principal')), (tx) => listRules(tx, q.limit, cursorOf(q.after)))
      return reply(c, SenderRuleList, { data: page.rows.map(ruleToWire), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/sender-rules/{id}',
      operationId: 'deleteSenderRule',
      tags: ['administration'],
      summary: 'Remove a rule (not one an ancestor set).',
      request: { params: z.object({ id: z.string().describe('Rule id (`rul_...`).') }) },
      responses: { 204: { description: 'Removed.' } },
    }),
    async (c) => {
      const id = pathId('rule', c.req.valid('param').id, 'sender rule')
      const p = c.get('principal')
      const { tenantId } = scopeOf(p)
      await withTenant(database, { tenantId }, async (tx) => {
        const rule = await getRule(tx, id)
        if (!rule) throw notFound('sender rule')
        // The setter must be visible from the caller's own key tenant: itself or a descendant.
        if (p.kind !== 'operator' && rule.setByTenantId !== p.keyTenantId) {
          // Seen from the caller's own key tenant (the acting tenant or its ancestor).
          await rebindTenant(tx, { tenantId: p.keyTenantId })
          const visible = await getTenant(tx, rule.setByTenantId)
          await rebindTenant(tx, { tenantId })
          if (!visible) throw new ServiceError('forbidden', 'this rule was set by a parent tenant and can only be removed by it')
        }
        // Checked: the caller set the rule, or is above its setter, or is the operator. Postgres refuses
        // a rule an ancestor set, deleted bound to the tenant, otherwise (migration 0039).
        await sayChecked(tx, 'rule_setter_checked')
        await deleteRule(tx, id)
        await audit(tx, tenantId, actorOf(p), 'sender_rule.deleted', { type: 'sender_rule', id }, { pattern: rule.pattern })
      })
      return c.body(null, 204)
    },
  )
}
