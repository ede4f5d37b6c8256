-- On a Citus coordinator an address without a route of its own (a domain's catch-all) was looked up on
-- every shard: the domain's global claim names its tenant, but the statement joined the claim to the
-- tenant's `domains` rows without a value for their tenant column, and Citus routes a statement only
-- by the value written for each distributed table. The claim is read first now, then the domain's row
-- alone by its tenant and id (on Citus the tenant's shard alone, with a generic plan too), then its
-- tenant (a reference table).
-- Otherwise the function of 0030 unchanged (same signature, result, owner and grants).
CREATE OR REPLACE FUNCTION mailroom_route(p_address text)
RETURNS TABLE (tenant_id uuid, inbox_id uuid, tenant_suspended boolean, tenant_path uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_domain uuid;
  v_inbox uuid;
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
  SELECT c.tenant_id, c.domain_id INTO v_tenant, v_domain
  FROM domain_claims c
  WHERE c.name = substring(lower(p_address) from '@([^@]*)$');
  IF v_tenant IS NULL THEN
    RETURN;
  END IF;
  -- One table by its tenant's value: on Citus its shard alone, with a generic plan too.
  SELECT d.catch_all_inbox_id INTO v_inbox
  FROM domains d WHERE d.tenant_id = v_tenant AND d.id = v_domain AND d.catch_all_inbox_id IS NOT NULL;
  IF v_inbox IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY
  SELECT v_tenant, v_inbox,
         EXISTS (SELECT 1 FROM tenants s WHERE s.id = ANY (t.ancestors || t.id) AND s.status = 'suspended'),
         t.ancestors || t.id
  FROM tenants t WHERE t.id = v_tenant;
END
$$
