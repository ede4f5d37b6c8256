-- A console session found on its tenant's shard. mailroom_console_session(hash) finds a session by
-- its token's hash alone: on a Citus coordinator every console request ran it on every shard. A
-- tenant session's token now carries its tenant (src/console/service.ts), and this lookup reads the
-- session by tenant and hash, then its key by tenant and id, then the tenant: one table a statement,
-- each naming the tenant (routed by Citus with any plan). The token's hash covers the tenant part, so
-- a token whose tenant is changed finds nothing. The hash-only lookup stays for tokens issued before
-- (a session lasts 12 hours at most).
CREATE FUNCTION mailroom_console_session(p_tenant uuid, p_token_hash text)
RETURNS TABLE (tenant_id uuid, session_id uuid, key_id uuid, key_scope text, key_expires_at timestamptz, key_revoked_at timestamptz,
               tenant_suspended boolean, created_at timestamptz, last_seen_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  s record;
  k record;
BEGIN
  SELECT x.id, x.key_id, x.created_at, x.last_seen_at, x.expires_at INTO s
  FROM console_sessions x WHERE x.tenant_id = p_tenant AND x.token_hash = p_token_hash;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT a.scope, a.expires_at, a.revoked_at INTO k FROM api_keys a WHERE a.tenant_id = p_tenant AND a.id = s.key_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT p_tenant, s.id, s.key_id, k.scope, k.expires_at, k.revoked_at,
         EXISTS (SELECT 1 FROM tenants x WHERE x.id = ANY (t.ancestors || t.id) AND x.status = 'suspended'),
         s.created_at, s.last_seen_at, s.expires_at
  FROM tenants t WHERE t.id = p_tenant;
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_console_session(uuid, text) OWNER TO mailroom_lookup
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_console_session(uuid, text) FROM PUBLIC
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_console_session(uuid, text) TO mailroom_app
