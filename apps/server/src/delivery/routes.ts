// Sending routes: send / reply / forward and per-recipient deliveries (inbox scope), inbox limits,
// the tenant's suppression list, and its sending state (pause/resume, IP pool).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { desc, eq } from 'drizzle-orm'
import {
  CreateSuppressionRequest,
  DeliveryList,
  ForwardRequest,
  InboxLimits,
  InboxLimitsResponse,
  ListQuery,
  ReplyRequest,
  SendingState,
  SendRequest,
  SentMessage,
  Suppression,
  SuppressionList,
  UpdateSendingRequest,
  type TenantLimits,
} from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { ServiceError, notFound } from '../errors.js'
import { scopeOf } from '../http/auth.js'
import { rebindTenant, withTenant } from '../db/scope.js'
import type { Tx } from '../db/client.js'
import { toPublicId } from '../lib/ids.js'
import { after as afterPosition, microsOf, pageOf } from '../lib/cursor.js'
import { getInbox } from '../inboxes/service.js'
import { inboxes } from '../inboxes/tables.js'
import { assertWithinParent, capOf, getTenant, isDescendant } from '../tenancy/service.js'
import { limitDefaults } from '../limits/api-rate.js'
import { getMessage } from '../messages/service.js'
import { sendMessage } from './send.js'
import { outbox, suppressions, type SuppressionRow } from './tables.js'
import { deliveryToWire } from './status.js'
import { isValidAddress } from './compose.js'
import { DEFAULT_REPUTATION, resume, sendingStateOf, setIpPool, suppress } from './reputation.js'
import type { Principal } from '../http/context.js'

const InboxParam = z.object({ id: z.string().describe('Inbox id (`inb_...`).') })
const MessageParams = InboxParam.extend({ messageId: z.string().describe('Message id (`msg_...`).') })
const TenantParam = z.object({ id: z.string().describe('Tenant id (`tnt_...`).') })
const AddressParam = z.object({ address: z.string().describe('The suppressed address.') })

const sendErrors = {
  403: json(z.any(), 'Sending is paused for this tenant (`sending_paused`), or the key may not do this.'),
  413: json(z.any(), 'The message is over the size limit (`payload_too_large`).'),
  429: json(z.any(), 'A sending limit is reached (`rate_limited`); see `Retry-After`.'),
}
const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().describe('Same key + same body within 24 h: the first result, nothing sent again.'),
})

function suppressionToWire(s: SuppressionRow) {
  return { address: s.address, reason: s.reason, detail: s.detail, createdAt: s.createdAt.toISOString() }
}

const INBOX_LIMIT_KEYS = ['sendPerMinute', 'sendPerDay', 'receivePerMinute', 'retentionDays', 'apiRequestsPerSecond', 'apiBurst'] as const

export function registerDeliveryRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { database } = deps
  const reputation = deps.delivery?.reputation ?? DEFAULT_REPUTATION

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages',
      operationId: 'sendMessage',
      tags: ['sending'],
      summary: 'Send a message from this inbox.',
      description:
        'Validated (addresses, CR/LF in headers, at most 50 recipients, size), then the tenant and inbox sending limits are decided atomically ' +
        '(429 + `Retry-After`), and the message is stored in the inbox with status `queued` and queued for delivery.',
      request: { params: InboxParam, headers: idempotencyHeader, ...body(SendRequest) },
      responses: { 201: json(SentMessage, 'Queued.'), ...sendErrors },
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const sent = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'send', body: c.req.valid('json') })
      return reply(c, SentMessage, sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/reply',
      operationId: 'replyToMessage',
      tags: ['sending'],
      summary: 'Reply to a message (In-Reply-To, References, `Re:`); `replyAll` adds the other recipients.',
      request: { params: MessageParams, headers: idempotencyHeader, ...body(ReplyRequest) },
      responses: { 201: json(SentMessage, 'Queued.'), ...sendErrors },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const inboxId = pathId('inbox', p.id, 'inbox')
      const messageId = pathId('message', p.messageId, 'message')
      const sent = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'reply', messageId, body: c.req.valid('json') })
      return reply(c, SentMessage, sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/messages/{messageId}/forward',
      operationId: 'forwardMessage',
      tags: ['sending'],
      summary: 'Forward a message (quoted, with its attachments unless `includeAttachments` is false).',
      request: { params: MessageParams, headers: idempotencyHeader, ...body(ForwardRequest) },
      responses: { 201: json(SentMessage, 'Queued.'), ...sendErrors },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const inboxId = pathId('inbox', p.id, 'inbox')
      const messageId = pathId('message', p.messageId, 'message')
      const sent = await sendMessage(deps, scopeOf(c.get('principal')), inboxId, { type: 'forward', messageId, body: c.req.valid('json') })
      return reply(c, SentMessage, sent, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/messages/{messageId}/deliveries',
      operationId: 'listDeliveries',
      tags: ['sending'],
      summary: 'Delivery status of a sent message, per recipient.',
      request: { params: MessageParams },
      responses: { 200: json(DeliveryList, 'One entry per recipient (empty for received mail).') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const inboxId = pathId('inbox', p.id, 'inbox')
      const messageId = pathId('message', p.messageId, 'message')
      const data = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        if (!(await getInbox(tx, inboxId))) throw notFound('inbox')
        if (!(await getMessage(tx, inboxId, messageId))) throw notFound('message')
        const rows = await tx.select().from(outbox).where(eq(outbox.messageId, messageId)).orderBy(outbox.recipient)
        return rows.map(deliveryToWire)
      })
      return reply(c, DeliveryList, { data }, 200)
    },
  )

  const limitsOf = async (tx: Tx, inboxId: string) => {
    const inbox = await getInbox(tx, inboxId)
    if (!inbox) throw notFound('inbox')
    const tenant = await capOf(tx, inbox.tenantId, limitDefaults(deps.config))
    const own = inbox.limits ?? {}
    const effective: Record<string, number | null> = {}
    for (const k of INBOX_LIMIT_KEYS) {
      const a = own[k]
      const b = tenant[k]
      effective[k] = typeof a === 'number' ? (typeof b === 'number' ? Math.min(a, b) : a) : typeof b === 'number' ? b : null
    }
    return { inboxId: toPublicId('inbox', inbox.id), limits: own, effective }
  }

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/limits',
      operationId: 'getInboxLimits',
      tags: ['sending'],
      summary: "The inbox's own limits and the ones in force (capped by its tenant chain).",
      request: { params: InboxParam },
      responses: { 200: json(InboxLimitsResponse, 'The limits.') },
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const res = await withTenant(database, scopeOf(c.get('principal')), (tx) => limitsOf(tx, inboxId))
      return reply(c, InboxLimitsResponse, res, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'put',
      path: '/v1/inboxes/{id}/limits',
      operationId: 'setInboxLimits',
      tags: ['sending'],
      summary: "Set an inbox's limits (null: none of its own). Never above its tenant's.",
      request: { params: InboxParam, ...body(InboxLimits) },
      responses: { 200: json(InboxLimitsResponse, 'The limits now.') },
    }),
    async (c) => {
      const inboxId = pathId('inbox', c.req.valid('param').id, 'inbox')
      const input = c.req.valid('json')
      const res = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const inbox = await getInbox(tx, inboxId)
        if (!inbox) throw notFound('inbox')
        await assertWithinParent(tx, inbox.tenantId, input as TenantLimits, limitDefaults(deps.config), { path: 'body', only: INBOX_LIMIT_KEYS })
        const limits: Record<string, number> = {}
        for (const k of INBOX_LIMIT_KEYS) if (typeof input[k] === 'number') limits[k] = input[k]
        await tx.update(inboxes).set({ limits, updatedAt: new Date() }).where(eq(inboxes.id, inboxId))
        return limitsOf(tx, inboxId)
      })
      return reply(c, InboxLimitsResponse, res, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'get',
      path: '/v1/suppressions',
      operationId: 'listSuppressions',
      tags: ['sending'],
      summary: "The tenant's suppression list (hard bounces, complaints, manual), newest first.",
      request: { query: ListQuery },
      responses: { 200: json(SuppressionList, 'A page of suppressions.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const after = cursorOf(q.after)
      const page = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const rows = await tx
          .select({ row: suppressions, at: microsOf(suppressions.createdAt) })
          .from(suppressions)
          .where(afterPosition(suppressions.createdAt, suppressions.id, after))
          .orderBy(desc(suppressions.createdAt), desc(suppressions.id))
          .limit(q.limit + 1)
        const p = pageOf(rows.map((r) => ({ ...r, id: r.row.id })), q.limit)
        return { data: p.items.map((i) => suppressionToWire(i.row)), nextCursor: p.nextCursor }
      })
      return reply(c, SuppressionList, page, 200)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'post',
      path: '/v1/suppressions',
      operationId: 'createSuppression',
      tags: ['sending'],
      summary: 'Suppress an address: mail to it is recorded as `suppressed`, not sent.',
      request: { ...body(CreateSuppressionRequest) },
      responses: { 201: json(Suppression, 'Suppressed (or already was).') },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const address = input.address.trim().toLowerCase()
      if (!isValidAddress(address)) throw new ServiceError('validation_error', 'body.address: not a valid email address', [{ path: 'body.address', message: 'invalid' }])
      const { tenantId } = scopeOf(c.get('principal'))
      const row = await withTenant(database, { tenantId }, async (tx) => {
        await suppress(tx, tenantId, address, 'manual', input.detail ?? null)
        const [r] = await tx.select().from(suppressions).where(eq(suppressions.address, address))
        return r!
      })
      return reply(c, Suppression, suppressionToWire(row), 201)
    },
  )

  app.openapi(
    defineRoute('tenant', {
      method: 'delete',
      path: '/v1/suppressions/{address}',
      operationId: 'deleteSuppression',
      tags: ['sending'],
      summary: 'Remove an address from the suppression list.',
      request: { params: AddressParam },
      responses: { 204: { description: 'Removed.' } },
    }),
    async (c) => {
      // Hono has decoded the parameter already; decoding again would turn a literal %25 into % (and
      // throw URIError, a 500, on a malformed sequence).
      const address = c.req.valid('param').address.trim().toLowerCase()
      const deleted = await withTenant(database, scopeOf(c.get('principal')), (tx) =>
        tx.delete(suppressions).where(eq(suppressions.address, address)).returning({ id: suppressions.id }),
      )
      if (!deleted.length) throw notFound('suppression')
      return c.body(null, 204)
    },
  )

  /** The target tenant of a sending-state route; `manage`: only an ancestor (or the operator). */
  const target = async (tx: Tx, p: Principal, publicId: string, manage: boolean) => {
    const id = pathId('tenant', publicId, 'tenant')
    const { tenantId } = scopeOf(p)
    const row = await getTenant(tx, id)
    if (!row) throw notFound('tenant')
    if (manage && p.kind !== 'operator' && !isDescendant(row, tenantId)) {
      throw new ServiceError('forbidden', "only an ancestor tenant or the operator can change a tenant's sending")
    }
    if (id !== tenantId) await rebindTenant(tx, { tenantId: id })
    return id
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
      const state = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const id = await target(tx, c.get('principal'), c.req.valid('param').id, false)
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
      const state = await withTenant(database, scopeOf(p), async (tx) => {
        const callerPool = p.kind === 'operator' ? null : (await sendingStateOf(tx, scopeOf(p).tenantId, reputation)).ipPool
        const id = await target(tx, p, c.req.valid('param').id, true)
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
      const state = await withTenant(database, scopeOf(c.get('principal')), async (tx) => {
        const id = await target(tx, c.get('principal'), c.req.valid('param').id, true)
        await resume(tx, await deps.crypto.cipher(tx, id), id)
        return sendingStateOf(tx, id, reputation)
      })
      return reply(c, SendingState, state, 200)
    },
  )
}
