// Contacts: per inbox, every address it has received mail from or sent mail to, kept by the ingest
// and send paths (contacts/record.ts). Who an inbox is "in conversation" with (mail sent to the
// address, or verified mail received from it: `verified_received_count`): the approval policy
// `first_contact` and the first-contact limit read it. Notes are sealed like mail.
import { sql } from 'drizzle-orm'
import { boolean, foreignKey, index, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core'
import { bytea, impliedTenantIdColumn, timestamps, ts } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const contacts = pgTable(
  'contacts',
  {
    tenantId: impliedTenantIdColumn(),
    id: uuid('id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    /** The email address, lower-cased. */
    address: text('address').notNull(),
    name: text('name'),
    /** Free-form notes, sealed with the tenant's key (editable later). */
    notesEnc: bytea('notes_enc'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    blocked: boolean('blocked').notNull().default(false),
    firstContactAt: ts('first_contact_at').notNull(),
    lastContactAt: ts('last_contact_at').notNull(),
    receivedCount: integer('received_count').notNull().default(0),
    /**
     * Of those, the mail that puts the inbox in conversation with the address: its sender verified
     * (From aligned with a passing SPF or DKIM, or DMARC pass; any sender while inbound verification
     * is off) and the message neither quarantined nor hidden when it arrived, or released by a
     * person since. A forged From or a hostile message does not make its "sender" a contact the
     * agent may write to unheld (migration 0044).
     */
    verifiedReceivedCount: integer('verified_received_count').notNull().default(0),
    sentCount: integer('sent_count').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('contacts_tenant_inbox_address_key').on(t.tenantId, t.inboxId, t.address),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('contacts_inbox_last_idx').on(t.tenantId, t.inboxId, t.lastContactAt, t.id),
  ],
)
export type ContactRow = typeof contacts.$inferSelect
