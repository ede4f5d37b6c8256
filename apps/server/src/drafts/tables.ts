// Drafts: mail an inbox is writing, not sent until `send` (then checked, limited, held for approval
// or queued exactly like a direct send, and the draft removed in the same transaction). The content
// (recipients included) is sealed with the tenant's key.
import { sql } from 'drizzle-orm'
import { foreignKey, index, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core'
import { bytea, tenantIdColumn, ts } from '../db/columns.js'
import { inboxes } from '../inboxes/tables.js'

export const drafts = pgTable(
  'drafts',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    inboxId: uuid('inbox_id').notNull(),
    /** The draft as given (a DraftRequest, attachments base64), sealed. */
    bodyEnc: bytea('body_enc').notNull(),
    createdAt: ts('created_at').notNull().default(sql`now()`),
    updatedAt: ts('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.inboxId], foreignColumns: [inboxes.tenantId, inboxes.id] }).onDelete('cascade'),
    index('drafts_inbox_created_idx').on(t.tenantId, t.inboxId, t.createdAt, t.id),
  ],
)
export type DraftRow = typeof drafts.$inferSelect
