// Usage metering: per tenant, per inbox (the nil uuid: the tenant as a whole), per UTC day; and the
// live stored-bytes gauge the storage quota is decided on.
import { bigint, date, integer, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'

export const NIL_UUID = '00000000-0000-0000-0000-000000000000'

export const usageDaily = pgTable(
  'usage_daily',
  {
    tenantId: tenantIdColumn(),
    day: date('day', { mode: 'string' }).notNull(),
    /** NIL_UUID for the tenant-level row. */
    inboxId: uuid('inbox_id').notNull(),
    messagesReceived: integer('messages_received').notNull().default(0),
    messagesSent: integer('messages_sent').notNull().default(0),
    apiRequests: integer('api_requests').notNull().default(0),
    bytesStored: bigint('bytes_stored', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day, t.inboxId] })],
)

export const storageUsage = pgTable(
  'storage_usage',
  {
    tenantId: tenantIdColumn(),
    /** NIL_UUID for the tenant total. */
    inboxId: uuid('inbox_id').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.inboxId] })],
)
