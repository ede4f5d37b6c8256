CREATE TABLE "approvals" (
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reasons" text[] DEFAULT '{}'::text[] NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"send_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"decided_by_kind" text,
	"decided_by_tenant" uuid,
	"decided_by_key" uuid,
	"reason" text,
	"edited" boolean DEFAULT false NOT NULL,
	"draft_enc" "bytea" NOT NULL,
	"original_enc" "bytea",
	CONSTRAINT "approvals_tenant_id_message_id_pk" PRIMARY KEY("tenant_id","message_id")
);
--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_tenant_id_message_id_messages_tenant_id_id_fk" FOREIGN KEY ("tenant_id","message_id") REFERENCES "public"."messages"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_tenant_id_inbox_id_inboxes_tenant_id_id_fk" FOREIGN KEY ("tenant_id","inbox_id") REFERENCES "public"."inboxes"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approvals_inbox_idx" ON "approvals" USING btree ("tenant_id","inbox_id","requested_at");--> statement-breakpoint
CREATE INDEX "approvals_status_idx" ON "approvals" USING btree ("tenant_id","status","requested_at","message_id");--> statement-breakpoint
CREATE INDEX "approvals_expiry_idx" ON "approvals" USING btree ("expires_at") WHERE status = 'pending';--> statement-breakpoint
-- Sealed values (0012): AES-GCM output does not compress.
ALTER TABLE approvals ALTER COLUMN draft_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE approvals ALTER COLUMN original_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Approvals follow the mail recipe (an inbox key sees its own inbox's: the agent's own pending
-- mail), and an ancestor reads its descendants' (GET /v1/approvals, like the audit log in 0007).
-- Deciding happens inside the held message's tenant (Mailroom-Tenant for an ancestor).
GRANT SELECT, INSERT, UPDATE, DELETE ON approvals TO mailroom_app;
--> statement-breakpoint
ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE approvals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY approvals_isolation ON approvals FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY approvals_ancestor_read ON approvals FOR SELECT TO mailroom_app
  USING (nullif(current_setting('app.inbox_id', true), '') IS NULL
         AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = approvals.tenant_id AND nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (t.ancestors)));
--> statement-breakpoint
-- The expiry sweep finds the tenants with held mail past its time only through this function.
GRANT SELECT ON approvals TO mailroom_lookup;
--> statement-breakpoint
CREATE POLICY approvals_lookup ON approvals FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE FUNCTION mailroom_approval_expiry_targets(p_now timestamptz)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT a.tenant_id FROM approvals a WHERE a.status = 'pending' AND a.expires_at <= p_now
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_approval_expiry_targets(timestamptz) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_approval_expiry_targets(timestamptz) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_approval_expiry_targets(timestamptz) TO mailroom_app;
