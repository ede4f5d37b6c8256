-- The two lookups every received message makes (address -> inbox at RCPT, the limit chain at
-- commit) were SQL functions: SECURITY DEFINER keeps them from being inlined, so Postgres planned
-- their bodies on every call (about 1 ms for mailroom_route). The same queries in PL/pgSQL keep
-- their plans for the session. Same signatures, same results, same owner and grants.
CREATE OR REPLACE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.tenant_id, r.inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM address_routes r JOIN tenants t ON t.id = r.tenant_id
  WHERE r.address = lower(p_address)
  UNION ALL
  SELECT d.tenant_id, d.catch_all_inbox_id,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended')
  FROM domain_claims c
  JOIN domains d ON d.tenant_id = c.tenant_id AND d.id = c.domain_id
  JOIN tenants t ON t.id = d.tenant_id
  WHERE c.name = substring(lower(p_address) from '@([^@]*)$')
    AND d.catch_all_inbox_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM address_routes r2 WHERE r2.address = lower(p_address));
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mailroom_limit_chain(p_tenant uuid)
RETURNS TABLE (limits jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT a.limits FROM tenants me JOIN tenants a ON (a.id = me.id OR a.id = ANY (me.ancestors))
  WHERE me.id = p_tenant
    AND (me.id = nullif(current_setting('app.tenant_id', true), '')::uuid
         OR nullif(current_setting('app.tenant_id', true), '')::uuid = ANY (me.ancestors));
END
$$;
