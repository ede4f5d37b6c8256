CREATE TABLE "drafts" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"body_enc" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drafts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "drafts" ADD CONSTRAINT "drafts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drafts" ADD CONSTRAINT "drafts_tenant_id_inbox_id_inboxes_tenant_id_id_fk" FOREIGN KEY ("tenant_id","inbox_id") REFERENCES "public"."inboxes"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "drafts_inbox_created_idx" ON "drafts" USING btree ("tenant_id","inbox_id","created_at","id");--> statement-breakpoint
-- Numbered 0024: 0023 is the mailbox work's (merged beside this one).
ALTER TABLE drafts ALTER COLUMN body_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Drafts follow the mail recipe: the tenant, and an inbox key only its own inbox's.
GRANT SELECT, INSERT, UPDATE, DELETE ON drafts TO mailroom_app;
--> statement-breakpoint
ALTER TABLE drafts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE drafts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY drafts_isolation ON drafts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
