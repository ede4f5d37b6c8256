-- Each tenant's event counter moves out of tenants into a table of its own. On Citus, tenants is a
-- reference table, and every update of it takes the one shard's modification lock across the
-- cluster: every event of every tenant (each ingest batch, each send, each decision) took its ids
-- one transaction at a time, and an ingest batch that held that lock's shared form (its writes to
-- tables whose foreign key leads to tenants) while waiting for another batch's storage_usage row
-- deadlocked with that batch taking its ids (a 451 to the sender; admin/usage.test.ts on a cluster,
-- in one run of three or more once the schema changed at all). tenant_event_seqs is distributed by
-- tenant_id like the other tenant tables: a tenant's ids lock its own row on its own shard. Same
-- order as before: the row is locked when ids are taken, last in the transaction, until it commits.
CREATE TABLE tenant_event_seqs (
  tenant_id uuid NOT NULL,
  seq bigint DEFAULT 0 NOT NULL,
  CONSTRAINT tenant_event_seqs_pkey PRIMARY KEY (tenant_id)
)
--> statement-breakpoint
ALTER TABLE tenant_event_seqs ADD CONSTRAINT tenant_event_seqs_tenant_id_tenants_id_fk FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE cascade ON UPDATE no action
--> statement-breakpoint
INSERT INTO tenant_event_seqs (tenant_id, seq) SELECT id, event_seq FROM tenants WHERE event_seq > 0
--> statement-breakpoint
ALTER TABLE tenants DROP COLUMN event_seq
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON tenant_event_seqs TO mailroom_app
--> statement-breakpoint
ALTER TABLE tenant_event_seqs ENABLE ROW LEVEL SECURITY
--> statement-breakpoint
ALTER TABLE tenant_event_seqs FORCE ROW LEVEL SECURITY
--> statement-breakpoint
CREATE POLICY tenant_event_seqs_isolation ON tenant_event_seqs FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
