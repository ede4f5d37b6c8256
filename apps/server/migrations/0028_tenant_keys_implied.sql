-- The tables every received message writes (threads, messages, attachments, message_refs,
-- message_search, mailbox_counts, contacts) lose their own foreign key into tenants: each hangs from
-- an inbox or a message by a NOT NULL composite key holding tenant_id, which already proves the
-- tenant exists and deletes the row with its parent. The dropped keys' checks looked up and locked
-- the tenant's row once more per row inserted (src/db/columns.ts impliedTenantIdColumn). Tables off
-- that path keep theirs. Deleting a tenant deletes its inboxes before its row (tenancy/service.ts
-- deleteTenant), so its mail goes before its raw copies whatever order Postgres runs the cascades in.
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
--> statement-breakpoint
-- On Citus, a distribution that stopped half-way keeps the keys it set aside in a list and adds them
-- back on its next run (src/db/citus.ts distributeSchema): these must not come back from it.
DO $$
BEGIN
  IF to_regclass('drizzle.mailroom_citus_pending_fks') IS NOT NULL THEN
    DELETE FROM drizzle.mailroom_citus_pending_fks WHERE conname IN (
      'threads_tenant_id_tenants_id_fk', 'messages_tenant_id_tenants_id_fk', 'attachments_tenant_id_tenants_id_fk',
      'message_refs_tenant_id_tenants_id_fk', 'message_search_tenant_id_tenants_id_fk',
      'mailbox_counts_tenant_id_tenants_id_fk', 'contacts_tenant_id_tenants_id_fk');
  END IF;
END
$$;
