-- Every foreign key gets an index on its columns (catalog.test.ts now holds every table to it).
-- These four pointed at an inbox without one: deleting an inbox read all of its tenant's API keys,
-- sender rules, webhooks and domains to find the rows to cascade to or check.
CREATE INDEX "api_keys_inbox_idx" ON "api_keys" USING btree ("tenant_id","inbox_id");--> statement-breakpoint
CREATE INDEX "sender_rules_inbox_idx" ON "sender_rules" USING btree ("tenant_id","inbox_id");--> statement-breakpoint
CREATE INDEX "webhooks_inbox_idx" ON "webhooks" USING btree ("tenant_id","inbox_id");--> statement-breakpoint
CREATE INDEX "domains_catch_all_inbox_idx" ON "domains" USING btree ("tenant_id","catch_all_inbox_id");