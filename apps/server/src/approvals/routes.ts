// A person's decisions on what agents send: approve (optionally edited) or reject held mail, the list
// of what waits, and cancelling a scheduled send. Approve, reject and the list are tenant-key routes
// (defineRoute('tenant')): an inbox key gets 403 whatever it holds, so an agent cannot approve its
// own mail. An ancestor decides inside the descendant with Mailroom-Tenant.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { and, eq, ne } from 'drizzle-orm'
import { ApprovalList, ApprovalListQuery, ApproveRequest, RejectRequest, SentMessage } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, conflictError, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { scopeOf } from '../http/caller.js'
import { ServiceError, notFound } from '../errors.js'
import { ownRows } from '../db/scope.js'
import { fromPublicId, toPublicId } from '../lib/ids.js'
import { actorOf, audit } from '../audit/service.js'
import { inInbox, MessageParams } from '../messages/params.js'
import { attachmentsOf, summaryToWire } from '../messages/service.js'
import { messages } from '../messages/tables.js'
import { outbox } from '../delivery/tables.js'
import { deliveryToWire, notifyTenant } from '../delivery/status.js'
import { approvalInfo, approvalOf, approveMessage, expiredError, listApprovals, rejectMessage } from './service.js'

export function registerApprovalRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/approve',
      operationId: 'approveMessage',
      tags: ['approvals'],
      summary: 'Approve mail an agent sent under an approval policy (tenant keys of the tenant or an ancestor only).',
      description:
        'Optionally edit `subject`, `text` or `html` first (the message is composed again; the audit log records which fields changed, the original is kept sealed). ' +
        'The message then goes to the outbox like a direct send (`message.approved`, `message.queued`). Approving an approved message answers it again and sends nothing. ' +
        '409 when it was rejected or expired, or was never held.',
      request: { params: MessageParams, ...body(ApproveRequest) },
      responses: { 200: json(SentMessage, 'Approved and queued.'), ...conflictError },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const actor = actorOf(c.get('principal'))
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, (tx, inboxId, cipher) => approveMessage(deps, tx, cipher, inboxId, messageId, c.req.valid('json'), actor))
      if (out.expired) throw expiredError()
      if (out.queued > 0) deps.delivery?.kick()
      return reply(c, SentMessage, out.sent, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/reject',
      operationId: 'rejectMessage',
      tags: ['approvals'],
      summary: 'Reject mail an agent sent under an approval policy, with a reason: it ends `rejected`, never sent (tenant keys only).',
      request: { params: MessageParams, ...body(RejectRequest) },
      responses: { 200: json(SentMessage, 'Rejected.'), ...conflictError },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const actor = actorOf(c.get('principal'))
      const sent = await inInbox(deps, scopeOf(c.get('principal')), p.id, (tx, inboxId, cipher) => rejectMessage(deps, tx, cipher, inboxId, messageId, c.req.valid('json').reason, actor))
      return reply(c, SentMessage, sent, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/approvals',
      operationId: 'listApprovals',
      tags: ['approvals'],
      summary: 'What waits for approval across the caller\'s inboxes and its descendants\', oldest first (tenant keys only).',
      request: { query: ApprovalListQuery },
      responses: { 200: json(ApprovalList, 'A page of approvals.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = scopeOf(c.get('principal'))
      // An id that is not one (or not visible) matches nothing, like any other filter.
      const inboxId = q.inboxId ? (fromPublicId('inbox', q.inboxId) ?? undefined) : undefined
      const tenantId = q.tenantId ? (fromPublicId('tenant', q.tenantId) ?? undefined) : undefined
      const page = await listApprovals(deps, scope.tenantId, { limit: q.limit, after: cursorOf(q.after), inboxId, tenantId, status: q.status })
      return reply(c, ApprovalList, page, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/cancel',
      operationId: 'cancelMessage',
      tags: ['sending'],
      summary: 'Cancel a scheduled send (`sendAt`) before it goes: status `cancelled`, nothing sent.',
      description: '409 when delivery has already begun, or the message is not scheduled. Cancelling a cancelled message answers it again.',
      request: { params: MessageParams },
      responses: { 200: json(SentMessage, 'Cancelled.'), ...conflictError },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const messageId = pathId('message', p.messageId, 'message')
      const principal = c.get('principal')
      const sent = await inInbox(deps, scopeOf(principal), p.id, async (tx, inboxId, cipher) => {
        const [m] = await tx
          .select()
          .from(messages)
          .where(and(ownRows(tx, messages.tenantId), eq(messages.inboxId, inboxId), eq(messages.id, messageId)))
          .for('update')
        if (!m) throw notFound('message')
        let row = m
        if (m.status !== 'cancelled') {
          if (m.status !== 'scheduled') throw new ServiceError('conflict', `this message is ${m.status}, not scheduled: it cannot be cancelled`)
          // Rows a delivery worker has claimed are locked or no longer queued: then it is too late.
          await tx.delete(outbox).where(and(eq(outbox.tenantId, m.tenantId), eq(outbox.messageId, m.id), eq(outbox.status, 'queued')))
          const left = await tx.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.tenantId, m.tenantId), eq(outbox.messageId, m.id), ne(outbox.status, 'suppressed')))
          if (left.length) throw new ServiceError('conflict', 'delivery of this message has already begun')
          const [cancelled] = await tx.update(messages).set({ status: 'cancelled' }).where(and(eq(messages.tenantId, m.tenantId), eq(messages.id, m.id))).returning()
          row = cancelled!
          await audit(tx, m.tenantId, actorOf(principal), 'message.cancelled', { type: 'message', id: toPublicId('message', m.id) }, { inboxId: toPublicId('inbox', inboxId) })
          await notifyTenant(tx, m.tenantId, inboxId)
        }
        const atts = (await attachmentsOf(tx, [m.id])).get(m.id) ?? []
        const rows = await tx.select().from(outbox).where(and(eq(outbox.tenantId, m.tenantId), eq(outbox.messageId, m.id)))
        const a = await approvalOf(tx, m.id)
        return { ...summaryToWire(row, atts, cipher), deliveries: rows.map(deliveryToWire), approval: a ? approvalInfo(a) : null }
      })
      return reply(c, SentMessage, sent, 200)
    },
  )
}
