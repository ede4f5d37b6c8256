// /v1/inboxes/{id}/contacts: who the inbox is in conversation with. A tenant key on any of its
// inboxes, an inbox key on its own; another tenant's or inbox's contacts are a 404 (RLS).
import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { Contact, ContactList, ContactListQuery, UpdateContactRequest } from '@mailroom/contract'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/context.js'
import { body, cursorOf, defineRoute, json, pathId, reply } from '../http/route.js'
import { notFound } from '../errors.js'
import { scopeOf } from '../http/caller.js'
import { inInbox, InboxParam } from '../messages/params.js'
import { contactToWire, deleteContact, getContact, listContacts, updateContact } from './service.js'

const ContactParams = InboxParam.extend({ contactId: z.string().describe('Contact id (`con_...`).') })

export function registerContactRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/contacts',
      operationId: 'listContacts',
      tags: ['contacts'],
      summary: "The inbox's contacts, most recent contact first.",
      description: 'Everyone the inbox received mail from or sent mail to, kept as mail comes and goes. `q` finds an address or name containing it.',
      request: { params: InboxParam, query: ContactListQuery },
      responses: { 200: json(ContactList, 'A page of contacts.') },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const page = await inInbox(deps, scopeOf(c.get('principal')), c.req.valid('param').id, async (tx, inboxId, cipher) => {
        const res = await listContacts(tx, inboxId, q, q.limit, cursorOf(q.after))
        return { data: res.rows.map((r) => contactToWire(r, cipher)), nextCursor: res.nextCursor }
      })
      return reply(c, ContactList, page, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'get',
      path: '/v1/inboxes/{id}/contacts/{contactId}',
      operationId: 'getContact',
      tags: ['contacts'],
      summary: 'One contact.',
      request: { params: ContactParams },
      responses: { 200: json(Contact, 'The contact.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const id = pathId('contact', p.contactId, 'contact')
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const row = await getContact(tx, inboxId, id)
        if (!row) throw notFound('contact')
        return contactToWire(row, cipher)
      })
      return reply(c, Contact, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'patch',
      path: '/v1/inboxes/{id}/contacts/{contactId}',
      operationId: 'updateContact',
      tags: ['contacts'],
      summary: "Edit a contact's name, notes (stored encrypted), tags or blocked flag.",
      request: { params: ContactParams, ...body(UpdateContactRequest) },
      responses: { 200: json(Contact, 'The contact as it is now.') },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const id = pathId('contact', p.contactId, 'contact')
      const change = c.req.valid('json')
      const out = await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId, cipher) => {
        const row = await updateContact(tx, cipher, inboxId, id, change)
        if (!row) throw notFound('contact')
        return contactToWire(row, cipher)
      })
      return reply(c, Contact, out, 200)
    },
  )

  app.openapi(
    defineRoute('inbox', {
      method: 'delete',
      path: '/v1/inboxes/{id}/contacts/{contactId}',
      operationId: 'deleteContact',
      tags: ['contacts'],
      summary: 'Delete a contact (with its name, notes and tags). Mail exchanged with the address later makes it a new contact.',
      request: { params: ContactParams },
      responses: { 204: { description: 'Deleted.' } },
    }),
    async (c) => {
      const p = c.req.valid('param')
      const id = pathId('contact', p.contactId, 'contact')
      await inInbox(deps, scopeOf(c.get('principal')), p.id, async (tx, inboxId) => {
        if (!(await deleteContact(tx, inboxId, id))) throw notFound('contact')
      })
      return c.body(null, 204)
    },
  )
}
