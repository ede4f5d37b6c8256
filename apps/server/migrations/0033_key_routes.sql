-- A presented key's tenant, found without reading every tenant's keys. mailroom_authenticate looked a
-- key up by its public prefix in api_keys, a tenant table: on a Citus coordinator every key lookup
-- (each request of a key not kept in memory) ran on every shard, so its cost grew with the cluster
-- (11 ms against 0.3 ms for one shard, with 32 shards). key_routes maps a prefix to the tenants and
-- keys that have it, a global routing table like address_routes (a reference table on Citus, copied to
-- every node); the lookup reads it first, then each key's row by its tenant and id, on that tenant's
-- shard alone, then its tenant. On plain Postgres: two index lookups more. A route outliving its key (an inbox's keys
-- go with the inbox) leads to no row: the key is unknown, as before.
CREATE TABLE "key_routes" (
	"prefix" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key_id" uuid NOT NULL,
	CONSTRAINT "key_routes_prefix_tenant_id_key_id_pk" PRIMARY KEY("prefix","tenant_id","key_id")
);
--> statement-breakpoint
ALTER TABLE "key_routes" ADD CONSTRAINT "key_routes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "key_routes_tenant_key_idx" ON "key_routes" USING btree ("tenant_id","key_id");
--> statement-breakpoint
INSERT INTO key_routes (prefix, tenant_id, key_id) SELECT prefix, tenant_id, id FROM api_keys;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON key_routes TO mailroom_app;
--> statement-breakpoint
GRANT SELECT ON key_routes TO mailroom_lookup;
--> statement-breakpoint
ALTER TABLE key_routes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE key_routes FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY key_routes_isolation ON key_routes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY key_routes_lookup ON key_routes FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_authenticate(p_prefix text, p_hash text)
RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, inbox_id uuid, expires_at timestamptz, revoked_at timestamptz, tenant_suspended boolean, tenant_path uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_key uuid;
  k record;
BEGIN
  FOR v_tenant, v_key IN SELECT r.tenant_id, r.key_id FROM key_routes r WHERE r.prefix = p_prefix LOOP
    -- One table by its tenant's value: on Citus its shard alone, with a generic plan too.
    SELECT a.scope, a.inbox_id, a.expires_at, a.revoked_at INTO k
    FROM api_keys a WHERE a.tenant_id = v_tenant AND a.id = v_key AND a.hash = p_hash;
    IF FOUND THEN
      RETURN QUERY
      SELECT v_tenant, v_key, k.scope, k.inbox_id, k.expires_at, k.revoked_at,
             EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended'),
             t.ancestors || t.id
      FROM tenants t WHERE t.id = v_tenant;
    END IF;
  END LOOP;
END
$$
