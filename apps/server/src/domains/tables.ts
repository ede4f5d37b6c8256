// Custom domains (tenant-owned, any number of pending claims per name) and the global table of
// verified claims: one tenant per verified name. Cross-tenant reads only through SECURITY DEFINER
// functions (migrations/0010_webhooks_domains_isolation.sql).
import { foreignKey, index, jsonb, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core'
import type { DnsRecord } from '@mailroom/contract'
import { tenantIdColumn, timestamps, bytea, ts } from '../db/columns.js'

export const domains = pgTable(
  'domains',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    /** pending | verified */
    status: text('status').notNull().default('pending'),
    verificationToken: text('verification_token').notNull(),
    dkimSelector: text('dkim_selector').notNull(),
    /** PKCS#8 PEM, sealed with the tenant's key. */
    dkimPrivateEnc: bytea('dkim_private_enc').notNull(),
    dkimPublic: text('dkim_public').notNull(),
    /** FK (tenant_id, catch_all_inbox_id) -> inboxes ON DELETE SET NULL (catch_all_inbox_id), in the custom migration. */
    catchAllInboxId: uuid('catch_all_inbox_id'),
    records: jsonb('records').$type<DnsRecord[]>(),
    verifiedAt: ts('verified_at'),
    lastCheckedAt: ts('last_checked_at'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('domains_tenant_name_key').on(t.tenantId, t.name),
    index('domains_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    // Serves domains_catch_all_inbox_fk (migration 0010) when an inbox is deleted.
    index('domains_catch_all_inbox_idx').on(t.tenantId, t.catchAllInboxId),
  ],
)
export type DomainRow = typeof domains.$inferSelect

/** Global: the verified owner of each domain name. */
export const domainClaims = pgTable(
  'domain_claims',
  {
    name: text('name').primaryKey(),
    tenantId: tenantIdColumn(),
    domainId: uuid('domain_id').notNull(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.domainId], foreignColumns: [domains.tenantId, domains.id] }).onDelete('cascade'),
    index('domain_claims_tenant_domain_idx').on(t.tenantId, t.domainId),
  ],
)
