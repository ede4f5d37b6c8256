-- Console sessions (src/console/tables.ts). A tenant-key session follows the plain tenant recipe;
--> statement-breakpoint
-- the request that carries its cookie does not know its tenant yet, so it is found by token hash
--> statement-breakpoint
-- through mailroom_console_session(), which returns the session with its key's and tenant's state.
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO mailroom_app;
--> statement-breakpoint
GRANT SELECT ON console_sessions TO mailroom_lookup;
--> statement-breakpoint
ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE console_sessions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY console_sessions_isolation ON console_sessions FOR ALL TO mailroom_app
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY console_sessions_lookup ON console_sessions FOR SELECT TO mailroom_lookup USING (true);
--> statement-breakpoint
-- Operator sessions belong to no tenant: the runtime role sees them only in a transaction that has
--> statement-breakpoint
-- no tenant set (withoutTenant), never from inside a tenant's request.
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON console_operator_sessions TO mailroom_app;
--> statement-breakpoint
ALTER TABLE console_operator_sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE console_operator_sessions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY console_operator_sessions_untenanted ON console_operator_sessions FOR ALL TO mailroom_app
  USING (nullif(current_setting('app.tenant_id', true), '') IS NULL)
  WITH CHECK (nullif(current_setting('app.tenant_id', true), '') IS NULL);
--> statement-breakpoint
CREATE FUNCTION mailroom_console_session(p_token_hash text)
RETURNS TABLE (tenant_id uuid, session_id uuid, key_id uuid, key_scope text, key_expires_at timestamptz, key_revoked_at timestamptz,
               tenant_suspended boolean, created_at timestamptz, last_seen_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT s.tenant_id, s.id, k.id, k.scope, k.expires_at, k.revoked_at,
         EXISTS (SELECT 1 FROM tenants x WHERE x.id = ANY (t.ancestors || t.id) AND x.status = 'suspended'),
         s.created_at, s.last_seen_at, s.expires_at
  FROM console_sessions s
  JOIN api_keys k ON k.tenant_id = s.tenant_id AND k.id = s.key_id
  JOIN tenants t ON t.id = s.tenant_id
  WHERE s.token_hash = p_token_hash;
END
$$;
--> statement-breakpoint
ALTER FUNCTION mailroom_console_session(text) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_console_session(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_console_session(text) TO mailroom_app;
