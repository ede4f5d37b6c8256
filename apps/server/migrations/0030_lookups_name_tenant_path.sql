-- The two lookups the doors keep in memory (a presented key, an address's route) also return the path
-- of the tenant they found: its ancestors, then itself. A tenant suspended, resumed or deleted, or its
-- limits changed, is then announced as a change of its subtree, and each process forgets only what it
-- kept of that subtree (apikeys/key-memory.ts, smtp/recipient-routing.ts) instead of every tenant's
-- keys and routes. A tenant's path never changes (tenants are not moved), so a path kept is exact.
-- A function's result columns cannot change in place: each is dropped and made again, with the same
-- owner and grants as 0001, in the PL/pgSQL form Citus can plan (0025).
DROP FUNCTION mailroom_authenticate(text, text);
--> statement-breakpoint
CREATE FUNCTION mailroom_authenticate(p_prefix text, p_hash text)
RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, inbox_id uuid, expires_at timestamptz, revoked_at timestamptz, tenant_suspended boolean, tenant_path uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT k.tenant_id, k.id, k.scope, k.inbox_id, k.expires_at, k.revoked_at,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended'),
         t.ancestors || t.id
  FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
  WHERE k.prefix = p_prefix AND k.hash = p_hash;
END
$$
--> statement-breakpoint
DROP FUNCTION mailroom_route(text);
--> statement-breakpoint
CREATE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean, tenant_path uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.tenant_id, r.inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended'),
         t.ancestors || t.id
  FROM address_routes r JOIN tenants t ON t.id = r.tenant_id
  WHERE r.address = lower(p_address);
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT d.tenant_id, d.catch_all_inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended'),
         t.ancestors || t.id
  FROM domain_claims c
  JOIN domains d ON d.tenant_id = c.tenant_id AND d.id = c.domain_id
  JOIN tenants t ON t.id = d.tenant_id
  WHERE c.name = substring(lower(p_address) from '@([^@]*)$')
    AND d.catch_all_inbox_id IS NOT NULL;
END
$$
--> statement-breakpoint
ALTER FUNCTION mailroom_authenticate(text, text) OWNER TO mailroom_lookup;
--> statement-breakpoint
ALTER FUNCTION mailroom_route(text) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_authenticate(text, text), mailroom_route(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_authenticate(text, text), mailroom_route(text) TO mailroom_app;
