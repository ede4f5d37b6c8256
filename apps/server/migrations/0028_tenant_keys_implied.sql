-- Tables whose rows hang from a tenant-owned parent by a composite key holding tenant_id (a message
-- from its inbox, an attachment from its message, ...) lose their own foreign key into tenants: the
-- composite key already proves the tenant exists, and deleting the tenant deletes the parent and,
-- by cascade, these rows. The dropped keys' checks locked the tenant's row once more per row
-- inserted (src/db/columns.ts impliedTenantIdColumn). Kept where the parent key may be null or
-- there is none (events, raw_messages, jobs, usage_daily, ...).
ALTER TABLE "threads" DROP CONSTRAINT IF EXISTS "threads_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT IF EXISTS "messages_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "attachments" DROP CONSTRAINT IF EXISTS "attachments_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "message_refs" DROP CONSTRAINT IF EXISTS "message_refs_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "message_search" DROP CONSTRAINT IF EXISTS "message_search_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "mailbox_counts" DROP CONSTRAINT IF EXISTS "mailbox_counts_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "contacts" DROP CONSTRAINT IF EXISTS "contacts_tenant_id_tenants_id_fk";
