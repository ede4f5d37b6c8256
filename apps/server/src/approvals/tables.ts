// Approvals: mail an agent sent under an approval policy, held for a person's decision. One row per
// held message; the message itself (sealed like all mail) has status `pending_approval` and no
// outbox rows until it is approved, so no delivery worker can claim it.
import { sql } from 'drizzle-orm'
import { boolean, foreignKey, index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { bytea, tenantIdColumn, ts } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'
import { messages } from '../messages/tables.js'

export const approvals = pgTable(
  'approvals',
  {
    tenantId: tenantIdColumn(),
    messageId: uuid('message_id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    /** pending | approved | rejected | expired */
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'expired'] }).notNull().default('pending'),
    /** Why it was held (the policies that hold it), in clear: they name policies, not content. */
    reasons: text('reasons').array().notNull().default(sql`'{}'::text[]`),
    requestedAt: ts('requested_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    /** When approved: the moment delivery may start (a `sendAt` given with the send), else null. */
    sendAt: ts('send_at'),
    decidedAt: ts('decided_at'),
    decidedByKind: text('decided_by_kind', { enum: ['tenant', 'operator', 'system'] }),
    decidedByTenant: uuid('decided_by_tenant'),
    decidedByKey: uuid('decided_by_key'),
    reason: text('reason'),
    edited: boolean('edited').notNull().default(false),
    /** The message as composed (everything but the attachments' bytes), sealed: an edit composes it again. */
    draftEnc: bytea('draft_enc').notNull(),
    /** Before an edit: the original subject, text and html, sealed (the edit is recorded). */
    originalEnc: bytea('original_enc'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.messageId] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('approvals_inbox_idx').on(t.tenantId, t.inboxId, t.requestedAt),
    index('approvals_status_idx').on(t.tenantId, t.status, t.requestedAt, t.messageId),
    // The expiry sweep looks across tenants for what waits past its time: small, so partial.
    index('approvals_expiry_idx').on(t.expiresAt).where(sql`status = 'pending'`),
  ],
)
export type ApprovalRow = typeof approvals.$inferSelect
