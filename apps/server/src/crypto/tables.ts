// Each tenant's data key, wrapped by the deployment's master key. Deleting this row is what makes
// the tenant's stored mail unreadable (crypto-shredding), backups included.
import { sql } from 'drizzle-orm'
import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { tenants } from '../tenancy/tables.js'
import { bytea } from '../db/columns.js'

export const tenantKeys = pgTable('tenant_keys', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  wrappedKey: bytea('wrapped_key').notNull(),
  masterKeyId: text('master_key_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  rotatedAt: timestamp('rotated_at', { withTimezone: true, mode: 'date' }),
})
