-- A tenant's status, limits and the policies imposed on it are its parent's to set (or, for a
-- top-level tenant, which has no parent, the operator's). Until now only the API held to it: the row
-- policy tenants_update lets a transaction bound to a tenant update its own row (its name, its own
-- policies and metadata, its event counter), so a tenant could have lifted its own suspension, limits
-- or imposed policies through any statement that reached its row. Postgres refuses it now: the tree's
-- trigger (already run on every insert and update of tenants) refuses a change of those columns in a
-- transaction bound to the tenant itself, unless it says it is the operator's (app.operator, set by
-- the operator's change of a top-level tenant alone: tenancy/routes.ts; no tenant's request sets it),
-- as app.delete_root does for the deletion of a top-level tenant (0029). A parent's change is bound to
-- the parent: untouched.
CREATE OR REPLACE FUNCTION mailroom_tenants_tree() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.ancestors IS DISTINCT FROM OLD.ancestors OR NEW.id <> OLD.id THEN
      RAISE EXCEPTION 'a tenant cannot be moved' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.id = nullif(current_setting('app.tenant_id', true), '')::uuid
       AND coalesce(current_setting('app.operator', true), '') <> 'on'
       AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.limits IS DISTINCT FROM OLD.limits
            OR NEW.parent_policies IS DISTINCT FROM OLD.parent_policies) THEN
      RAISE EXCEPTION 'a tenant''s status, limits and imposed policies are set by its parent or the operator'
        USING ERRCODE = 'insufficient_privilege';
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
-- The operator's list of top-level tenants (GET /v1/tenants with the operator key), newest first, a
-- page after a position (epoch microseconds and id, as every list's cursor). Like
-- mailroom_admin_tenants (0001): read with mailroom_lookup's rights, granted to the owner only (the
-- server calls it on its owner connection), never to the runtime role.
CREATE FUNCTION mailroom_admin_root_tenants(p_limit integer, p_after_at bigint, p_after_id uuid)
RETURNS SETOF tenants
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT t.* FROM tenants t
    WHERE t.parent_id IS NULL
      AND (p_after_at IS NULL
           OR t.created_at < timestamptz 'epoch' + p_after_at * interval '1 microsecond'
           OR (t.created_at = timestamptz 'epoch' + p_after_at * interval '1 microsecond' AND t.id < p_after_id))
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT p_limit;
END $$;
--> statement-breakpoint
ALTER FUNCTION mailroom_admin_root_tenants(integer, bigint, uuid) OWNER TO mailroom_lookup;
--> statement-breakpoint
REVOKE ALL ON FUNCTION mailroom_admin_root_tenants(integer, bigint, uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION mailroom_admin_root_tenants(integer, bigint, uuid) TO CURRENT_USER;
