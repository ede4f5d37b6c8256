// Drafts per inbox: create, list, get, update, delete, and send. Sending goes through the send path
// (validation, limits, allow lists, approval policies, `sendAt`) and removes the draft in the same
// transaction, so a draft is sent at most once.
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { and, eq, sql } from 'drizzle-orm'
import { Draft, DraftList, DraftRequest, ListQuery, SentMessage, type SendRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { scopeOf } from '../http/caller.js'
import { notFound } from '../errors.js'
import { ownRows } from '../db/scope.js'
import { newUuid, toPublicId } from '../lib/ids.js'
import { newestFirst } from '../db/keyset.js'
import type { Cipher } from '../crypto/service.js'
import { inInbox, InboxParam } from '../messages/params.js'
import { sendMessage } from '../delivery/send.js'
import { drafts, type DraftRow } from './tables.js'

const DraftParams = InboxParam.extend({ draftId: z.string().describe('Draft id (`drf_...`).') })
const bodyCtx = (id: string) => `drafts.body:${id}`
type Stored = z.output<typeof DraftRequest>

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

function draftToWire(r: DraftRow, cipher: Cipher): Draft {
  const b = JSON.parse(cipher.open(bodyCtx(r.id), r.bodyEnc).toString('utf8')) as Stored
  return {
    id: toPublicId('draft', r.id),
    inboxId: toPublicId('inbox', r.inboxId),
    to: list(b.to),
    cc: list(b.cc),
    bcc: list(b.bcc),
    replyTo: list(b.replyTo),
    subject: b.subject ?? null,
    text: b.text ?? null,
    html: b.html ?? null,
    headers: b.headers ?? {},
    attachments: (b.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType ?? null, size: Buffer.from(a.content, 'base64').length })),
    sendAt: b.sendAt ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  }
}

async function getDraft(tx: Parameters<Parameters<typeof inInbox>[3]>[0], inboxId: string, id: string) {
  const [row] = await tx.select().from(drafts).where(and(ownRows(tx, drafts.tenantId), eq(drafts.inboxId, inboxId), eq(drafts.id, id)))
  return row ?? null
}

export function registerDraftRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/drafts',
      operationId: 'createDraft',
      tags: ['drafts'],
      summary: 'Save a draft: nothing is sent until `send`. Everything is optional until then.',
      request: { params: InboxParam, ...body(DraftRequest) },
      responses: { 201: json(Draft, 'The draft.') },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const out = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const id = newUuid()
        const [row] = await tx
          .insert(drafts)
          .values({ tenantId: scopeOf(c.get('principal')).tenantId, id, inboxId, bodyEnc: cipher.seal(bodyCtx(id), JSON.stringify(input)) })
          .returning()
        return draftToWire(row!, cipher)
      })
      return reply(c, Draft, out, 201)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/drafts',
      operationId: 'listDrafts',
      tags: ['drafts'],
      summary: "The inbox's drafts, newest first.",
      request: { params: InboxParam, query: ListQuery },
      responses: { 200: json(DraftList, 'A page of drafts.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await newestFirst(tx, drafts, { limit: q.limit, after: cursorOf(q.after), where: eq(drafts.inboxId, inboxId) })
        return { data: res.rows.map((r) => draftToWire(r, cipher)), nextCursor: res.nextCursor }
      })
      return reply(c, DraftList, page, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/drafts/{draftId}',
      operationId: 'getDraft',
      tags: ['drafts'],
      summary: 'One draft.',
      request: { params: DraftParams },
      responses: { 200: json(Draft, 'The draft.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const draftId = pathId('draft', p.draftId, 'draft')
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const row = await getDraft(tx, inboxId, draftId)
        if (!row) throw notFound('draft')
        return draftToWire(row, cipher)
      })
      return reply(c, Draft, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'patch',
      path: '/v1/inboxes/{id}/drafts/{draftId}',
      operationId: 'updateDraft',
      tags: ['drafts'],
      summary: 'Change a draft: the fields given replace the stored ones (`null`-free: give a field to replace it).',
      request: { params: DraftParams, ...body(DraftRequest) },
      responses: { 200: json(Draft, 'The updated draft.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const draftId = pathId('draft', p.draftId, 'draft')
      const patch = c.req.valid('json')
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const [row] = await tx.select().from(drafts).where(and(ownRows(tx, drafts.tenantId), eq(drafts.inboxId, inboxId), eq(drafts.id, draftId))).for('update')
        if (!row) throw notFound('draft')
        const current = JSON.parse(cipher.open(bodyCtx(row.id), row.bodyEnc).toString('utf8')) as Stored
        const next = { ...current, ...patch }
        const [updated] = await tx
          .update(drafts)
          .set({ bodyEnc: cipher.seal(bodyCtx(row.id), JSON.stringify(next)), updatedAt: sql`now()` })
          .where(and(eq(drafts.tenantId, row.tenantId), eq(drafts.id, row.id)))
          .returning()
        return draftToWire(updated!, cipher)
      })
      return reply(c, Draft, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'delete',
      path: '/v1/inboxes/{id}/drafts/{draftId}',
      operationId: 'deleteDraft',
      tags: ['drafts'],
      summary: 'Delete a draft.',
      request: { params: DraftParams },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const draftId = pathId('draft', p.draftId, 'draft')
      await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId) => {
        const gone = await tx.delete(drafts).where(and(ownRows(tx, drafts.tenantId), eq(drafts.inboxId, inboxId), eq(drafts.id, draftId))).returning({ id: drafts.id })
        if (!gone.length) throw notFound('draft')
      })
      return c.body(null, 204)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'post',
      path: '/v1/inboxes/{id}/drafts/{draftId}/send',
      operationId: 'sendDraft',
      tags: ['drafts'],
      summary: 'Send a draft: exactly as `POST .../messages` with its content (checked, limited, held for approval or queued; its `sendAt` schedules it); the draft is removed.',
      request: { params: DraftParams },
      responses: {
        201: json(SentMessage, 'Queued (or `scheduled`).'),
        202: json(SentMessage, 'Held for approval (status `pending_approval`): not sent until a person approves it. Do not send it again.'),
        409: json(z.any(), 'Conflict.'),
        429: json(z.any(), 'A sending limit or the first-contact limit is reached; see `Retry-After`.'),
      },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const draftId = pathId('draft', p.draftId, 'draft')
      const scope = scopeOf(c.get('principal'))
      const stored = await inInbox(deps, scope, p.id, async (tx, inboxId, cipher) => {
        const row = await getDraft(tx, inboxId, draftId)
        if (!row) throw notFound('draft')
        return { inboxId, body: JSON.parse(cipher.open(bodyCtx(row.id), row.bodyEnc).toString('utf8')) as Stored }
      })
      // Checked now as a send: a draft without recipients fails here like a send without `to`.
      const request = { ...stored.body, to: stored.body.to ?? [] } as SendRequest
      const out = await sendMessage(deps, scope, stored.inboxId, { type: 'send', body: request }, async (tx) => {
        const gone = await tx.delete(drafts).where(and(ownRows(tx, drafts.tenantId), eq(drafts.inboxId, stored.inboxId), eq(drafts.id, draftId))).returning({ id: drafts.id })
        if (!gone.length) throw notFound('draft')
      })
      return out.held ? reply(c, SentMessage, out.sent, 202) : reply(c, SentMessage, out.sent, 201)
    },
  )
}
