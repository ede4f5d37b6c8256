CREATE TABLE "contacts" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"address" text NOT NULL,
	"name" text,
	"notes_enc" "bytea",
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"blocked" boolean DEFAULT false NOT NULL,
	"first_contact_at" timestamp with time zone NOT NULL,
	"last_contact_at" timestamp with time zone NOT NULL,
	"received_count" integer DEFAULT 0 NOT NULL,
	"sent_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contacts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "contacts_tenant_inbox_address_key" UNIQUE("tenant_id","inbox_id","address")
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_tenant_id_inbox_id_inboxes_tenant_id_id_fk" FOREIGN KEY ("tenant_id","inbox_id") REFERENCES "public"."inboxes"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "contacts_inbox_last_idx" ON "contacts" USING btree ("tenant_id","inbox_id","last_contact_at","id");--> statement-breakpoint
-- Notes are sealed (AES-GCM output does not compress: 0012).
ALTER TABLE contacts ALTER COLUMN notes_enc SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Contacts follow the mail recipe (0003, 0020): the tenant, and an inbox key only its own inbox.
GRANT SELECT, INSERT, UPDATE, DELETE ON contacts TO mailroom_app;
--> statement-breakpoint
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY contacts_isolation ON contacts FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
-- The contacts of the mail already stored: senders of parsed received mail, recipients of sent mail.
INSERT INTO contacts (tenant_id, id, inbox_id, address, first_contact_at, last_contact_at, received_count, sent_count)
SELECT c.tenant_id, gen_random_uuid(), c.inbox_id, c.address, min(c.at), max(c.at),
       sum(c.received)::int, sum(c.sent)::int
FROM (
  SELECT m.tenant_id, m.inbox_id, lower(m.from_address) AS address, m.received_at AS at, 1 AS received, 0 AS sent
  FROM messages m
  WHERE m.direction = 'inbound' AND m.from_address IS NOT NULL AND m.from_address <> ''
  UNION ALL
  SELECT m.tenant_id, m.inbox_id, lower(r.address), m.received_at, 0, 1
  FROM messages m CROSS JOIN LATERAL unnest(m.to_addresses) AS r(address)
  WHERE m.direction = 'outbound' AND r.address <> ''
) c
GROUP BY c.tenant_id, c.inbox_id, c.address;
