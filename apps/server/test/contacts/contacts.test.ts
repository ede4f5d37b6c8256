// Contacts are kept by the mail itself: the sender of each accepted received message (counted once
// per message, also when a batch of messages commits together) and each recipient of sent mail.
// Row-level security keeps them to their tenant, and an inbox key to its own inbox.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'drizzle-orm'
import { rawRows } from '../../src/db/client.js'
import { withTenant } from '../../src/db/scope.js'
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.js'
import { fromPublicId } from '../../src/lib/ids.js'
import { makeInbox, makeTenant, startTestServer, type TestServer } from '../helpers/server.js'
import { sendMail, settled, smtpTransport } from '../helpers/mail.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server?.stop())

interface Contact {
  address: string
  received_count: number
  sent_count: number
  first_contact_at: Date
  last_contact_at: Date
}

const contactsOf = (tenantPublicId: string, inboxPublicId: string, scopeInbox?: string) =>
  withTenant(server.db.runtime, { tenantId: fromPublicId('tenant', tenantPublicId)!, inboxId: scopeInbox ? fromPublicId('inbox', scopeInbox)! : null }, (tx) =>
    rawRows<Contact>(
      tx,
      sql`select address, received_count, sent_count, first_contact_at, last_contact_at from contacts
          where inbox_id = ${fromPublicId('inbox', inboxPublicId)!} order by address`,
    ),
  )

describe('contacts', () => {
  it('records the sender of received mail once per message, a batch committed together included', async () => {
    const t = await makeTenant(server, 'contacts-in')
    const inbox = await makeInbox(server, t, 'contacts-agent')
    await sendMail(server, { from: 'Alice@Example.com', to: inbox.address, subject: 'one', text: 'hi' })
    // Twelve at once over a pooled transport: the group commit writes them in shared batches.
    const transport = smtpTransport(server, { pool: true })
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => transport.sendMail({ from: i % 2 ? 'alice@example.com' : 'bob@example.com', to: inbox.address, subject: `n${i}`, text: 'x' })),
      )
    } finally {
      transport.close()
    }
    await settled(server)
    const rows = await contactsOf(t.id, inbox.id)
    expect(rows.map((r) => [r.address, r.received_count, r.sent_count])).toEqual([
      ['alice@example.com', 7, 0],
      ['bob@example.com', 6, 0],
    ])
    expect(new Date(rows[0]!.last_contact_at).getTime()).toBeGreaterThanOrEqual(new Date(rows[0]!.first_contact_at).getTime())
  })

  it('records each recipient of mail accepted for sending, and nothing for a refused send', async () => {
    const t = await makeTenant(server, 'contacts-out')
    const a = await makeInbox(server, t, 'contacts-sender')
    const b = await makeInbox(server, t, 'contacts-peer')
    const res = await a.api.post(`/v1/inboxes/${a.id}/messages`, { to: ['Carol@Example.com', b.address], cc: 'dave@example.com', subject: 's', text: 't' })
    expect(res.status).toBe(201)
    const again = await a.api.post(`/v1/inboxes/${a.id}/messages`, { to: 'carol@example.com', subject: 's2', text: 't' })
    expect(again.status).toBe(201)
    const rows = await contactsOf(t.id, a.id)
    expect(rows.map((r) => [r.address, r.received_count, r.sent_count])).toEqual(
      [
        ['carol@example.com', 0, 2],
        ['dave@example.com', 0, 1],
        [b.address, 0, 1],
      ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    )
    // A refused send (validation) records nothing.
    const bad = await a.api.post(`/v1/inboxes/${a.id}/messages`, { to: 'not an address', subject: 's', text: 't' })
    expect(bad.status).toBe(400)
    expect((await contactsOf(t.id, a.id)).length).toBe(3)
  })

  it('another tenant and another inbox key see none of them; the own inbox key sees its own', async () => {
    const t = await makeTenant(server, 'contacts-iso')
    const inbox = await makeInbox(server, t, 'contacts-owner')
    const other = await makeInbox(server, t, 'contacts-other')
    const stranger = await makeTenant(server, 'contacts-stranger')
    await sendMail(server, { from: 'eve@example.com', to: inbox.address, subject: 'x', text: 'y' })
    await settled(server)
    expect((await contactsOf(t.id, inbox.id)).map((r) => r.address)).toEqual(['eve@example.com'])
    expect((await contactsOf(t.id, inbox.id, inbox.id)).map((r) => r.address)).toEqual(['eve@example.com'])
    expect(await contactsOf(t.id, inbox.id, other.id)).toEqual([])
    expect(await contactsOf(stranger.id, inbox.id)).toEqual([])
    // Nor can another tenant write one into this inbox, or another inbox key into this one.
    const insert = (tenant: string, scopeInbox: string | null) =>
      withTenant(server.db.runtime, { tenantId: fromPublicId('tenant', tenant)!, inboxId: scopeInbox }, (tx) =>
        tx.execute(sql`insert into contacts (tenant_id, id, inbox_id, address, first_contact_at, last_contact_at)
                       values (${fromPublicId('tenant', t.id)!}, gen_random_uuid(), ${fromPublicId('inbox', inbox.id)!}, 'x@example.com', now(), now())`),
      )
    await expect(insert(stranger.id, null)).rejects.toThrow()
    await expect(insert(t.id, fromPublicId('inbox', other.id)!)).rejects.toThrow()
  })

  it("the migration's backfill rebuilds the same contacts from the stored mail", async () => {
    const t = await makeTenant(server, 'contacts-backfill')
    const inbox = await makeInbox(server, t, 'backfill-agent')
    await sendMail(server, { from: 'frank@example.com', to: inbox.address, subject: 'x', text: 'y' })
    await sendMail(server, { from: 'frank@example.com', to: inbox.address, subject: 'x2', text: 'y' })
    await settled(server)
    expect((await inbox.api.post(`/v1/inboxes/${inbox.id}/messages`, { to: ['frank@example.com', 'gina@example.com'], subject: 's', text: 't' })).status).toBe(201)
    const before = await contactsOf(t.id, inbox.id)
    const sqlText = readFileSync(`${MIGRATIONS_FOLDER}/0021_contacts.sql`, 'utf8')
    const backfill = sqlText.slice(sqlText.lastIndexOf('INSERT INTO contacts'))
    const tenantId = fromPublicId('tenant', t.id)!
    await server.db.owner.db.execute(sql`delete from contacts where tenant_id = ${tenantId}`)
    // Only this tenant's rows are rebuilt (others' contacts still exist: the backfill would conflict).
    await server.db.owner.db.execute(sql.raw(backfill.replace('GROUP BY', `WHERE c.tenant_id = '${tenantId}' GROUP BY`)))
    const after = await contactsOf(t.id, inbox.id)
    expect(after.map((r) => [r.address, r.received_count, r.sent_count])).toEqual([
      ['frank@example.com', 2, 1],
      ['gina@example.com', 0, 1],
    ])
    expect(after.map((r) => [r.address, r.received_count, r.sent_count])).toEqual(before.map((r) => [r.address, r.received_count, r.sent_count]))
  })
})
