// Fixed-window counters for rate limits, decided atomically in the database.
import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'
import { tenantIdColumn } from '../db/columns.js'

export const rateCounters = pgTable(
  'rate_counters',
  {
    tenantId: tenantIdColumn(),
    /** e.g. `recv:tenant:min`, `recv:inbox:<uuid>:min` */
    key: text('key').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key, t.windowStart] })],
)
