// Column types and groups every table file uses: sealed bytes, timestamps, the tenant column.
import { sql } from 'drizzle-orm'
import { customType, timestamp, uuid } from 'drizzle-orm/pg-core'
import { tenants } from '../tenancy/tables.js'

/** Raw bytes (sealed values, raw mail), as Buffers. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
  toDriver: (v) => v,
})

/** A timestamptz read as a Date. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
}

/** `tenant_id`, first column of every tenant-owned table; deleting the tenant deletes the row. */
export const tenantIdColumn = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' })

/**
 * `tenant_id` of the tables every received message writes, whose rows hang from a tenant-owned parent
 * by a NOT NULL composite key that holds tenant_id (a message from its inbox, an attachment from its
 * message): that key already proves the tenant exists, and deleting the tenant deletes the parent
 * and, by cascade, these rows. No key of its own into `tenants`: its check (a lookup and a lock of
 * the tenant's row) ran once more per row inserted, four to six times a received message; about 3%
 * of the ingest's machine CPU (bench/README, "Receiving", 2026-12-05). test/isolation/catalog.test.ts
 * checks that every tenant table still reaches `tenants` through keys.
 */
export const impliedTenantIdColumn = () => uuid('tenant_id').notNull()
