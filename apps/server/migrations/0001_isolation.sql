-- Tenant isolation enforced by Postgres itself (DESIGN section 3).
-- Roles: mailroom_app runs every runtime query (NOSUPERUSER, NOBYPASSRLS, owns nothing);
-- mailroom_lookup owns the few SECURITY DEFINER functions that read across tenants and may
-- only read the global lookup columns through them. Neither can log in as the other.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailroom_app') THEN
    CREATE ROLE mailroom_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailroom_lookup') THEN
    CREATE ROLE mailroom_lookup NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO mailroom_app, mailroom_lookup;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, inboxes, api_keys, address_routes TO mailroom_app;
--> statement-breakpoint
GRANT SELECT ON tenants, api_keys, address_routes TO mailroom_lookup;
--> statement-breakpoint
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE inboxes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE inboxes FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE address_routes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE address_routes FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A tenant sees itself and its descendants; it may delete only descendants.
CREATE POLICY tenants_read ON tenants FOR SELECT TO mailroom_app
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors));
--> statement-breakpoint
CREATE POLICY tenants_insert ON tenants FOR INSERT TO mailroom_app
  WITH CHECK (id = nullif(current_setting('app.tenant_id', true), '')::uuid
              OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors));
--> statement-breakpoint
CREATE POLICY tenants_update ON tenants FOR UPDATE TO mailroom_app
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors))
  WITH CHECK (id = nullif(current_setting('app.tenant_id', true), '')::uuid
              OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors));
--> statement-breakpoint
CREATE POLICY tenants_delete ON tenants FOR DELETE TO mailroom_app
  USING (nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (ancestors));
--> statement-breakpoint
CREATE POLICY tenants_lookup ON tenants FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
-- Inbox-scoped requests (inbox keys) also set app.inbox_id: then only that inbox is visible.
CREATE POLICY inboxes_isolation ON inboxes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
              OR id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
                   OR id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY api_keys_isolation ON api_keys FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
              OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
                   OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY api_keys_lookup ON api_keys FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
CREATE POLICY address_routes_isolation ON address_routes FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
         AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
              OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid))
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
              AND (nullif(current_setting('app.inbox_id', true), '') IS NULL
                   OR inbox_id = nullif(current_setting('app.inbox_id', true), '')::uuid));
--> statement-breakpoint
CREATE POLICY address_routes_lookup ON address_routes FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
-- The tree is derived, never supplied: ancestors come from the parent row as the caller sees it
-- (under RLS), so a tenant can only create children under itself or its descendants.
CREATE FUNCTION mailroom_tenants_tree() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.ancestors IS DISTINCT FROM OLD.ancestors OR NEW.id <> OLD.id THEN
      RAISE EXCEPTION 'a tenant cannot be moved' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.parent_id IS NULL THEN
    NEW.ancestors := '{}'::uuid[];
  ELSE
    SELECT p.ancestors || p.id INTO NEW.ancestors FROM tenants p WHERE p.id = NEW.parent_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'parent tenant not found' USING ERRCODE = 'foreign_key_violation';
    END IF;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER tenants_tree BEFORE INSERT OR UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION mailroom_tenants_tree();
--> statement-breakpoint
CREATE INDEX tenants_ancestors_idx ON tenants USING gin (ancestors);
--> statement-breakpoint
-- Narrow cross-tenant lookups. Each returns only what its caller needs.
CREATE FUNCTION mailroom_authenticate(p_prefix text, p_hash text)
RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, inbox_id uuid, expires_at timestamptz, revoked_at timestamptz, tenant_suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.tenant_id, k.id, k.scope, k.inbox_id, k.expires_at, k.revoked_at,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
  WHERE k.prefix = p_prefix AND k.hash = p_hash
$$;
--> statement-breakpoint
CREATE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.tenant_id, r.inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM address_routes r JOIN tenants t ON t.id = r.tenant_id
  WHERE r.address = lower(p_address)
$$;
--> statement-breakpoint
-- For the operator's CLI only: never granted to the runtime role.
CREATE FUNCTION mailroom_admin_tenants()
RETURNS TABLE (id uuid, parent_id uuid, name text, status text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id, t.parent_id, t.name, t.status, t.created_at FROM tenants t
  ORDER BY cardinality(t.ancestors), t.created_at
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_authenticate(text, text) OWNER TO mailroom_lookup;
--> statement-breakpoint
ALTER FUNCTION mailroom_route(text) OWNER TO mailroom_lookup;
--> statement-breakpoint
ALTER FUNCTION mailroom_admin_tenants() OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_authenticate(text, text), mailroom_route(text), mailroom_admin_tenants() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_authenticate(text, text), mailroom_route(text) TO mailroom_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_admin_tenants() TO CURRENT_USER;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION mailroom_tenants_tree() FROM PUBLIC;
